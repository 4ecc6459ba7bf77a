"""JsonRowSchema without a broker."""

from __future__ import annotations

import json

import pytest
from pyflink.common import Types

from connector.formats.json import JsonRowSchema

ROW = Types.ROW_NAMED(["name", "scores", "attrs", "inner"], [
    Types.STRING(), Types.OBJECT_ARRAY(Types.DOUBLE()), Types.MAP(Types.STRING(), Types.LONG()),
    Types.ROW_NAMED(["ok"], [Types.BOOLEAN()])])


def test_objects_become_rows_by_field_name_and_back() -> None:
    schema = JsonRowSchema(ROW)
    row = schema.deserialize(b'{"scores":[1,2.5,null],"name":"\xc3\xa9","attrs":{"a":1,"b":null},"inner":{"ok":true}}')
    assert row.as_dict(recursive=True) == {"name": "é", "scores": [1.0, 2.5, None], "attrs": {"a": 1, "b": None},
                                           "inner": {"ok": True}}
    assert isinstance(row.scores[0], float)
    assert schema.deserialize(schema.serialize(row)) == row
    assert schema.deserialize(b"{}").as_dict() == dict.fromkeys(["name", "scores", "attrs", "inner"])


@pytest.mark.parametrize("payload, error", [
    (b'{"name": 1}', "name: expected String, got int"),
    (b'{"inner": {"ok": "yes"}}', "inner.ok: expected Boolean"),
    (b'{"scores": {}}', "scores: expected an array"),
    (b"[1]", "expected an object"),
])
def test_values_of_the_wrong_kind_raise_naming_the_field(payload: bytes, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        JsonRowSchema(ROW).deserialize(payload)


def test_invalid_json_and_non_utf8_raise() -> None:
    with pytest.raises(json.JSONDecodeError):
        JsonRowSchema(ROW).deserialize(b'{"name": ')
    with pytest.raises(UnicodeDecodeError):
        JsonRowSchema().deserialize(b'\xff\xfe{\x00}\x00')  # UTF-16 is not taken for UTF-8


def test_without_a_row_type_values_are_dicts() -> None:
    schema = JsonRowSchema()
    assert schema.produced_type() is None
    assert schema.deserialize(schema.serialize({"a": [1, None]})) == {"a": [1, None]}


def test_unsupported_types_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="when: Flink type .* is not supported"):
        JsonRowSchema(Types.ROW_NAMED(["when"], [Types.SQL_TIMESTAMP()]))


def test_from_avro_maps_the_record_and_registers_as_json() -> None:
    avro = {"type": "record", "name": "User", "fields": [{"name": "name", "type": ["null", "string"]},
                                                        {"name": "age", "type": ["null", "int"]}]}
    schema = JsonRowSchema.from_avro(avro)
    assert schema.produced_type() == Types.ROW_NAMED(["name", "age"], [Types.STRING(), Types.INT()])
    assert schema.pulsar_schema().type == "JSON" and json.loads(schema.pulsar_schema().definition) == avro
    assert JsonRowSchema(ROW).pulsar_schema() is None
