"""Pulsar topics as tables of PyFlink's Table API and SQL: `PulsarTable` (a topic, topic list or pattern as a table,
append-only or upsert), `PulsarCatalog` (namespaces as databases, topics as tables) and `write_upserts` (a changelog
table to Pulsar as upserts)."""

from connector.table.catalog import PulsarCatalog, Refreshed
from connector.table.table import PulsarTable, PulsarTableBuilder, Watermark
from connector.table.writing import write_upserts

__all__ = ["PulsarCatalog", "PulsarTable", "PulsarTableBuilder", "Refreshed", "Watermark", "write_upserts"]
