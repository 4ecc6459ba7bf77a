"""AvroRowSchema and the Avro -> Flink type mapping, without a broker."""

from __future__ import annotations

import datetime
import io
import pickle

import fastavro
import pytest
from pyflink.common import Types

from connector.errors import UnsupportedAvroType
from connector.formats.avro import AvroRowSchema
from connector.formats.types import LOCAL_DATE, LOCAL_DATE_TIME, LOCAL_TIME
from tests.avro_cases import ALL_TYPES, FULL, NULLS


def record(*fields: dict) -> dict:
    return {"type": "record", "name": "R", "fields": list(fields)}


@pytest.mark.parametrize("value", [FULL, NULLS], ids=["full", "nulls"])
def test_every_type_round_trips_as_a_row(value) -> None:
    schema = AvroRowSchema(ALL_TYPES)
    decoded = schema.deserialize(schema.serialize(value))
    assert decoded.as_dict(recursive=True) == value.as_dict(recursive=True)


def test_produced_type_is_the_named_row_of_the_mapping() -> None:
    row_type = AvroRowSchema(ALL_TYPES).produced_type()
    types = dict(zip(row_type.get_field_names(), row_type.get_field_types()))
    inner = Types.ROW_NAMED(["x"], [Types.INT()])
    assert types["inner"] == inner and types["maybe_inner"] == inner
    assert types["tags"] == Types.OBJECT_ARRAY(Types.STRING())
    assert types["inners"] == Types.OBJECT_ARRAY(inner)
    assert types["counts"] == Types.MAP(Types.STRING(), Types.LONG())
    assert types["color"] == Types.STRING() and types["id"] == Types.STRING()
    assert types["digest"] == Types.PRIMITIVE_ARRAY(Types.BYTE()) == types["raw"]
    assert types["at_ms"] == LOCAL_DATE_TIME == types["at_us"]
    assert (types["day"], types["time_ms"], types["time_us"]) == (LOCAL_DATE, LOCAL_TIME, LOCAL_TIME)
    assert types["amount"] == Types.BIG_DEC() == types["fixed_amount"]


def test_bytes_are_what_fastavro_writes_for_the_same_record_with_utc_timestamps() -> None:
    """Interop: naive datetimes are UTC, as Java and fastavro with aware datetimes mean them."""
    schema = record({"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
                    {"name": "id", "type": {"type": "string", "logicalType": "uuid"}})
    ours = AvroRowSchema(schema)
    moment = datetime.datetime(2024, 5, 6, 7, 8, 9, 10)
    theirs = io.BytesIO()
    fastavro.schemaless_writer(theirs, fastavro.parse_schema(schema),
                               {"at": moment.replace(tzinfo=datetime.timezone.utc),
                                "id": "0f8fad5b-d9cb-469f-a165-70867728950e"})
    assert ours.serialize({"at": moment, "id": "0f8fad5b-d9cb-469f-a165-70867728950e"}) == theirs.getvalue()
    assert ours.deserialize(theirs.getvalue()).at == moment


@pytest.mark.parametrize("field_type, refused", [
    (["int", "string"], "union ['int', 'string']"),
    (["null", "int", "string"], "Flink has no union type"),
    ("null", "bare null"),
    ({"type": "array", "items": ["long", "double"]}, "field[]: union"),
])
def test_unions_other_than_nullable_are_refused_naming_the_field(field_type, refused: str) -> None:
    with pytest.raises(UnsupportedAvroType, match=refused.replace("[", r"\[").replace("]", r"\]")):
        AvroRowSchema(record({"name": "field", "type": field_type}))


def test_recursive_records_are_refused() -> None:
    node = {"type": "record", "name": "Node", "fields": [{"name": "next", "type": ["null", "Node"]}]}
    with pytest.raises(UnsupportedAvroType, match="next: record Node is recursive"):
        AvroRowSchema(node)


def test_payloads_that_do_not_fit_the_schema_raise() -> None:
    schema = AvroRowSchema(ALL_TYPES)
    payload = schema.serialize(FULL)
    with pytest.raises(Exception):
        schema.deserialize(payload[: len(payload) // 2])
    with pytest.raises(ValueError, match="1 of .* bytes left over"):
        schema.deserialize(payload + b"\x00")


def test_survives_pickling_with_its_bound_writer_versions() -> None:
    schema = AvroRowSchema(ALL_TYPES)
    schema._writers[("persistent://public/default/t", 3)] = None
    copy = pickle.loads(pickle.dumps(schema))
    assert copy._writers == schema._writers
    assert copy.deserialize(schema.serialize(FULL)).as_dict(recursive=True) == FULL.as_dict(recursive=True)


def test_schema_from_a_json_string_or_an_avsc_file(tmp_path) -> None:
    import json

    path = tmp_path / "all.avsc"
    path.write_text(json.dumps(ALL_TYPES))
    assert AvroRowSchema(str(path)).produced_type() == AvroRowSchema(json.dumps(ALL_TYPES)).produced_type()
    assert AvroRowSchema(path).pulsar_schema().type == "AVRO"
