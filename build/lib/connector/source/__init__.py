"""The exactly-once Pulsar source: `PulsarSource.builder()...build().create_stream(env)`."""

from connector.errors import SplitReadError, SplitStalledError
from connector.source.bad_message import BadMessagePolicy
from connector.source.builder import PulsarSource, PulsarSourceBuilder
from connector.source.cursor import StartCursor, StopCursor

__all__ = ["BadMessagePolicy", "PulsarSource", "PulsarSourceBuilder", "SplitReadError", "SplitStalledError",
           "StartCursor", "StopCursor"]
