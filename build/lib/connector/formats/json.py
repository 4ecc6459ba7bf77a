"""JSON payloads <-> Flink Rows of a declared row type, or Python dicts; interoperable with Pulsar's `JsonSchema`.

    JsonRowSchema(Types.ROW_NAMED(["name", "age"], [Types.STRING(), Types.INT()]))   # Rows of that type
    JsonRowSchema()                                                                   # dicts (pickled)
    JsonRowSchema.from_avro(User.schema())   # the row type of an Avro record, as Pulsar's JsonSchema registers it

A payload must be UTF-8 JSON. With a row type, each object becomes a Row by field name (a missing field is None,
an unknown one is ignored) and every value must have its field's JSON kind: a string, an integer, a number, a
boolean, an object for a ROW or MAP, an array for an array type; anything else raises. Supported Flink types:
STRING, INT, LONG, FLOAT, DOUBLE, BOOLEAN, ROW, OBJECT_ARRAY / BASIC_ARRAY / LIST, MAP with STRING keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import fastavro
from pyflink.common import Row, Types
from pyflink.common.typeinfo import (BasicArrayTypeInfo, ListTypeInfo, MapTypeInfo, ObjectArrayTypeInfo,
                                     RowTypeInfo, TypeInformation)

from connector.errors import PulsarConfigError
from connector.formats.types import map_avro
from connector.serde import DeserializationSchema, PulsarSchema, SerializationSchema

Convert = Callable[[Any], Any]


class JsonRowSchema(DeserializationSchema, SerializationSchema):
    """Deserializes JSON payloads to Rows of `row_type` (dicts without one) and serializes them back."""

    def __init__(self, row_type: RowTypeInfo | None = None) -> None:
        if row_type is not None and not isinstance(row_type, RowTypeInfo):
            raise PulsarConfigError(f"JSON: the row type must be a RowTypeInfo (Types.ROW_NAMED), not {row_type}")
        self._row_type = row_type
        self._avro_definition: str | None = None
        self._prepare()

    @classmethod
    def from_avro(cls, schema: dict[str, Any] | str) -> JsonRowSchema:
        """Rows of an Avro record schema's mapped type; registers as Pulsar's JSON schema with that definition."""
        raw = json.loads(schema) if isinstance(schema, str) else schema
        instance = cls(map_avro(fastavro.parse_schema(raw)).type_info)
        instance._avro_definition = json.dumps(raw)
        return instance

    def produced_type(self) -> TypeInformation | None:
        return self._row_type

    def deserialize(self, payload: bytes) -> Any:
        value = json.loads(payload.decode("utf-8"))
        return value if self._from_json is None else self._from_json(value)

    def serialize(self, value: Any) -> bytes:
        obj = value if self._to_json is None else self._to_json(value)
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def pulsar_schema(self) -> PulsarSchema | None:
        """Pulsar's JSON schema type carries an Avro record definition: only known when made `from_avro`."""
        return None if self._avro_definition is None else PulsarSchema("JSON", self._avro_definition)

    def _prepare(self) -> None:
        if self._row_type is None:
            self._from_json = self._to_json = None
        else:
            self._from_json = _from_json(self._row_type, "<root>")
            self._to_json = _to_json(self._row_type)

    def __getstate__(self) -> dict[str, Any]:
        # A type used to build the job holds its Java counterpart, which does not pickle: ship a fresh copy.
        row_type = None if self._row_type is None else _fresh(self._row_type)
        return {"row_type": row_type, "avro_definition": self._avro_definition}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._row_type, self._avro_definition = state["row_type"], state["avro_definition"]
        self._prepare()


# The basic types JSON values map to: (factory of the Flink type, accepted JSON kinds, cast).
_KINDS: list[tuple[Callable[[], TypeInformation], tuple[type, ...], Convert | None]] = [
    (Types.STRING, (str,), None), (Types.BOOLEAN, (bool,), None), (Types.INT, (int,), None),
    (Types.LONG, (int,), None), (Types.FLOAT, (int, float), float), (Types.DOUBLE, (int, float), float),
]


def _from_json(type_info: TypeInformation, path: str) -> Convert:
    """A converter of a parsed JSON value to the Flink value of `type_info`; it raises on a value of another kind."""
    if isinstance(type_info, RowTypeInfo):
        names = type_info.get_field_names()
        fields = [_from_json(t, n if path == "<root>" else f"{path}.{n}")
                  for n, t in zip(names, type_info.get_field_types())]

        def to_row(value: Any) -> Row:
            _expect(value, dict, path, "an object")
            row = Row(*[None if (v := value.get(n)) is None else f(v) for n, f in zip(names, fields)])
            row.set_field_names(names)
            return row

        return to_row
    element = _element_type(type_info)
    if element is not None:
        convert = _from_json(element, f"{path}[]")
        return lambda value: [None if v is None else convert(v) for v in _expect(value, list, path, "an array")]
    if isinstance(type_info, MapTypeInfo):
        if type_info._key_type_info != Types.STRING():
            raise PulsarConfigError(f"JSON: {path}: map keys must be STRING, not {type_info._key_type_info}")
        convert = _from_json(type_info._value_type_info, f"{path}{{}}")
        return lambda value: {k: None if v is None else convert(v)
                              for k, v in _expect(value, dict, path, "an object").items()}
    for factory, accepted, cast in _KINDS:
        if type_info == (kind := factory()):
            def check(value: Any, accepted: tuple[type, ...] = accepted, cast: Convert | None = cast) -> Any:
                if not isinstance(value, accepted) or (bool not in accepted and isinstance(value, bool)):
                    raise ValueError(f"JSON: {path}: expected {kind}, got {type(value).__name__} {value!r}")
                return value if cast is None else cast(value)

            return check
    raise PulsarConfigError(f"JSON: {path}: Flink type {type_info} is not supported (see connector.formats.json)")


def _to_json(type_info: TypeInformation) -> Convert | None:
    """A converter of a Flink value to what `json.dumps` writes; None when the value is written as it is."""
    if isinstance(type_info, RowTypeInfo):
        names = type_info.get_field_names()
        fields = [_to_json(t) for t in type_info.get_field_types()]

        def to_object(row: Any) -> dict[str, Any]:
            values = [row.get(n) for n in names] if isinstance(row, dict) else list(row)
            return {n: v if f is None or v is None else f(v) for n, v, f in zip(names, values, fields)}

        return to_object
    element = _element_type(type_info)
    if element is not None:
        convert = _to_json(element)
        return None if convert is None else lambda values: [None if v is None else convert(v) for v in values]
    if isinstance(type_info, MapTypeInfo):
        convert = _to_json(type_info._value_type_info)
        return None if convert is None else lambda values: {k: None if v is None else convert(v)
                                                            for k, v in values.items()}
    return None


def _fresh(type_info: TypeInformation) -> TypeInformation:
    """An equal type built anew (a supported type, see `_from_json`), holding no Java object."""
    if isinstance(type_info, RowTypeInfo):
        return Types.ROW_NAMED(type_info.get_field_names(), [_fresh(t) for t in type_info.get_field_types()])
    if isinstance(type_info, ObjectArrayTypeInfo):
        return Types.OBJECT_ARRAY(_fresh(type_info._element_type))
    if isinstance(type_info, BasicArrayTypeInfo):
        return Types.BASIC_ARRAY(_fresh(type_info._element_type))
    if isinstance(type_info, ListTypeInfo):
        return Types.LIST(_fresh(type_info.elem_type))
    if isinstance(type_info, MapTypeInfo):
        return Types.MAP(_fresh(type_info._key_type_info), _fresh(type_info._value_type_info))
    return next(factory() for factory, _, _ in _KINDS if factory() == type_info)


def _element_type(type_info: TypeInformation) -> TypeInformation | None:
    if isinstance(type_info, (ObjectArrayTypeInfo, BasicArrayTypeInfo)):
        return type_info._element_type
    if isinstance(type_info, ListTypeInfo):
        return type_info.elem_type
    return None


def _expect(value: Any, kind: type, path: str, what: str) -> Any:
    if not isinstance(value, kind):
        raise ValueError(f"JSON: {path}: expected {what}, got {type(value).__name__} {value!r}")
    return value
