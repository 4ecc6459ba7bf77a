"""How protobuf messages map into Flink: the `TypeInformation` of a message descriptor and its value conversions
both ways.

`map_message(descriptor)` walks a message descriptor once and returns a `ProtobufMapping`: the Flink row type, a
converter of a message to a `Row`, and a filler that writes a `Row` into an empty message.

| protobuf | Flink type | Python value |
|---|---|---|
| bool, string, float, double | BOOLEAN, STRING, FLOAT, DOUBLE | bool, str, float |
| int32, sint32, sfixed32 | INT | int |
| int64, sint64, sfixed64, uint32, fixed32 | LONG | int |
| uint64, fixed64 | BIG_DEC | `decimal.Decimal` of an integer (LONG cannot hold 2^63 and above) |
| bytes | PRIMITIVE_ARRAY(BYTE) | bytes |
| enum | STRING | the value's name (a number the enum does not name: its digits) |
| message | ROW_NAMED (nested messages nest) | `Row` with field names; None when unset |
| repeated T | OBJECT_ARRAY(T) | list |
| map<K, V> | MAP(K, V) | dict |
| google.protobuf.Timestamp | LOCAL_DATE_TIME | naive `datetime` in UTC (microseconds) |
| google.protobuf wrappers (Int64Value, StringValue, ...) | the wrapped type | the value; None when unset |

A scalar field without presence (proto3, not `optional`) reads as its default when unset (0, "", false); a field
with presence (`optional`, a oneof member, proto2) reads as None when unset, and None writes nothing. Recursive
messages are refused with `PulsarConfigError` naming the field path (Flink types cannot be recursive).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from pyflink.common import Row, Types
from pyflink.common.typeinfo import TypeInformation

from connector.errors import PulsarConfigError
from connector.formats.types import LOCAL_DATE_TIME

Convert = Callable[[Any], Any]
Fill = Callable[[Message, Any], None]

_F = FieldDescriptor
_SCALARS: dict[int, Callable[[], TypeInformation]] = {
    _F.TYPE_BOOL: Types.BOOLEAN, _F.TYPE_STRING: Types.STRING, _F.TYPE_FLOAT: Types.FLOAT,
    _F.TYPE_DOUBLE: Types.DOUBLE, _F.TYPE_INT32: Types.INT, _F.TYPE_SINT32: Types.INT, _F.TYPE_SFIXED32: Types.INT,
    _F.TYPE_INT64: Types.LONG, _F.TYPE_SINT64: Types.LONG, _F.TYPE_SFIXED64: Types.LONG,
    _F.TYPE_UINT32: Types.LONG, _F.TYPE_FIXED32: Types.LONG,
}
_UNSIGNED_64 = {_F.TYPE_UINT64, _F.TYPE_FIXED64}
_TIMESTAMP = "google.protobuf.Timestamp"
_WRAPPERS = {f"google.protobuf.{name}" for name in (
    "DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value", "UInt32Value", "BoolValue",
    "StringValue", "BytesValue")}


@dataclass(frozen=True)
class ProtobufMapping:
    """A message type in Flink terms: its row type, message -> Row, and Row -> (fill an empty message)."""

    type_info: TypeInformation
    to_flink: Callable[[Message], Row]
    fill: Fill


def map_message(descriptor: Descriptor) -> ProtobufMapping:
    """The mapping of a message type; raises `PulsarConfigError` for a recursive one."""
    return _message(descriptor, "<root>", ())


@dataclass(frozen=True)
class _Value:
    """One field's element type: its Flink type and conversions (None: the value passes as it is). `message`: the
    element is a message, written with `fill` into the sub-message the field gives."""

    type_info: TypeInformation
    to_flink: Convert | None
    to_proto: Convert | None
    fill: Fill | None = None


def _message(descriptor: Descriptor, path: str, outer: tuple[str, ...]) -> ProtobufMapping:
    if descriptor.full_name in outer:
        raise PulsarConfigError(f"protobuf {path}: message {descriptor.full_name} is recursive; Flink types cannot be")
    inner = (*outer, descriptor.full_name)
    names, types, readers, writers = [], [], [], []
    for field in descriptor.fields:
        field_path = field.name if path == "<root>" else f"{path}.{field.name}"
        type_info, read, write = _field(field, field_path, inner)
        names.append(field.name)
        types.append(type_info)
        readers.append(read)
        writers.append(write)

    def to_flink(message: Message) -> Row:
        row = Row(*[read(message) for read in readers])
        row.set_field_names(names)
        return row

    def fill(message: Message, row: Any) -> None:
        for write, value in zip(writers, row):
            if value is not None:
                write(message, value)

    return ProtobufMapping(Types.ROW_NAMED(names, types), to_flink, fill)


def _field(field: FieldDescriptor, path: str, outer: tuple[str, ...]) -> tuple[TypeInformation, Callable, Callable]:
    """(Flink type, read(message) -> value, write(message, value)) of one field."""
    name = field.name
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key = _element(field.message_type.fields_by_name["key"], path, outer)
        value = _element(field.message_type.fields_by_name["value"], f"{path}.value", outer)
        key_in, value_in = key.to_flink or _same, value.to_flink or _same
        key_out = key.to_proto or _same

        def read_map(message: Message) -> dict:
            return {key_in(k): value_in(v) for k, v in getattr(message, name).items()}

        def write_map(message: Message, mapping: dict) -> None:
            target = getattr(message, name)
            for k, v in mapping.items():
                if value.fill is not None:
                    value.fill(target[key_out(k)], v)
                elif v is not None:
                    target[key_out(k)] = v if value.to_proto is None else value.to_proto(v)

        return Types.MAP(key.type_info, value.type_info), read_map, write_map
    element = _element(field, path, outer)
    convert_in = element.to_flink or _same
    if field.label == FieldDescriptor.LABEL_REPEATED:
        def read_list(message: Message) -> list:
            return [convert_in(v) for v in getattr(message, name)]

        def write_list(message: Message, values: list) -> None:
            target = getattr(message, name)
            for v in values:
                if element.fill is not None:
                    element.fill(target.add(), v)
                else:
                    target.append(v if element.to_proto is None else element.to_proto(v))

        return Types.OBJECT_ARRAY(element.type_info), read_list, write_list
    if field.has_presence:
        def read_present(message: Message) -> Any:
            return convert_in(getattr(message, name)) if message.HasField(name) else None
        read = read_present
    else:
        def read(message: Message) -> Any:
            return convert_in(getattr(message, name))

    if element.fill is not None:
        def write(message: Message, value: Any) -> None:
            target = getattr(message, name)
            target.SetInParent()
            element.fill(target, value)
    else:
        convert_out = element.to_proto or _same

        def write(message: Message, value: Any) -> None:
            setattr(message, name, convert_out(value))

    return element.type_info, read, write


def _element(field: FieldDescriptor, path: str, outer: tuple[str, ...]) -> _Value:
    """The type of one value of `field` (one element, if it is repeated)."""
    kind = field.type
    if kind in _SCALARS:
        return _Value(_SCALARS[kind](), None, None)
    if kind in _UNSIGNED_64:
        return _Value(Types.BIG_DEC(), decimal.Decimal, int)
    if kind == _F.TYPE_BYTES:
        return _Value(Types.PRIMITIVE_ARRAY(Types.BYTE()), bytes, None)
    if kind == _F.TYPE_ENUM:
        enum = field.enum_type

        def enum_name(number: int) -> str:
            value = enum.values_by_number.get(number)
            return value.name if value is not None else str(number)

        def enum_number(value: str) -> int:
            known = enum.values_by_name.get(value)
            if known is not None:
                return known.number
            if value.lstrip("-").isdigit():
                return int(value)
            raise ValueError(f"protobuf {path}: {value!r} is not a value of enum {enum.full_name} "
                             f"({', '.join(enum.values_by_name)})")

        return _Value(Types.STRING(), enum_name, enum_number)
    message_type = field.message_type
    if message_type.full_name == _TIMESTAMP:
        def timestamp_in(message: Message, moment: Any) -> None:
            message.FromDatetime(moment)
        return _Value(LOCAL_DATE_TIME, lambda message: message.ToDatetime(), None, timestamp_in)
    if message_type.full_name in _WRAPPERS:
        wrapped = _element(message_type.fields_by_name["value"], path, outer)
        convert_in, convert_out = wrapped.to_flink or _same, wrapped.to_proto or _same

        def wrapper_in(message: Message, value: Any) -> None:
            message.value = convert_out(value)
        return _Value(wrapped.type_info, lambda message: convert_in(message.value), None, wrapper_in)
    mapping = _message(message_type, path, outer)
    return _Value(mapping.type_info, mapping.to_flink, None, mapping.fill)


def _same(value: Any) -> Any:
    return value
