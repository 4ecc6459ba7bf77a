"""Protobuf payloads as Rows: every mapped kind of field both ways, presence, bad input, pickling."""

from __future__ import annotations

import datetime
import decimal
import pickle

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from pulsar.schema import ProtobufNativeSchema

from connector.errors import PulsarConfigError
from connector.formats.protobuf import ProtobufRowSchema
from tests.protobuf_cases import order_class

PLACED = datetime.datetime(2026, 12, 3, 8, 30, 15, 123456)


def full_order(order_type):
    order = order_type(id=7, customer="ada", status=2, big=2 ** 63 + 5, blob=b"\x00\x01", tags=["x", "y"])
    order.items.add(sku="pen", quantity=3)
    order.items.add(sku="ink", quantity=1)
    order.totals["eur"] = 1250
    order.placed_at.FromDatetime(PLACED)
    order.note.value = "leave at door"
    order.priority = 0  # set to its default: present all the same
    order.gift.sku = "card"
    return order


def test_every_kind_of_field_reads_as_its_flink_value() -> None:
    order_type = order_class()
    row = ProtobufRowSchema(order_type).deserialize(full_order(order_type).SerializeToString())
    assert row.as_dict() == {
        "id": 7, "customer": "ada", "status": "SHIPPED", "items": [row["items"][0], row["items"][1]],
        "totals": {"eur": 1250}, "placed_at": PLACED, "note": "leave at door", "priority": 0,
        "big": decimal.Decimal(2 ** 63 + 5), "blob": b"\x00\x01", "gift": row["gift"], "tags": ["x", "y"]}
    assert [item.as_dict() for item in row["items"]] == [{"sku": "pen", "quantity": 3}, {"sku": "ink", "quantity": 1}]
    assert row["gift"].as_dict() == {"sku": "card", "quantity": 0}


def test_unset_fields_with_presence_read_as_none_and_others_as_their_defaults() -> None:
    order_type = order_class()
    row = ProtobufRowSchema(order_type).deserialize(order_type(id=1).SerializeToString())
    assert (row["placed_at"], row["note"], row["priority"], row["gift"]) == (None, None, None, None)
    assert (row["customer"], row["status"], row["big"], row["items"], row["totals"]) == (
        "", "NEW", decimal.Decimal(0), [], {})


def test_a_row_written_reads_back_equal_and_as_the_client_decodes_it() -> None:
    order_type = order_class()
    schema = ProtobufRowSchema(order_type)
    row = schema.deserialize(full_order(order_type).SerializeToString())
    payload = schema.serialize(row)
    assert schema.deserialize(payload) == row
    assert ProtobufNativeSchema(order_type).decode(payload) == full_order(order_type)


def test_none_writes_nothing_and_an_unknown_enum_name_is_refused_naming_field_and_values() -> None:
    order_type = order_class()
    schema = ProtobufRowSchema(order_type)
    row = schema.deserialize(order_type(id=1).SerializeToString())
    assert not order_type.FromString(schema.serialize(row)).HasField("placed_at")
    row["status"] = "LOST"
    with pytest.raises(ValueError, match="status: 'LOST' is not a value of enum shop.Status .NEW, PAID, SHIPPED."):
        schema.serialize(row)


def test_the_registered_definition_is_the_clients_and_builds_the_same_schema() -> None:
    order_type = order_class()
    schema = ProtobufRowSchema(order_type)
    registered = schema.pulsar_schema()
    assert registered.type == "PROTOBUF_NATIVE"
    client_definition = ProtobufNativeSchema(order_type).schema_info().schema()
    again = ProtobufRowSchema.from_definition(client_definition)
    payload = full_order(order_type).SerializeToString()
    assert again.deserialize(payload) == schema.deserialize(payload)
    assert again.produced_type() == schema.produced_type()


def test_it_pickles_to_a_worker_with_its_own_descriptors() -> None:
    order_type = order_class()
    schema = pickle.loads(pickle.dumps(ProtobufRowSchema(order_type)))
    assert schema.deserialize(full_order(order_type).SerializeToString())["customer"] == "ada"


def test_bad_input_is_refused_naming_the_cause() -> None:
    with pytest.raises(PulsarConfigError, match="not a protobuf message class"):
        ProtobufRowSchema(dict)
    with pytest.raises(PulsarConfigError, match="not a PROTOBUF_NATIVE schema definition"):
        ProtobufRowSchema.from_definition('{"rootMessageTypeName": "shop.Order"}')
    with pytest.raises(ValueError, match="not a protobuf shop.Order"):
        ProtobufRowSchema(order_class()).deserialize(b"\xff\xff\xff")


def test_a_recursive_message_is_refused_naming_the_field_path() -> None:
    file = descriptor_pb2.FileDescriptorProto(name="tree.proto", package="t", syntax="proto3")
    node = file.message_type.add(name="Node")
    node.field.add(name="children", number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
                   type_name=".t.Node", label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    with pytest.raises(PulsarConfigError, match="protobuf children: message t.Node is recursive"):
        ProtobufRowSchema(message_factory.GetMessageClass(pool.FindMessageTypeByName("t.Node")))
