"""Pulsar topics as tables of PyFlink's Table API and SQL: `PulsarTable` (a topic, topic list or pattern as a table)
and `PulsarCatalog` (namespaces as databases, topics as tables)."""

from connector.table.catalog import PulsarCatalog, Refreshed
from connector.table.table import PulsarTable, PulsarTableBuilder, Watermark

__all__ = ["PulsarCatalog", "PulsarTable", "PulsarTableBuilder", "Refreshed", "Watermark"]
