"""Avro schema resolution checked up front: what a reader schema can read of what a writer schema wrote."""

from __future__ import annotations

import fastavro

from connector.formats.compatibility import read_problems


def problems(writer_fields: list, reader_fields: list, reader_name: str = "R") -> list[str]:
    writer = fastavro.parse_schema({"type": "record", "name": "R", "fields": writer_fields})
    reader = fastavro.parse_schema({"type": "record", "name": reader_name, "fields": reader_fields})
    return read_problems(writer, reader)


def test_same_schema_and_added_field_with_default_are_readable() -> None:
    fields = [{"name": "a", "type": "int"}]
    assert problems(fields, fields) == []
    assert problems(fields, fields + [{"name": "b", "type": ["null", "string"], "default": None}]) == []


def test_added_field_without_default_is_a_problem() -> None:
    assert problems([{"name": "a", "type": "int"}], [{"name": "a", "type": "int"}, {"name": "b", "type": "int"}]) \
        == ["b: the reader's field is not written and has no default"]


def test_promotions_only_widen() -> None:
    assert problems([{"name": "a", "type": "int"}], [{"name": "a", "type": "long"}]) == []
    assert problems([{"name": "a", "type": "long"}], [{"name": "a", "type": "int"}]) \
        == ["a: writer type long cannot be read as int"]


def test_nested_enums_unions_and_names() -> None:
    color = {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}
    fewer = {"type": "enum", "name": "Color", "symbols": ["RED"]}
    nested = [{"name": "inner", "type": {"type": "record", "name": "In", "fields": [{"name": "c", "type": color}]}}]
    narrowed = [{"name": "inner", "type": {"type": "record", "name": "In", "fields": [{"name": "c", "type": fewer}]}}]
    assert problems(nested, narrowed) == ["inner.c: enum symbols ['GREEN'] of the writer are not in the reader's "
                                          "enum Color, which has no default"]
    assert problems([{"name": "a", "type": ["null", "int"]}], [{"name": "a", "type": ["null", "string"]}]) \
        == ["a: writer type int matches no branch of reader union ['null', 'string']"]
    assert problems([{"name": "a", "type": "int"}], [{"name": "a", "type": "int"}], reader_name="Other") \
        == ["<root>: writer record R is not reader record Other (nor one of its aliases)"]
