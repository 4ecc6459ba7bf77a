"""`PulsarCatalog`: Pulsar namespaces as the databases of a catalog, their topics as its tables.

    catalog = PulsarCatalog(t_env, PulsarSource.builder().set_service_url(...).set_admin_url(...),
                            namespaces=["public/default"], watermark=Watermark("publish_time", 5000))
    t_env.execute_sql("USE CATALOG pulsar")
    t_env.execute_sql("SHOW TABLES").print()
    t_env.execute_sql("SELECT * FROM pulsar.`public/default`.orders")

PyFlink cannot implement a Java `Catalog` in Python, so this one is Flink's own `generic_in_memory` catalog that the
connector fills: a database per namespace ("tenant/namespace"), and per topic a temporary view (`PulsarTable`) whose
columns are the topic's registered schema plus every metadata column (`connector.table.metadata`). A topic with no
registered schema, or one the connector cannot read, gets no table; `refresh()` says which and why.

The catalog is read when made and on each `refresh()`: topics created later appear, deleted ones go, only then.
Every view is a source of `t_env`'s job graph only when a query reads it.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyflink.table import StreamTableEnvironment

from connector.admin import PulsarAdmin
from connector.errors import PulsarAdminError, PulsarConfigError
from connector.source.builder import PulsarSourceBuilder
from connector.source.discovery import namespace_topics
from connector.table.metadata import METADATA
from connector.table.table import PulsarTable, Watermark
from connector.topics import TopicName

log = logging.getLogger(__name__)


@dataclass
class Refreshed:
    """What a `refresh()` changed: tables added and dropped (paths), and topics left out with the reason."""

    added: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


class PulsarCatalog:
    """A catalog named `name` in `t_env` mirroring `namespaces`; `source` holds the options every table's source
    shares (service and admin URL, cursors, security): each table sets its own topic and the registry's schema.
    With `watermark`, every table has that event time (its column must be in every table: a metadata time)."""

    def __init__(self, t_env: StreamTableEnvironment, source: PulsarSourceBuilder, namespaces: Iterable[str],
                 name: str = "pulsar", watermark: Watermark | None = None) -> None:
        self.name = name
        self.namespaces = list(namespaces)
        if not self.namespaces:
            raise PulsarConfigError("namespaces: give at least one namespace (\"tenant/namespace\")")
        for namespace in self.namespaces:
            if namespace.count("/") != 1 or not all(namespace.split("/")):
                raise PulsarConfigError(f"namespaces: {namespace!r} is not \"tenant/namespace\"")
        self._t_env = t_env
        self._source = source
        self._watermark = watermark
        # Checks the shared options once (no I/O) and gives their admin client.
        self._admin: PulsarAdmin = self._source_of(f"{self.namespaces[0]}/-").build().new_admin()
        self._tables: dict[str, str] = {}  # view path -> topic
        t_env.execute_sql(f"CREATE CATALOG `{name}` WITH ('type' = 'generic_in_memory', "
                          f"'default-database' = '{self.namespaces[0]}')")
        for namespace in self.namespaces:
            t_env.execute_sql(f"CREATE DATABASE IF NOT EXISTS `{name}`.`{namespace}`")
        self.refresh()

    def refresh(self) -> Refreshed:
        """Read the namespaces' topics again: a table for each new topic, none for a deleted one. Raises
        `PulsarConfigError` when a namespace does not exist or the admin API cannot be reached."""
        refreshed = Refreshed()
        topics: dict[str, str] = {}
        for namespace in self.namespaces:
            try:
                found = namespace_topics(self._admin, namespace)
            except PulsarAdminError as error:
                raise PulsarConfigError(f"namespaces: could not list the topics of {namespace}: {error}") from None
            for topic in found:
                topics[self.path_of(topic)] = topic
        for path in sorted(set(self._tables) - set(topics)):
            self._t_env.drop_temporary_view(path)
            del self._tables[path]
            refreshed.dropped.append(path)
        for path, topic in sorted(topics.items()):
            if path in self._tables:
                continue
            try:
                self._table_of(topic).register(self._t_env, path)
            except PulsarConfigError as error:
                refreshed.skipped[topic] = str(error)
                log.warning("catalog %s: no table for %s: %s", self.name, topic, error)
                continue
            self._tables[path] = topic
            refreshed.added.append(path)
        return refreshed

    def path_of(self, topic: str) -> str:
        """The table path of `topic`: catalog.`tenant/namespace`.`local name`."""
        name = TopicName.parse(topic)
        return f"`{self.name}`.`{name.namespace}`.`{name.local}`"

    def _source_of(self, topic: str) -> PulsarSourceBuilder:
        """A copy of the shared source builder reading `topic` with its registered schema."""
        return copy.deepcopy(self._source).set_topics(topic).set_deserialization_schema_from_registry()

    def _table_of(self, topic: str) -> PulsarTable:
        table = PulsarTable.builder().set_source(self._source_of(topic)).set_metadata_columns(*METADATA)
        if self._watermark is not None:
            table.set_watermark(self._watermark.column, self._watermark.max_out_of_orderness_ms,
                                self._watermark.idle_timeout_ms)
        return table.build()
