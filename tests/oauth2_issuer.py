"""A tiny OAuth2 issuer for tests: OpenID discovery plus a client-credentials token endpoint, in a thread.

    with OAuth2Issuer(client_id="flink", client_secret="s3cret", access_token=jwt) as issuer:
        issuer.url              # http://127.0.0.1:<port> (https when given a certificate)
        issuer.token_requests   # how many tokens it has handed out

The token endpoint answers a form POST with grant_type=client_credentials and the right client_id and
client_secret with `{"access_token": access_token, "token_type": "Bearer", "expires_in": 3600}`, anything
else with HTTP 401 `{"error": "invalid_client"}`, as a real issuer does.
"""

from __future__ import annotations

import json
import ssl
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class OAuth2Issuer:
    def __init__(self, client_id: str, client_secret: str, access_token: str,
                 certificate: tuple[str, str] | None = None) -> None:
        """`certificate` is (cert file, key file) to serve https; plain http without it."""
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token = access_token
        self.token_requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*certificate)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="oauth2-issuer", daemon=True)

    def __enter__(self) -> OAuth2Issuer:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _grant(self, form: dict[str, str]) -> dict[str, object] | None:
        """The token response for a client-credentials form, or None when the client is not known."""
        if (form.get("grant_type") != "client_credentials" or form.get("client_id") != self.client_id
                or form.get("client_secret") != self.client_secret):
            return None
        self.token_requests += 1
        return {"access_token": self.access_token, "token_type": "Bearer", "expires_in": 3600}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    self._reply(200, {"issuer": issuer.url, "token_endpoint": issuer.url + "/token"})
                else:
                    self._reply(404, {"error": "not_found"})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                form = dict(urllib.parse.parse_qsl(body))
                granted = issuer._grant(form) if self.path == "/token" else None
                if granted is None:
                    self._reply(401, {"error": "invalid_client"})
                else:
                    self._reply(200, granted)

            def _reply(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
                pass

        return Handler
