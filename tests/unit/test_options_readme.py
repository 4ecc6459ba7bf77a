"""The README's option tables are the builders' option tables, defaults read from a built configuration; its table
metadata table is `connector.table.metadata`'s."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from connector import PulsarSink, PulsarSource, SimpleStringSchema
from connector.options import markdown_table
from connector.sink.options import SINK_OPTIONS
from connector.source.options import SOURCE_OPTIONS
from connector.table import metadata

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_table(side: str) -> str:
    found = re.search(rf"<!-- {side} options: .*? -->\n(.*?)\n<!-- end of {side} options -->", README.read_text(),
                      re.DOTALL)
    assert found, f"README.md has no marked {side} option table"
    return found.group(1)


def minimal_source() -> PulsarSource:
    return (PulsarSource.builder().set_service_url("pulsar://127.0.0.1:6650").set_admin_url("http://127.0.0.1:8080")
            .set_topics("t").set_deserialization_schema(SimpleStringSchema()).build())


def minimal_sink() -> PulsarSink:
    return (PulsarSink.builder().set_service_url("pulsar://127.0.0.1:6650").set_topics("t")
            .set_serialization_schema(SimpleStringSchema()).build())


@pytest.mark.parametrize("side, table, built", [
    ("source", SOURCE_OPTIONS, lambda: minimal_source()),
    ("sink", SINK_OPTIONS, lambda: minimal_sink().config),
])
def test_readme_option_table_is_the_builders(side: str, table, built) -> None:
    expected = markdown_table(table, built())
    assert readme_table(side) == expected, f"paste this into README.md's {side} option table:\n{expected}"


def test_every_option_names_a_builder_call_that_exists() -> None:
    for table, builder in ((SOURCE_OPTIONS, PulsarSource.builder()), (SINK_OPTIONS, PulsarSink.builder())):
        for option in table:
            for call in re.findall(r"`(set_\w+)", option.calls):
                assert hasattr(builder, call), f"{type(builder).__name__} has no {call} ({option.name})"


def test_readme_metadata_table_is_the_tables() -> None:
    found = re.search(r"<!-- table metadata: .*? -->\n(.*?)\n<!-- end of table metadata -->", README.read_text(),
                      re.DOTALL)
    assert found, "README.md has no marked table metadata table"
    assert found.group(1) == metadata.markdown_table(), \
        f"paste this into README.md's metadata table:\n{metadata.markdown_table()}"
