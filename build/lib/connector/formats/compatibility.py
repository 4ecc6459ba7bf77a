"""Can data written with one Avro schema be read with another? Avro's schema resolution rules, checked up front.

`read_problems(writer, reader)` lists every place where resolution would fail, so a source can refuse at build
time a reader schema that cannot read what the topic's registered schema wrote, instead of failing on the first
message. Names of records, enums and fixed match on their unqualified name or a reader alias, as fastavro does.
"""

from __future__ import annotations

from typing import Any

_PROMOTIONS = {("int", "long"), ("int", "float"), ("int", "double"), ("long", "float"), ("long", "double"),
               ("float", "double"), ("string", "bytes"), ("bytes", "string")}
_NAMED = ("record", "enum", "fixed")


def read_problems(writer: Any, reader: Any) -> list[str]:
    """Why data written with `writer` cannot be read with `reader` (both parsed by fastavro); empty if it can."""
    return _Check(writer, reader).problems(writer, reader, "<root>")


class _Check:
    def __init__(self, writer: Any, reader: Any) -> None:
        self._writer_named = _named(writer)
        self._reader_named = _named(reader)
        self._seen: set[tuple[str, str]] = set()

    def problems(self, writer: Any, reader: Any, path: str) -> list[str]:
        writer = _resolve(writer, self._writer_named)
        reader = _resolve(reader, self._reader_named)
        if isinstance(writer, list):
            return [problem for branch in writer for problem in self.problems(branch, reader, path)]
        if isinstance(reader, list):
            if any(not self.problems(writer, branch, path) for branch in reader):
                return []
            return [f"{path}: writer type {_name(writer)} matches no branch of reader union "
                    f"{[_name(b) for b in reader]}"]
        w_type, r_type = _type(writer), _type(reader)
        if w_type != r_type:
            if (w_type, r_type) in _PROMOTIONS:
                return []
            return [f"{path}: writer type {_name(writer)} cannot be read as {_name(reader)}"]
        if w_type in _NAMED and not _same_name(writer, reader):
            return [f"{path}: writer {w_type} {writer['name']} is not reader {w_type} {reader['name']} "
                    f"(nor one of its aliases)"]
        if w_type == "record":
            return self._record(writer, reader, path)
        if w_type == "enum":
            missing = [s for s in writer["symbols"] if s not in reader["symbols"]]
            if missing and "default" not in reader:
                return [f"{path}: enum symbols {missing} of the writer are not in the reader's enum "
                        f"{reader['name']}, which has no default"]
        if w_type == "fixed" and writer["size"] != reader["size"]:
            return [f"{path}: fixed {writer['name']} has size {writer['size']}, the reader's {reader['size']}"]
        if w_type == "array":
            return self.problems(writer["items"], reader["items"], f"{path}[]")
        if w_type == "map":
            return self.problems(writer["values"], reader["values"], f"{path}{{}}")
        return []

    def _record(self, writer: dict[str, Any], reader: dict[str, Any], path: str) -> list[str]:
        pair = (writer["name"], reader["name"])
        if pair in self._seen:  # a recursive record: its fields are being checked further up
            return []
        self._seen.add(pair)
        written = {field["name"]: field for field in writer["fields"]}
        problems: list[str] = []
        for field in reader["fields"]:
            where = field["name"] if path == "<root>" else f"{path}.{field['name']}"
            source = next((written[name] for name in (field["name"], *field.get("aliases", ()))
                           if name in written), None)
            if source is not None:
                problems += self.problems(source["type"], field["type"], where)
            elif "default" not in field:
                problems.append(f"{where}: the reader's field is not written and has no default")
        return problems


def _named(schema: Any) -> dict[str, Any]:
    return schema.get("__named_schemas", {}) if isinstance(schema, dict) else {}


def _resolve(schema: Any, named: dict[str, Any]) -> Any:
    return named.get(schema, schema) if isinstance(schema, str) else schema


def _type(schema: Any) -> str:
    return schema if isinstance(schema, str) else schema["type"]


def _name(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    return f"{schema['type']} {schema['name']}" if schema["type"] in _NAMED else str(schema["type"])


def _same_name(writer: dict[str, Any], reader: dict[str, Any]) -> bool:
    unqualified = writer["name"].split(".")[-1]
    aliases = reader.get("aliases", ())
    return unqualified == reader["name"].split(".")[-1] or writer["name"] in aliases or unqualified in aliases
