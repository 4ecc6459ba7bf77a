"""Authentication and TLS for the Pulsar binary client and the admin REST API, as one picklable setting.

    PulsarSecurity(token="eyJ...")                         # a JWT as a string
    PulsarSecurity(token_file="/run/secrets/pulsar.jwt")   # read at every connection (rotated files work)
    PulsarSecurity(token_supplier=my_module.fetch_token)   # a module-level function returning the JWT
    PulsarSecurity(oauth2=OAuth2ClientCredentials(issuer_url=..., private_key="/path/credentials.json",
                                                  audience=...))
    PulsarSecurity(tls_trust_certs_file="ca.pem", tls_certificate_file="client.pem", tls_key_file="client.key")

The same object configures `pulsar.Client` (`client_kwargs`) and the admin calls (`admin_headers`,
`ssl_context`), so both always present the same credentials. The admin calls get OAuth2 access tokens from
the issuer themselves (reused until a minute before they expire); an issuer refusing the client raises
`PulsarAuthenticationError` ("authentication failed: OAuth2 issuer ... refused client ..."). Secrets never
appear in `repr` or in error messages: a job graph, a log line or an exception shows at most "token=<hidden>".
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cloudpickle
import pulsar

from connector.errors import PulsarAuthenticationError, PulsarConfigError


# Access tokens the admin calls got from OAuth2 issuers, per credentials: (token, monotonic time to renew at).
_OAUTH2_TOKENS: dict[OAuth2ClientCredentials, tuple[str, float]] = {}
_OAUTH2_TOKENS_LOCK = threading.Lock()


@dataclass(frozen=True)
class OAuth2ClientCredentials:
    """Pulsar's OAuth2 client-credentials flow; `private_key` is the path of the JSON credentials file
    (`{"client_id": ..., "client_secret": ...}`), as for the Java and C++ clients."""

    issuer_url: str
    private_key: str
    audience: str | None = None
    scope: str | None = None

    def params(self) -> str:
        values = {"type": "client_credentials", "issuer_url": self.issuer_url, "private_key": self.private_key}
        if self.audience:
            values["audience"] = self.audience
        if self.scope:
            values["scope"] = self.scope
        return json.dumps(values)

    def cached_token(self) -> str | None:
        """The access token this process last fetched for these credentials, while it has a minute left."""
        with _OAUTH2_TOKENS_LOCK:
            token, renew_at = _OAUTH2_TOKENS.get(self, ("", 0.0))
        return token if token and time.monotonic() < renew_at else None

    def fetch_token(self, context: ssl.SSLContext | None, timeout_s: float) -> str:
        """A new access token from the issuer (discovered via .well-known/openid-configuration), remembered for
        `cached_token`. Raises `PulsarAuthenticationError` naming the issuer (never the secret) when the
        credentials file is unusable, the issuer is unreachable or it refuses the client."""
        client_id, client_secret = self._credentials()
        well_known = self.issuer_url.rstrip("/") + "/.well-known/openid-configuration"
        token_endpoint = str(_issuer_call(urllib.request.Request(well_known), context, timeout_s)["token_endpoint"])
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        if self.audience:
            form["audience"] = self.audience
        if self.scope:
            form["scope"] = self.scope
        request = urllib.request.Request(token_endpoint, data=urllib.parse.urlencode(form).encode(), method="POST")
        granted = _issuer_call(request, context, timeout_s, client_id)
        if not granted.get("access_token"):
            raise PulsarAuthenticationError(f"authentication failed: OAuth2 issuer {token_endpoint} returned no "
                                            f"access_token for client {client_id!r}")
        token = str(granted["access_token"])
        if "expires_in" in granted:
            with _OAUTH2_TOKENS_LOCK:
                _OAUTH2_TOKENS[self] = token, time.monotonic() + float(granted["expires_in"]) - 60
        return token

    def _credentials(self) -> tuple[str, str]:
        """(client_id, client_secret) from the JSON credentials file."""
        path = self.private_key.removeprefix("file://")
        try:
            with open(path, encoding="utf-8") as file:
                credentials = json.load(file)
            return str(credentials["client_id"]), str(credentials["client_secret"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise PulsarAuthenticationError(f"authentication failed: OAuth2 credentials file {path} has no usable "
                                            f"client_id and client_secret ({type(error).__name__})") from None


def _issuer_call(request: urllib.request.Request, context: ssl.SSLContext | None, timeout_s: float,
                 client_id: str | None = None) -> dict[str, Any]:
    """The JSON object an OAuth2 issuer answers `request` with; its refusals as `PulsarAuthenticationError`."""
    try:
        with urllib.request.urlopen(request, timeout=timeout_s, context=context) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:
        who = f" client {client_id!r}" if client_id else ""
        raise PulsarAuthenticationError(f"authentication failed: OAuth2 issuer {request.full_url} refused{who}: "
                                        f"HTTP {error.code} {_oauth2_error(error)}") from None
    except (urllib.error.URLError, OSError) as error:
        raise PulsarAuthenticationError(f"authentication failed: OAuth2 issuer {request.full_url} not reachable "
                                        f"({getattr(error, 'reason', error)})") from None
    except ValueError:
        raise PulsarAuthenticationError(f"authentication failed: OAuth2 issuer {request.full_url} did not answer "
                                        f"JSON") from None
    if not isinstance(body, dict):
        raise PulsarAuthenticationError(f"authentication failed: OAuth2 issuer {request.full_url} answered "
                                        f"{type(body).__name__}, not a JSON object")
    return body


def _oauth2_error(error: urllib.error.HTTPError) -> str:
    """The `error` (and `error_description`) of an OAuth2 error response, else the HTTP reason."""
    try:
        body = json.loads(error.read().decode(errors="replace"))
        return " ".join(str(body[key]) for key in ("error", "error_description") if body.get(key))
    except (ValueError, AttributeError, TypeError):
        return str(error.reason)


@dataclass(frozen=True)
class PulsarSecurity:
    token: str | None = field(default=None, repr=False)
    token_file: str | None = None
    token_supplier: Callable[[], str] | None = field(default=None, repr=False)
    oauth2: OAuth2ClientCredentials | None = None
    tls_trust_certs_file: str | None = None
    tls_validate_hostname: bool = True
    tls_allow_insecure_connection: bool = False
    tls_certificate_file: str | None = None
    tls_key_file: str | None = None

    def __post_init__(self) -> None:
        chosen = [name for name in ("token", "token_file", "token_supplier", "oauth2") if getattr(self, name)]
        if len(chosen) > 1:
            raise PulsarConfigError(f"authentication: choose one of token, token_file, token_supplier, oauth2; "
                                    f"got {', '.join(chosen)}")
        if bool(self.tls_certificate_file) != bool(self.tls_key_file):
            raise PulsarConfigError("tls: tls_certificate_file and tls_key_file go together (mutual TLS)")
        if self.token_supplier is not None:
            _check_supplier(self.token_supplier)

    def __repr__(self) -> str:
        shown = {"token": "<hidden>" if self.token else None,
                 "token_file": self.token_file,
                 "token_supplier": "<function>" if self.token_supplier else None,
                 "oauth2": self.oauth2 and f"OAuth2({self.oauth2.issuer_url})",
                 "tls_trust_certs_file": self.tls_trust_certs_file,
                 "tls_certificate_file": self.tls_certificate_file}
        return "PulsarSecurity(" + ", ".join(f"{k}={v}" for k, v in shown.items() if v) + ")"

    def current_token(self) -> str | None:
        """The JWT to present now (token files and suppliers are asked again each time)."""
        if self.token:
            return self.token
        if self.token_file:
            with open(self.token_file.removeprefix("file://"), encoding="utf-8") as file:
                return file.read().strip()
        if self.token_supplier is not None:
            return self.token_supplier()
        return None

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `pulsar.Client`."""
        kwargs: dict[str, Any] = {}
        if self.token or self.token_file or self.token_supplier:
            kwargs["authentication"] = pulsar.AuthenticationToken(
                self.token or (lambda: self.current_token()))
        elif self.oauth2 is not None:
            kwargs["authentication"] = pulsar.AuthenticationOauth2(self.oauth2.params())
        elif self.tls_certificate_file:
            kwargs["authentication"] = pulsar.AuthenticationTLS(self.tls_certificate_file, self.tls_key_file)
        if self.tls_trust_certs_file:
            kwargs["tls_trust_certs_file_path"] = self.tls_trust_certs_file
        kwargs["tls_validate_hostname"] = self.tls_validate_hostname
        kwargs["tls_allow_insecure_connection"] = self.tls_allow_insecure_connection
        if self.tls_certificate_file:
            kwargs["tls_certificate_file_path"] = self.tls_certificate_file
            kwargs["tls_private_key_file_path"] = self.tls_key_file
        return kwargs

    def ssl_context(self) -> ssl.SSLContext:
        """For https admin calls: the trusted CA, hostname checks, and the client certificate for mTLS."""
        context = ssl.create_default_context(cafile=self.tls_trust_certs_file)
        if self.tls_allow_insecure_connection:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif not self.tls_validate_hostname:
            context.check_hostname = False
        if self.tls_certificate_file:
            context.load_cert_chain(self.tls_certificate_file, self.tls_key_file)
        return context

    def admin_headers(self, timeout_s: float) -> dict[str, str]:
        """The Authorization header for an admin call: the token, or an access token from the OAuth2 issuer
        (fetched with this object's TLS settings, as the binary client does). Raises `PulsarAuthenticationError`
        when the issuer does not grant one."""
        token = self.current_token()
        if token is None and self.oauth2 is not None:
            token = self.oauth2.cached_token() or self.oauth2.fetch_token(self.ssl_context(), timeout_s)
        return {"Authorization": f"Bearer {token}"} if token else {}


def _check_supplier(supplier: Callable[[], str]) -> None:
    """PyFlink ships the connector's settings to its Python workers with cloudpickle: refuse at set-up what
    cannot travel (or would carry a token in its closure), not on the workers."""
    if getattr(supplier, "__name__", "") == "<lambda>":
        raise PulsarConfigError("authentication: token_supplier must be a module-level function (it is pickled "
                                "to every Flink worker), not a lambda")
    try:
        cloudpickle.dumps(supplier)
    except Exception as error:  # whatever the pickler raises: TypeError, PicklingError, AttributeError, ...
        name = getattr(supplier, "__qualname__", type(supplier).__name__)
        raise PulsarConfigError(f"authentication: token_supplier {name} cannot be pickled to the Flink workers "
                                f"({type(error).__name__}: {error}); pass a module-level function") from None
