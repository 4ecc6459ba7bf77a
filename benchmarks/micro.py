"""What the micro-benchmarks without Flink (sink_writer.py, source_stages.py) share: their broker and command line."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from connector.admin import PulsarAdmin
from devtools.pulsar_standalone import Broker, scratch

BROKER = Broker(name="micro-bench", port=24650, web_port=24080, deduplication=True)


def arguments(description: str) -> argparse.Namespace:
    """--records (default 200,000) and --size (bytes, default 100)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=100)
    return parser.parse_args()


@contextmanager
def micro_broker() -> Iterator[PulsarAdmin]:
    """BROKER, as `devtools.pulsar_standalone.scratch` leaves it, and its admin API."""
    with scratch(BROKER):
        yield PulsarAdmin(BROKER.admin_url)
