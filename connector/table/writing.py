"""Writing a changelog table (an aggregate, a join, a query with updates or deletes) to Pulsar as upserts.

    write_upserts(t_env, t_env.sql_query("SELECT customer, SUM(cents) AS cents FROM orders GROUP BY customer"),
                  PulsarSink.builder()...set_serialization_schema(JsonRowSchema(row_type)).build(), ["customer"])

The table's changelog (`to_changelog_stream`) becomes upsert messages (`connector.table.upsert`) that the sink
writes: the whole row as the value, the primary key as the message key, a tombstone for a delete and before each
update (`connector.table.upsert` says why). Upserts are
idempotent per key, so under AT_LEAST_ONCE a replay after a failure leaves the same latest row per key once the job
has caught up; intermediate rows may be written twice. EXACTLY_ONCE is refused: broker deduplication drops a
replayed message by its producer's sequence id, which is only right when a replay yields each producer's messages
in the same order, and a changelog after a shuffle interleaves its keys differently on every run.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyflink.common import Types
from pyflink.datastream import DataStream
from pyflink.datastream.connectors.base import DeliveryGuarantee
from pyflink.table import StreamTableEnvironment, Table

from connector.errors import PulsarConfigError
from connector.sink.builder import PulsarSink
from connector.table.upsert import UpsertMessages, check_primary_key, kind_of_type_root


def write_upserts(t_env: StreamTableEnvironment, table: Table, sink: PulsarSink,
                  primary_key: Sequence[str]) -> DataStream:
    """Write `table`'s changelog with `sink` as upserts keyed by `primary_key` (columns of type STRING, INT, LONG or
    BOOLEAN); the sink's serialization schema serializes the table's rows. Returns the sink's stream."""
    if sink.config.delivery_guarantee == DeliveryGuarantee.EXACTLY_ONCE:
        raise PulsarConfigError(
            "upsert writes: deliveryGuarantee EXACTLY_ONCE is not offered. Broker deduplication drops a replayed "
            "message by its producer's sequence id, which needs every replay to yield a producer's messages in the "
            "same order, and a table's changelog after a shuffle interleaves its keys differently on every run. "
            "Use AT_LEAST_ONCE: upserts are idempotent per key, so the latest row per key is the same after a replay")
    columns = [(str(column.getName()), kind_of_type_root(column.getDataType().getLogicalType().getTypeRoot().name()))
               for column in table._j_table.getResolvedSchema().getColumns()]
    check_primary_key(primary_key, columns)
    names = [name for name, _ in columns]
    messages = t_env.to_changelog_stream(table).flat_map(UpsertMessages(names, primary_key),
                                                         output_type=Types.PICKLED_BYTE_ARRAY())
    return sink.sink_to(messages.name(f"{sink.config.sink_name}: upserts"))
