"""A protobuf message type built at run time (no protoc here), shared by the unit and integration tests: an order
with every kind of field `connector.formats.protobuf_types` maps."""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2, wrappers_pb2
from google.protobuf.message import Message

_F = descriptor_pb2.FieldDescriptorProto


def _field(name: str, number: int, kind: int, type_name: str = "", repeated: bool = False,
           proto3_optional: bool = False, oneof_index: int | None = None) -> descriptor_pb2.FieldDescriptorProto:
    field = _F(name=name, number=number, type=kind, label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
               proto3_optional=proto3_optional)
    if type_name:
        field.type_name = type_name
    if oneof_index is not None:
        field.oneof_index = oneof_index
    return field


def order_file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(
        name="shop/order.proto", package="shop", syntax="proto3",
        dependency=["google/protobuf/timestamp.proto", "google/protobuf/wrappers.proto"])
    file.enum_type.add(name="Status").value.extend([
        descriptor_pb2.EnumValueDescriptorProto(name="NEW", number=0),
        descriptor_pb2.EnumValueDescriptorProto(name="PAID", number=1),
        descriptor_pb2.EnumValueDescriptorProto(name="SHIPPED", number=2)])
    item = file.message_type.add(name="Item")
    item.field.extend([_field("sku", 1, _F.TYPE_STRING), _field("quantity", 2, _F.TYPE_INT32)])
    order = file.message_type.add(name="Order")
    totals = order.nested_type.add(name="TotalsEntry")
    totals.options.map_entry = True
    totals.field.extend([_field("key", 1, _F.TYPE_STRING), _field("value", 2, _F.TYPE_INT64)])
    order.oneof_decl.add(name="_priority")
    order.field.extend([
        _field("id", 1, _F.TYPE_INT64),
        _field("customer", 2, _F.TYPE_STRING),
        _field("status", 3, _F.TYPE_ENUM, ".shop.Status"),
        _field("items", 4, _F.TYPE_MESSAGE, ".shop.Item", repeated=True),
        _field("totals", 5, _F.TYPE_MESSAGE, ".shop.Order.TotalsEntry", repeated=True),
        _field("placed_at", 6, _F.TYPE_MESSAGE, ".google.protobuf.Timestamp"),
        _field("note", 7, _F.TYPE_MESSAGE, ".google.protobuf.StringValue"),
        _field("priority", 8, _F.TYPE_INT32, proto3_optional=True, oneof_index=0),
        _field("big", 9, _F.TYPE_UINT64),
        _field("blob", 10, _F.TYPE_BYTES),
        _field("gift", 11, _F.TYPE_MESSAGE, ".shop.Item"),
        _field("tags", 12, _F.TYPE_STRING, repeated=True),
    ])
    return file


def order_class() -> type[Message]:
    """`shop.Order`, a message class of a pool of its own (as a generated module would give)."""
    pool = descriptor_pool.DescriptorPool()
    for module in (timestamp_pb2, wrappers_pb2):
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        pool.Add(proto)
    pool.Add(order_file())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("shop.Order"))
