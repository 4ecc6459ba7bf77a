"""Finding the splits (topic partitions) a source reads, once or periodically in a background thread.

A split is named by its full topic name: `persistent://t/ns/orders-partition-3` for a partition, the topic's
own name for a non-partitioned topic. A failed discovery (broker briefly down) is logged and retried at the
next interval; it never changes the set of splits, so no live split is ever dropped because of it.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass

from connector.admin import PulsarAdmin
from connector.errors import PulsarAdminError, PulsarConfigError
from connector.topics import TopicName, split_partition

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopicSubscription:
    """Either fixed topics or a regular expression matched against full topic names of one namespace."""

    topics: tuple[str, ...] = ()
    pattern: str | None = None

    def __post_init__(self) -> None:
        if bool(self.topics) == bool(self.pattern):
            raise PulsarConfigError("set exactly one of topics and topicPattern")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as error:
                raise PulsarConfigError(f"topicPattern {self.pattern!r} is not a regular expression: {error}") from None
            self.namespace  # validates that the pattern names its namespace

    @property
    def namespace(self) -> str:
        """The namespace a pattern searches, read from its literal `persistent://tenant/ns/` prefix."""
        match = re.match(r"persistent://([\w.-]+)/([\w.-]+)/", self.pattern or "")
        if match is None:
            raise PulsarConfigError(f"topicPattern {self.pattern!r} must start with a literal "
                                    "persistent://tenant/namespace/ (the namespace to search)")
        return f"{match.group(1)}/{match.group(2)}"

    def discover(self, admin: PulsarAdmin) -> frozenset[str]:
        """The splits that exist now. Fixed topics that do not exist (any more) contribute none."""
        if self.pattern is not None:
            return self._discover_pattern(admin)
        splits: set[str] = set()
        for topic in self.topics:
            try:
                splits |= _splits_of(admin, topic)
            except PulsarAdminError as error:
                if error.status != 404:
                    raise
                log.warning("topic %s does not exist (any more); it has no splits", topic)
        return frozenset(splits)

    def _discover_pattern(self, admin: PulsarAdmin) -> frozenset[str]:
        regex = re.compile(self.pattern)
        splits: set[str] = set()
        for base in sorted(namespace_topics(admin, self.namespace)):
            if regex.fullmatch(base):
                try:
                    splits |= _splits_of(admin, base)
                except PulsarAdminError as error:
                    if error.status != 404:  # deleted between the listing and now
                        raise
        return frozenset(splits)


def namespace_topics(admin: PulsarAdmin, namespace: str) -> set[str]:
    """The persistent topics of `namespace` ("tenant/ns") by full name, a partitioned topic once (not its
    partitions), without system topics (local names starting with "__")."""
    bases = {split_partition(name)[0] for name in admin.list_topics(namespace)}
    bases |= set(admin.list_partitioned_topics(namespace))
    return {base for base in bases if not TopicName.parse(base).local.startswith("__")}


def _splits_of(admin: PulsarAdmin, topic: str) -> set[str]:
    name = TopicName.parse(topic)
    partitions = admin.partition_count(name.full)
    if partitions == 0:
        return {name.full}
    return {name.partition(i) for i in range(partitions)}


def diff(known: frozenset[str], discovered: frozenset[str]) -> tuple[list[str], list[str]]:
    """(added, removed) splits, each sorted, going from `known` to `discovered`."""
    return sorted(discovered - known), sorted(known - discovered)


class DiscoveryThread:
    """Runs `subscription.discover` every `interval_s` in a daemon thread; `latest()` is the newest success."""

    def __init__(self, subscription: TopicSubscription, admin: PulsarAdmin, interval_s: float) -> None:
        self._subscription = subscription
        self._admin = admin
        self._interval_s = interval_s
        self._latest: frozenset[str] | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pulsar-split-discovery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def latest(self) -> frozenset[str] | None:
        """The splits found by the newest successful discovery, or None before the first success."""
        with self._lock:
            return self._latest

    def close(self) -> None:
        """Stops the thread; does not wait for an admin call in flight (a frozen broker would hold it for the admin
        time-out), after which the daemon thread ends by itself."""
        self._stopped.set()
        self._thread.join(timeout=1)

    def _run(self) -> None:
        failures = 0
        while not self._stopped.is_set():
            try:
                found = self._subscription.discover(self._admin)
                with self._lock:
                    self._latest = found
                failures = 0
            except Exception as error:  # any failure is retried; the known splits stay as they are
                failures += 1
                log.warning("split discovery failed (%d in a row), retrying in %.1f s: %s",
                            failures, self._interval_s, error)
            self._stopped.wait(self._interval_s)
