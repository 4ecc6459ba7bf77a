"""Avro decode rate of `AvroRowSchema.deserialize` (payload -> Row) next to a bare fastavro loop on the same payloads.

    .venv/bin/python -m benchmarks.avro_decode [--records 200000]

The bare loop is `fastavro.schemaless_reader(BytesIO(payload), parse_schema(schema), None)` per payload, giving
ours adds the checks and the conversion to nested Rows. Two schemas: flat primitives, and every mapped type.
"""

from __future__ import annotations

import argparse
import io
import time

import fastavro

from connector.formats.avro import AvroRowSchema
from tests.avro_cases import ALL_TYPES, FULL, NULLS

FLAT = {"type": "record", "name": "Flat", "fields": [
    {"name": "id", "type": "long"}, {"name": "name", "type": "string"}, {"name": "score", "type": "double"},
    {"name": "active", "type": "boolean"}, {"name": "note", "type": ["null", "string"]}]}


def rate(decode, payloads: list[bytes]) -> float:
    began = time.perf_counter()
    for payload in payloads:
        decode(payload)
    return len(payloads) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    cases = {"flat (5 fields)": (FLAT, [{"id": i, "name": f"n{i}", "score": i / 3, "active": i % 2 == 0,
                                         "note": None if i % 3 else "x"} for i in range(1000)]),
             "all types (22 fields, nested)": (ALL_TYPES, [FULL, NULLS] * 500)}
    print(f"\n{args.records} decodes per row, best of 3\n")
    print("| schema | bare schemaless_reader rec/s | AvroRowSchema rec/s | ratio |")
    print("|---|---:|---:|---:|")
    for label, (schema, values) in cases.items():
        ours = AvroRowSchema(schema)
        payloads = [ours.serialize(v) for v in values] * (args.records // len(values))
        parsed = fastavro.parse_schema(schema)
        bare = max(rate(lambda p: fastavro.schemaless_reader(io.BytesIO(p), parsed, None), payloads) for _ in range(3))
        mine = max(rate(ours.deserialize, payloads) for _ in range(3))
        print(f"| {label} | {bare:,.0f} | {mine:,.0f} | {mine / bare:.2f} |")


if __name__ == "__main__":
    main()
