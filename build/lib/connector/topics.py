"""Pulsar topic names: parsing short and full names, and naming the partitions of a partitioned topic."""

from __future__ import annotations

from dataclasses import dataclass

from connector.errors import PulsarConfigError

PARTITION_SUFFIX = "-partition-"


@dataclass(frozen=True)
class TopicName:
    """A persistent topic, `persistent://tenant/namespace/local`."""

    tenant: str
    namespace_name: str
    local: str

    @classmethod
    def parse(cls, topic: str) -> TopicName:
        """Accept `name`, `tenant/ns/name` or `persistent://tenant/ns/name`, as the Pulsar clients do."""
        if not topic or not topic.strip():
            raise PulsarConfigError("topic name is empty")
        rest = topic
        if "://" in topic:
            domain, rest = topic.split("://", 1)
            if domain != "persistent":
                raise PulsarConfigError(f"topic {topic!r}: only persistent:// topics are supported, not {domain}://")
        parts = rest.split("/")
        if len(parts) == 1:
            parts = ["public", "default", parts[0]]
        if len(parts) != 3 or not all(parts):
            raise PulsarConfigError(f"topic {topic!r} is not of the form persistent://tenant/namespace/name")
        return cls(*parts)

    @property
    def namespace(self) -> str:
        return f"{self.tenant}/{self.namespace_name}"

    @property
    def full(self) -> str:
        return f"persistent://{self.tenant}/{self.namespace_name}/{self.local}"

    def partition(self, index: int) -> str:
        return f"{self.full}{PARTITION_SUFFIX}{index}"


def full_name(topic: str) -> str:
    return TopicName.parse(topic).full


def split_partition(topic: str) -> tuple[str, int]:
    """(`base topic`, partition index) of `topic`; index -1 for a topic that is not a partition."""
    base, sep, index = topic.rpartition(PARTITION_SUFFIX)
    if sep and index.isdigit():
        return base, int(index)
    return topic, -1
