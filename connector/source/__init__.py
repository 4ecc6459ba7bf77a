"""The exactly-once Pulsar source: `PulsarSource.builder()...build().create_stream(env)`."""

from connector.source.bad_message import BadMessagePolicy
from connector.source.builder import PulsarSource, PulsarSourceBuilder
from connector.source.cursor import StartCursor, StopCursor
from connector.source.reader import SplitReadError
from connector.source.stall import SplitStalledError

__all__ = ["BadMessagePolicy", "PulsarSource", "PulsarSourceBuilder", "SplitReadError", "SplitStalledError",
           "StartCursor", "StopCursor"]
