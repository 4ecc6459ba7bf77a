"""Authentication and TLS for the Pulsar binary client and the admin REST API, as one picklable setting.

    PulsarSecurity(token="eyJ...")                         # a JWT as a string
    PulsarSecurity(token_file="/run/secrets/pulsar.jwt")   # read at every connection (rotated files work)
    PulsarSecurity(token_supplier=my_module.fetch_token)   # a module-level function returning the JWT
    PulsarSecurity(oauth2=OAuth2ClientCredentials(issuer_url=..., private_key="/path/credentials.json",
                                                  audience=...))
    PulsarSecurity(tls_trust_certs_file="ca.pem", tls_certificate_file="client.pem", tls_key_file="client.key")

The same object configures `pulsar.Client` (`client_kwargs`) and the admin calls (`admin_headers`,
`ssl_context`), so both always present the same credentials. Secrets never appear in `repr` or in error
messages: a job graph, a log line or an exception shows at most "token=<hidden>".
"""

from __future__ import annotations

import json
import ssl
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulsar


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

    def fetch_token(self, context: ssl.SSLContext | None, timeout_s: float) -> str:
        """An access token from the issuer (discovered via .well-known/openid-configuration)."""
        with open(self.private_key.removeprefix("file://"), encoding="utf-8") as file:
            credentials = json.load(file)
        well_known = self.issuer_url.rstrip("/") + "/.well-known/openid-configuration"
        with urllib.request.urlopen(well_known, timeout=timeout_s, context=context) as response:
            token_endpoint = json.load(response)["token_endpoint"]
        form = {"grant_type": "client_credentials", "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"]}
        if self.audience:
            form["audience"] = self.audience
        if self.scope:
            form["scope"] = self.scope
        request = urllib.request.Request(token_endpoint, data=urllib.parse.urlencode(form).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=timeout_s, context=context) as response:
            return str(json.load(response)["access_token"])


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
            raise ValueError(f"authentication: choose one of token, token_file, token_supplier, oauth2; "
                             f"got {', '.join(chosen)}")
        if bool(self.tls_certificate_file) != bool(self.tls_key_file):
            raise ValueError("tls: tls_certificate_file and tls_key_file go together (mutual TLS)")
        if self.token_supplier is not None and getattr(self.token_supplier, "__name__", "") == "<lambda>":
            raise ValueError("authentication: token_supplier must be a module-level function (it is pickled "
                             "to every Flink worker), not a lambda")

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
        token = self.current_token()
        if token is None and self.oauth2 is not None:
            token = self.oauth2.fetch_token(self.ssl_context(), timeout_s)
        return {"Authorization": f"Bearer {token}"} if token else {}
