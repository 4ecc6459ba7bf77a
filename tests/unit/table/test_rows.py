"""A Pulsar table's rows without Flink or a broker: payload fields then metadata columns, flat, and what is refused."""

from __future__ import annotations

import pickle

import pulsar
import pytest
from pyflink.common import Row, RowKind, Types

from connector import BytesSchema, DebeziumJsonSchema, JsonRowSchema, PulsarConfigError, SimpleStringSchema
from connector.serde import DeserializationSchema
from connector.table.metadata import METADATA
from connector.table.rows import VALUE_COLUMN, WATERMARK_COLUMN, TableRows

ORDER = Types.ROW_NAMED(["id", "amount"], [Types.LONG(), Types.DOUBLE()])


class Message:
    """What `TableRows` reads of a `pulsar.Message`."""

    def __init__(self, payload: bytes, key: str = "", event_ms: int = 0) -> None:
        self._payload, self._key, self._event_ms = payload, key, event_ms

    def data(self) -> bytes:
        return self._payload

    def message_id(self) -> pulsar.MessageId:
        return pulsar.MessageId(2, 7, 11, -1)

    def topic_name(self) -> str:
        return "persistent://public/default/orders-partition-2"

    def producer_name(self) -> str:
        return "shop-1"

    def partition_key(self) -> str:
        return self._key

    def properties(self) -> dict[str, str]:
        return {"region": "eu"}

    def publish_timestamp(self) -> int:
        return 1_700_000_000_123

    def event_timestamp(self) -> int:
        return self._event_ms


def test_a_row_payload_gives_a_column_per_field_then_the_metadata_in_the_order_asked() -> None:
    rows = TableRows(JsonRowSchema(ORDER), {"publish_time": "publish_time", "msg_key": "key", "size": "message_size"})
    assert [name for name, _ in rows.columns()] == ["id", "amount", "publish_time", "msg_key", "size"]
    row = rows.deserialize_message(Message(b'{"id": 7, "amount": 2.5}', key="c-9"))
    assert row.as_dict() == {"id": 7, "amount": 2.5, "publish_time": row.publish_time, "msg_key": "c-9",
                             "size": 24}
    assert row.publish_time.to_epoch_milli() == 1_700_000_000_123


def test_every_metadata_column_reads_its_field_of_the_message() -> None:
    rows = TableRows(SimpleStringSchema(), {key: key for key in METADATA})
    row = rows.deserialize_message(Message(b"hi", event_ms=1_699_999_999_000))
    assert row[0] == "hi"
    values = dict(zip(METADATA, list(row)[1:]))
    assert values["topic"] == "persistent://public/default/orders-partition-2"
    assert pulsar.MessageId.deserialize(values["message_id"]).entry_id() == 11
    assert values["message_size"] == 2 and values["producer_name"] == "shop-1"
    assert values["event_time"].to_epoch_milli() == 1_699_999_999_000
    assert values["properties"] == {"region": "eu"} and values["key"] is None


def test_no_event_time_reads_as_null() -> None:
    row = TableRows(BytesSchema(), {"event_time": "event_time"}).deserialize_message(Message(b"\x00"))
    assert row.as_dict() == {VALUE_COLUMN: b"\x00", "event_time": None}


def test_with_event_time_a_last_column_of_its_type_waits_for_the_reader_to_write_the_watermark() -> None:
    rows = TableRows(JsonRowSchema(ORDER), {"publish_time": "publish_time"}, rowtime="publish_time")
    assert rows.columns()[-1] == (WATERMARK_COLUMN, Types.INSTANT())
    assert list(rows.deserialize_message(Message(b'{"id": 1, "amount": 1.0}')))[-1] is None


def test_a_metadata_column_named_like_a_payload_field_is_refused_naming_it() -> None:
    rows = TableRows(JsonRowSchema(ORDER), {"id": "message_id"})
    with pytest.raises(PulsarConfigError, match="metadata column id: the payload already has a column id"):
        rows.columns()


def test_unknown_metadata_and_a_missing_event_time_column_are_refused() -> None:
    with pytest.raises(PulsarConfigError, match="unknown metadata 'offset'"):
        TableRows(BytesSchema(), {"offset": "offset"})
    with pytest.raises(PulsarConfigError, match="watermark: no column ts"):
        TableRows(BytesSchema(), {}, rowtime="ts").columns()


def test_a_payload_without_a_flink_type_cannot_be_columns() -> None:
    class Pickled(DeserializationSchema):
        def deserialize(self, payload: bytes) -> object:
            return payload

    with pytest.raises(PulsarConfigError, match="Pickled declares no Flink type"):
        TableRows(Pickled(), {}).columns()


def test_rows_survive_pickling_with_their_columns() -> None:
    rows = pickle.loads(pickle.dumps(TableRows(JsonRowSchema(ORDER), {"k": "key"}, rowtime=None)))
    assert isinstance(rows.deserialize_message(Message(b'{"id": 1, "amount": 1.0}', key="x")), Row)
    assert rows.metadata == {"k": "key"}


class Tombstone(Message):
    def __init__(self, key: str) -> None:
        super().__init__(b"", key)

    def has_null_value(self) -> bool:
        return True


class Upsert(Message):
    def has_null_value(self) -> bool:
        return False


def test_an_upsert_table_reads_a_row_as_an_update_and_a_tombstone_as_a_delete_of_its_key() -> None:
    rows = TableRows(JsonRowSchema(ORDER), {"key": "key"}, upsert_key=("id",))
    update = rows.deserialize_message(Upsert(b'{"id": 5, "amount": 2.5}', '{"id":5}'))
    delete = rows.deserialize_message(Tombstone('{"id":5}'))
    assert (update.get_row_kind(), tuple(update)) == (RowKind.UPDATE_AFTER, (5, 2.5, '{"id":5}'))
    assert (delete.get_row_kind(), tuple(delete)) == (RowKind.DELETE, (5, None, '{"id":5}'))
    with pytest.raises(ValueError, match="message key 'c7' is not an upsert key"):
        rows.deserialize_message(Tombstone("c7"))
    with pytest.raises(PulsarConfigError, match="primary key column amount is Double"):
        TableRows(JsonRowSchema(ORDER), {}, upsert_key=("amount",)).columns()


def test_a_changelog_payload_gives_one_row_per_change_with_its_kind_and_the_metadata_of_its_message() -> None:
    rows = TableRows(DebeziumJsonSchema(ORDER, metadata=["source.table"]), {"key": "key"})
    update = (b'{"op": "u", "before": {"id": 5, "amount": 2.5}, "after": {"id": 5, "amount": 3.0}, '
              b'"source": {"table": "orders"}}')
    changes = rows.deserialize_message(Upsert(update, '{"id":5}'))
    assert rows.is_changelog()
    assert [(row.get_row_kind(), tuple(row)) for row in changes] == [
        (RowKind.UPDATE_BEFORE, (5, 2.5, "orders", '{"id":5}')), (RowKind.UPDATE_AFTER, (5, 3.0, "orders", '{"id":5}'))]
    assert rows.deserialize_message(Tombstone('{"id":5}')) == []


def test_a_changelog_with_an_upsert_key_leaves_out_update_befores_so_each_change_upserts_or_deletes_its_key() -> None:
    rows = TableRows(DebeziumJsonSchema(ORDER), {}, upsert_key=("id",))
    rows.columns()
    update = b'{"op": "u", "before": {"id": 5, "amount": 2.5}, "after": {"id": 5, "amount": 3.0}}'
    delete = b'{"op": "d", "before": {"id": 5, "amount": 3.0}, "after": null}'
    debezium_key = '{"schema": {"type": "struct"}, "payload": {"id": 5}}'
    assert [(row.get_row_kind(), tuple(row)) for row in rows.deserialize_message(Upsert(update, debezium_key))] == [
        (RowKind.UPDATE_AFTER, (5, 3.0))]
    assert [(row.get_row_kind(), tuple(row)) for row in rows.deserialize_message(Upsert(delete, debezium_key))] == [
        (RowKind.DELETE, (5, 3.0))]
    assert rows.deserialize_message(Tombstone(debezium_key)) == []  # Debezium's key is no upsert key: not read
