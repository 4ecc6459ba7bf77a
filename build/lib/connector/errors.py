"""The connector's exceptions: one hierarchy. Every message names the thing (option, topic, split, message) and the
cause. Catch `PulsarConnectorError` for all of them.

    PulsarConnectorError (a RuntimeError)
    ├── PulsarConfigError (also a ValueError): an option, topic name, cursor or schema refused where it is made,
    │   │   before any I/O
    │   └── UnsupportedAvroType: an Avro type Flink has no counterpart for
    ├── PulsarAdminError: an admin REST call failed (`status`: the HTTP status, None when unreachable)
    ├── PulsarAuthenticationError: credentials refused or not obtained (e.g. by an OAuth2 issuer)
    ├── PulsarSourceError: reading failed
    │   ├── SplitReadError: a split's reader could not open, seek or read
    │   ├── SplitStalledError: a split received nothing for its stall timeout while messages waited
    │   └── MessageDecodeError (also a ValueError): a payload did not decode (the bad-message policy decides)
    └── PulsarSinkError: writing failed (producer, send, acknowledgement)
"""

from __future__ import annotations


class PulsarConnectorError(RuntimeError):
    """Base of every error the connector raises on purpose."""


class PulsarConfigError(PulsarConnectorError, ValueError):
    """An option, topic name, cursor or schema refused where it is made, before any I/O."""


class UnsupportedAvroType(PulsarConfigError):
    """An Avro schema has a type with no Flink counterpart; the message names the field path."""


class PulsarAdminError(PulsarConnectorError):
    """An admin call failed; `status` is the HTTP status, or None when the broker was not reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PulsarAuthenticationError(PulsarConnectorError):
    """Credentials could not be obtained, e.g. the OAuth2 issuer refused the client; the message says where."""


class PulsarSourceError(PulsarConnectorError):
    """Reading from Pulsar failed; the message names the topic partition (split) and the cause."""


class SplitReadError(PulsarSourceError):
    """A split's reader could not be opened, positioned or read."""


class SplitStalledError(PulsarSourceError):
    """A split received nothing for the stall timeout while its partition held messages after its position."""


class MessageDecodeError(PulsarSourceError, ValueError):
    """A message's payload did not decode; names the topic partition and MessageId."""


class PulsarSinkError(PulsarConnectorError):
    """Writing to Pulsar failed; the message names the topic and the cause."""
