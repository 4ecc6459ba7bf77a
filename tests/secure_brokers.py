"""The brokers of the security tests, and a token supplier for them.

`secure_broker_token` is what `PulsarSecurity(token_supplier=...)` wants: a module-level function, pickled by
reference and called wherever the connector connects, in the test process and on the Flink Python workers.
"""

from __future__ import annotations

from devtools.pulsar_standalone import Broker

SECURE = Broker(name="secure", port=22650, web_port=22080, auth_token=True, tls=True)
MTLS = Broker(name="mtls", port=22750, web_port=22180, tls=True, tls_client_auth=True)


def secure_broker_token() -> str:
    """The SECURE broker's admin token, read from its security folder at every call."""
    return (SECURE.security_dir / "admin.token").read_text().strip()
