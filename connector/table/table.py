"""`PulsarTable`: Pulsar topics as a table of a PyFlink `StreamTableEnvironment`, for the Table API and SQL.

    orders = (PulsarTable.builder()
              .set_source(PulsarSource.builder()
                          .set_service_url("pulsar://127.0.0.1:6650")
                          .set_admin_url("http://127.0.0.1:8080")
                          .set_topics("orders")
                          .set_deserialization_schema_from_registry())
              .set_metadata_columns("publish_time", "key")
              .set_watermark("publish_time", max_out_of_orderness_ms=5000)
              .build())
    orders.register(t_env, "orders")
    t_env.execute_sql("SELECT ... FROM orders GROUP BY TUMBLE(publish_time, INTERVAL '1' MINUTE)")

Columns: the payload's fields (`connector.table.rows`), then the metadata columns (`connector.table.metadata`). The
table is the `PulsarSource`'s stream converted with `from_data_stream`, so every source option applies (cursors,
bounded reads for batch mode, bad-message policy, security). `build()` checks without I/O; `to_table` and
`register` check the broker (the topics, their registered schema) and raise `PulsarConfigError` naming the cause.

Event time (`set_watermark`) is tracked per split by the readers, which write into each row the watermark it
allows (`connector.source.watermarks`); the table's WATERMARK is that hidden column, so reading a backlog split by
split makes no record late. A split whose polls found nothing for the idle timeout does not hold its subtask's
watermark back; a reader subtask that sends no row at all (every split of it idle) does hold the job's back until
one of its splits gets a record (the watermark travels in the rows).

An upsert table (`set_upsert_key`) is the stream converted with `from_changelog_stream` in upsert mode, with that
primary key: a message upserts its key, a tombstone deletes it (`connector.table.upsert`), so a query sees the
latest row per key. A changelog payload (e.g. `DebeziumJsonSchema`: inserts, updates and deletes of a database
table) is converted with `from_changelog_stream` in the all-kinds mode, so aggregates retract what is updated or
deleted; with an upsert key (the table's primary key) each change upserts or deletes its key instead, which makes a
change delivered twice count once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pyflink.common.typeinfo import TypeInformation
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.java_gateway import get_gateway
from pyflink.table import ChangelogMode, Schema, StreamTableEnvironment, Table
from pyflink.table.expressions import col

from connector.errors import PulsarAdminError, PulsarConfigError
from connector.formats.from_registry import FromRegistry
from connector.formats.schema_registry import registered_schema
from connector.source.builder import DEFAULT_SOURCE_NAME, PulsarSource, PulsarSourceBuilder
from connector.source.watermarks import WatermarkColumns
from connector.table.metadata import METADATA
from connector.table.rows import WATERMARK_COLUMN, TableRows

DEFAULT_IDLE_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class Watermark:
    """Event time from `column` (a timestamp column); watermarks `max_out_of_orderness_ms` behind the split furthest
    behind; a split whose polls found nothing for `idle_timeout_ms` does not hold them back
    (`connector.source.watermarks`)."""

    column: str
    max_out_of_orderness_ms: int
    idle_timeout_ms: int = DEFAULT_IDLE_TIMEOUT_MS


@dataclass(frozen=True)
class PulsarTable:
    """A validated table definition: a source whose deserializer makes `TableRows`, and an optional watermark."""

    source: PulsarSource
    watermark: Watermark | None = None
    upsert_key: tuple[str, ...] = ()

    @staticmethod
    def builder() -> PulsarTableBuilder:
        return PulsarTableBuilder()

    @property
    def rows(self) -> TableRows:
        rows = self.source.deserialization_schema
        assert isinstance(rows, TableRows), "PulsarTableBuilder sets the source's deserializer"
        return rows

    def check_broker(self) -> PulsarTable:
        """The table with its source checked against the broker (`PulsarSource.check_broker`) and its columns known:
        raises `PulsarConfigError` for a missing topic, a topic read "from the registry" with no registered schema,
        a payload without a type, a metadata column named like a payload column, or a watermark column that is
        missing or not a timestamp."""
        if isinstance(self.rows.payload, FromRegistry):
            topic = self.source.subscription.topics[0]
            try:
                registered = registered_schema(self.source.new_admin(), topic)
            except PulsarAdminError as error:
                raise PulsarConfigError(f"adminUrl: could not read the registered schema of {topic}: {error}") \
                    from None
            if registered is None:
                raise PulsarConfigError(f"topic {topic} has no registered schema, so its columns are unknown: give "
                                        "the source a typed deserialization schema (e.g. JsonRowSchema(row_type), "
                                        "BytesSchema() for one BYTES column)")
        checked = replace(self, source=self.source.check_broker())
        columns = checked.sql_columns()
        if self.watermark is None:
            return checked
        names = [name for name, _ in columns]
        stamps = WatermarkColumns(time_index=names.index(self.watermark.column), watermark_index=len(names) - 1,
                                  instant=columns[-1][1].startswith("TIMESTAMP_LTZ"),
                                  max_out_of_orderness_ms=self.watermark.max_out_of_orderness_ms,
                                  idle_timeout_ms=self.watermark.idle_timeout_ms)
        return replace(checked, source=replace(checked.source, watermark_columns=stamps))

    def sql_columns(self) -> list[tuple[str, str]]:
        """(name, SQL type) of every column of the rows: metadata columns as `METADATA` types them, payload
        columns as Flink types them, the event-time and watermark columns at millisecond precision (a watermark
        needs it)."""
        columns = []
        metadata_types = {column: METADATA[key].sql_type for column, key in self.rows.metadata.items()}
        for name, type_info in self.rows.columns():
            sql_type = metadata_types.get(name) or sql_type_of(type_info)
            if self.watermark and name in (self.watermark.column, WATERMARK_COLUMN):
                sql_type = rowtime_type(self.watermark.column, sql_type)
            columns.append((name, sql_type))
        return columns

    def schema(self) -> Schema:
        """The schema the stream converts with: every column (a primary key's NOT NULL), the primary key of an
        upsert table, and the watermark (the column the readers fill)."""
        builder = Schema.new_builder()
        for name, sql_type in self.sql_columns():
            builder.column(name, f"{sql_type} NOT NULL" if name in self.upsert_key else sql_type)
        if self.upsert_key:
            builder.primary_key(*self.upsert_key)
        if self.watermark:
            builder.watermark(self.watermark.column, f"`{WATERMARK_COLUMN}`")
        return builder.build()

    def to_table(self, t_env: StreamTableEnvironment, name: str | None = None) -> Table:
        """The topics as a `Table` of `t_env` (after `check_broker`). A source left unnamed (`set_source_name`) is
        named `pulsar-table <name>`, or after its topics without a name: the operators of every table in a job
        need their own state uids, which follow the source's name (keep it stable to restore from a savepoint)."""
        checked = self.check_broker()
        if checked.source.name == DEFAULT_SOURCE_NAME:
            subscription = checked.source.subscription
            label = name or ",".join(subscription.topics) or subscription.pattern
            checked = replace(checked, source=replace(checked.source, name=f"pulsar-table {label}"))
        env = StreamExecutionEnvironment(t_env._j_tenv.execEnv())  # the environment the table environment runs on
        stream = checked.source.checked_stream(env)
        if self.upsert_key:
            table = t_env.from_changelog_stream(stream, checked.schema(), ChangelogMode.upsert())
        elif self.rows.is_changelog():
            table = t_env.from_changelog_stream(stream, checked.schema(), ChangelogMode.all())
        else:
            table = t_env.from_data_stream(stream, checked.schema())
        return table.drop_columns(col(WATERMARK_COLUMN)) if self.watermark else table

    def register(self, t_env: StreamTableEnvironment, path: str) -> Table:
        """`to_table`, registered as the temporary view `path` (e.g. "orders", or "cat.`db`.orders")."""
        table = self.to_table(t_env, path.replace("`", ""))
        t_env.create_temporary_view(path, table)
        return table


def sql_type_of(type_info: TypeInformation) -> str:
    """The SQL type Flink gives a DataStream field of `type_info` (TIMESTAMP(9) for a LOCAL_DATE_TIME, say)."""
    conversions = get_gateway().jvm.org.apache.flink.table.types.utils.TypeConversions
    return conversions.fromLegacyInfoToDataType(type_info.get_java_type_info()).getLogicalType() \
        .asSerializableString()


def rowtime_type(column: str, sql_type: str) -> str:
    """`sql_type` at millisecond precision, which a watermark needs; `PulsarConfigError` if it is no timestamp."""
    if sql_type.startswith("TIMESTAMP_LTZ(") or sql_type.endswith("WITH LOCAL TIME ZONE"):
        return "TIMESTAMP_LTZ(3)"
    if sql_type.startswith("TIMESTAMP("):
        return "TIMESTAMP(3)"
    raise PulsarConfigError(f"watermark: column {column} is {sql_type}, not a timestamp (TIMESTAMP or "
                            f"TIMESTAMP_LTZ); readable time metadata: publish_time, event_time")


class PulsarTableBuilder:
    """Collects a source and the table's options; `build()` validates them without I/O."""

    def __init__(self) -> None:
        self._source: PulsarSource | PulsarSourceBuilder | None = None
        self._metadata: dict[str, str] = {}
        self._watermark: Watermark | None = None
        self._upsert_key: tuple[str, ...] = ()

    def set_source(self, source: PulsarSource | PulsarSourceBuilder) -> PulsarTableBuilder:
        """The topics, cursors and the payload's deserializer, as for a DataStream (`set_emit_metadata` aside:
        metadata here are columns)."""
        self._source = source
        return self

    def set_metadata_columns(self, *keys: str, **renamed: str) -> PulsarTableBuilder:
        """Metadata columns after the payload's: `set_metadata_columns("publish_time", "key")` names them after the
        metadata, `set_metadata_columns(msg_key="key")` names them yourself (when the payload has such a field)."""
        self._metadata = {**{key: key for key in keys}, **renamed}
        return self

    def set_watermark(self, column: str, max_out_of_orderness_ms: int,
                      idle_timeout_ms: int = DEFAULT_IDLE_TIMEOUT_MS) -> PulsarTableBuilder:
        """Event time from `column` (a metadata time or a payload timestamp), watermarks per split, behind by at
        most `max_out_of_orderness_ms`; a split whose polls found nothing for `idle_timeout_ms` does not hold them
        back."""
        self._watermark = Watermark(column, max_out_of_orderness_ms, idle_timeout_ms)
        return self

    def set_upsert_key(self, *columns: str) -> PulsarTableBuilder:
        """Read the topics as an upsert table with this primary key (payload columns of type STRING, INT, LONG or
        BOOLEAN): each message upserts the row of its key, a tombstone deletes it (`connector.table.upsert`). With a
        changelog payload (Debezium) each change upserts or deletes its row, so a change delivered twice counts
        once."""
        if not columns:
            raise PulsarConfigError("upsert: set_upsert_key needs the primary key's columns")
        self._upsert_key = columns
        return self

    def build(self) -> PulsarTable:
        if self._source is None:
            raise PulsarConfigError("source: required (set_source with a PulsarSource or its builder)")
        source = self._source.build() if isinstance(self._source, PulsarSourceBuilder) else self._source
        if source.emit_metadata:
            raise PulsarConfigError("emitMetadata: a table reads metadata as columns (set_metadata_columns); "
                                    "leave set_emit_metadata off")
        if self._watermark is not None:
            for name in ("max_out_of_orderness_ms", "idle_timeout_ms"):
                ms = getattr(self._watermark, name)
                if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
                    raise PulsarConfigError(f"watermark: {name} must be an int >= 0, got {ms!r}")
        rows = TableRows(source.deserialization_schema, self._metadata,
                         self._watermark.column if self._watermark else None, self._upsert_key)
        return PulsarTable(replace(source, deserialization_schema=rows), self._watermark, self._upsert_key)

