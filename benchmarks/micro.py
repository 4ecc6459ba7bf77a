"""What the micro-benchmarks without Flink (sink_writer.py, source_stages.py) share: their broker and command line."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from connector.admin import PulsarAdmin
from devtools.pulsar_standalone import Broker, start, wipe

BROKER = Broker(name="micro-bench", port=24650, web_port=24080, deduplication=True)


def arguments(description: str) -> argparse.Namespace:
    """--records (default 200,000) and --size (bytes, default 100)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=100)
    return parser.parse_args()


@contextmanager
def micro_broker() -> Iterator[PulsarAdmin]:
    """BROKER, started unless it runs already (then left running); one started here starts empty and is stopped
    and emptied at the end (every figure writes fresh topics)."""
    was_running = BROKER.pid() is not None
    if not was_running:
        wipe(BROKER)
    start(BROKER)
    try:
        yield PulsarAdmin(BROKER.admin_url)
    finally:
        if not was_running:
            wipe(BROKER)
