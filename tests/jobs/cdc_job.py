"""The change-data-capture SQL job of `tests.integration.cdc_helpers` for a standalone cluster (`flink run -py` this
file): region totals over the change topics of customers and orders, written to a results topic as upserts. Runs
until cancelled."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pyflink.table import StreamTableEnvironment

if not __package__:  # run as a script: the project root holds the `tests` package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.integration.cdc_helpers import register_change_tables, write_region_totals  # noqa: E402
from tests.jobs.exactly_once_source_job import checkpointed_env  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    for flag in ("--service-url", "--admin-url", "--customers-topic", "--orders-topic", "--results-topic"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--checkpoint-ms", type=int, default=1000)
    args = parser.parse_args()
    env = checkpointed_env(parallelism=2, checkpoint_ms=args.checkpoint_ms)
    t_env = StreamTableEnvironment.create(env)
    register_change_tables(t_env, args.service_url, args.admin_url, args.customers_topic, args.orders_topic)
    write_region_totals(t_env, args.service_url, args.admin_url, args.results_topic)
    env.execute("region totals over change topics")


if __name__ == "__main__":
    main()
