"""Protobuf payloads <-> Flink Rows, interoperable with pulsar-client's `ProtobufNativeSchema` (Pulsar's
PROTOBUF_NATIVE schema type).

    ProtobufRowSchema(Order)                         # a generated message class
    ProtobufRowSchema.from_definition(definition)    # a PROTOBUF_NATIVE schema definition, e.g. from the registry

The type mapping is `protobuf_types.py`'s. The schema keeps the message's file descriptors (a serialized
FileDescriptorSet, as PROTOBUF_NATIVE registers it) and builds the message class from them in a pool of its own,
so it pickles to the Python workers and two schemas never clash over a file name. Pulsar's older PROTOBUF type
registers an Avro description without field numbers: read such a topic with `ProtobufRowSchema(YourMessage)`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import FileDescriptor
from google.protobuf.message import DecodeError, Message
from pyflink.common.typeinfo import TypeInformation

from connector.errors import PulsarConfigError
from connector.formats.protobuf_types import map_message
from connector.serde import DeserializationSchema, PulsarSchema, SerializationSchema


class ProtobufRowSchema(DeserializationSchema, SerializationSchema):
    """Deserializes protobuf payloads of one message type to Rows and serializes Rows back."""

    def __init__(self, message_class: type[Message]) -> None:
        if not (isinstance(message_class, type) and issubclass(message_class, Message)):
            raise PulsarConfigError(f"protobuf: {message_class!r} is not a protobuf message class")
        files = descriptor_pb2.FileDescriptorSet()
        _add_with_dependencies(message_class.DESCRIPTOR.file, set(), files)
        self._files = files.SerializeToString()
        self._root = message_class.DESCRIPTOR.full_name
        self._root_file = message_class.DESCRIPTOR.file.name
        self._prepare()

    @classmethod
    def from_definition(cls, definition: str | dict[str, str]) -> ProtobufRowSchema:
        """From a PROTOBUF_NATIVE schema definition: JSON with `fileDescriptorSet` (base64), `rootMessageTypeName`
        and `rootFileDescriptorName`."""
        try:
            fields = json.loads(definition) if isinstance(definition, str) else definition
            files, root, root_file = (base64.b64decode(fields["fileDescriptorSet"]), fields["rootMessageTypeName"],
                                      fields["rootFileDescriptorName"])
        except (ValueError, KeyError, TypeError) as error:
            raise PulsarConfigError(f"protobuf: not a PROTOBUF_NATIVE schema definition ({error!r}): "
                                    f"{str(definition)[:200]}") from None
        instance = cls.__new__(cls)
        instance._files, instance._root, instance._root_file = files, root, root_file
        instance._prepare()
        return instance

    def produced_type(self) -> TypeInformation:
        return self._mapping.type_info

    def deserialize(self, payload: bytes) -> Any:
        message = self._class()
        try:
            message.ParseFromString(payload)
        except DecodeError as error:
            raise ValueError(f"not a protobuf {self._root}: {error}") from None
        return self._mapping.to_flink(message)

    def serialize(self, value: Any) -> bytes:
        """`value`: a Row (or a sequence) of the produced type's fields in order, or a message of the class."""
        if isinstance(value, self._class):
            return value.SerializeToString()
        message = self._class()
        self._mapping.fill(message, value)
        return message.SerializeToString()

    def pulsar_schema(self) -> PulsarSchema:
        return PulsarSchema("PROTOBUF_NATIVE", json.dumps({
            "fileDescriptorSet": base64.b64encode(self._files).decode("ascii"),
            "rootMessageTypeName": self._root, "rootFileDescriptorName": self._root_file}))

    @property
    def message_class(self) -> type[Message]:
        """The message class, built from the schema's own descriptors."""
        return self._class

    def _prepare(self) -> None:
        files = descriptor_pb2.FileDescriptorSet.FromString(self._files)
        pool = descriptor_pool.DescriptorPool()
        for file in files.file:
            pool.Add(file)
        try:
            descriptor = pool.FindMessageTypeByName(self._root)
        except KeyError:
            raise PulsarConfigError(f"protobuf: message {self._root} is not in the schema's file descriptors "
                                    f"({', '.join(file.name for file in files.file)})") from None
        self._class = message_factory.GetMessageClass(descriptor)
        self._mapping = map_message(descriptor)

    def __getstate__(self) -> dict[str, Any]:
        # Descriptors, the class and the converters are rebuilt where the schema is unpickled.
        return {"files": self._files, "root": self._root, "root_file": self._root_file}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._files, self._root, self._root_file = state["files"], state["root"], state["root_file"]
        self._prepare()


def _add_with_dependencies(file: FileDescriptor, added: set[str], files: descriptor_pb2.FileDescriptorSet) -> None:
    """Adds `file` to `files` after the files it imports (a pool accepts a file only after its imports)."""
    if file.name in added:
        return
    for dependency in file.dependencies:
        _add_with_dependencies(dependency, added, files)
    added.add(file.name)
    proto = descriptor_pb2.FileDescriptorProto()
    file.CopyToProto(proto)
    files.file.append(proto)
