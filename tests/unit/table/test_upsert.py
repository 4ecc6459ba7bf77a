"""Upsert messages from changelog rows, and the key codec both ways."""

from __future__ import annotations

import pytest
from pyflink.common import Row, RowKind, Types

from connector.errors import PulsarConfigError
from connector.table.upsert import (UpsertMessages, check_primary_key, decode_key, encode_key, kind_of_type_info,
                                     kind_of_type_root)

COLUMNS = [("region", Types.STRING()), ("id", Types.LONG()), ("total", Types.DOUBLE())]


def changelog(kind: RowKind, *values) -> Row:
    row = Row(*values)
    row.set_row_kind(kind)
    return row


def test_inserts_and_update_afters_write_the_row_deletes_and_update_befores_a_tombstone() -> None:
    upserts = UpsertMessages([name for name, _ in COLUMNS], ["region", "id"])
    written = {kind: list(upserts(changelog(kind, "eu", 42, 9.5))) for kind in RowKind}
    key = '{"region":"eu","id":42}'
    assert [(m.key, tuple(m.value)) for m in written[RowKind.INSERT]] == [(key, ("eu", 42, 9.5))]
    assert [(m.key, tuple(m.value)) for m in written[RowKind.UPDATE_AFTER]] == [(key, ("eu", 42, 9.5))]
    assert [(m.key, m.value) for m in written[RowKind.DELETE]] == [(key, None)]
    assert [(m.key, m.value) for m in written[RowKind.UPDATE_BEFORE]] == [(key, None)]


def test_a_key_decodes_to_its_values_in_key_order_and_a_foreign_key_is_refused_naming_it() -> None:
    assert decode_key(encode_key(["eu", 42], ["region", "id"]), ["id", "region"]) == [42, "eu"]
    assert encode_key(["zürich"], ["city"]) == '{"city":"zürich"}'
    for foreign in (None, "", "c7", '{"region":"eu"}', "[1]"):
        with pytest.raises(ValueError, match="is not an upsert key: a JSON object of region, id"):
            decode_key(foreign, ["region", "id"])


def test_a_primary_key_must_name_distinct_columns_of_a_key_type() -> None:
    kinds = [(name, kind_of_type_info(type_info)) for name, type_info in COLUMNS]
    assert kinds == [("region", "STRING"), ("id", "LONG"), ("total", "Double")]
    assert [kind_of_type_root(root) for root in ("VARCHAR", "BIGINT", "INTEGER", "DOUBLE")] == [
        "STRING", "LONG", "INT", "DOUBLE"]
    check_primary_key(["region", "id"], kinds)
    for key, message in (([], "at least one column"), (["id", "id"], "names a column twice"),
                         (["customer"], "customer is not a column .region, id, total."),
                         (["total"], "total is Double; a key column must be one of STRING, INT, LONG, BOOLEAN")):
        with pytest.raises(PulsarConfigError, match=message):
            check_primary_key(key, kinds)
