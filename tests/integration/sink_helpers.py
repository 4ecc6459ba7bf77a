"""Helpers of the sink's integration tests: namespaces with the policies a test needs, reading topics back."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pulsar

from connector.admin import PulsarAdmin, PulsarAdminError

DEDUP_NAMESPACE = "public/sink-dedup"
NO_AUTO_CREATE_NAMESPACE = "public/sink-no-autocreate"


def namespace(admin: PulsarAdmin, name: str, deduplication: bool = False, auto_create: bool = True) -> str:
    """Create `name` once per broker and apply the policies (idempotent)."""
    try:
        admin.create_namespace(name)
    except PulsarAdminError as error:
        if error.status != 409:
            raise
    admin.set_deduplication(name, deduplication)
    request = urllib.request.Request(f"{admin.admin_url}/admin/v2/namespaces/{name}/autoTopicCreation",
                                     data=json.dumps({"allowAutoTopicCreation": auto_create,
                                                      "topicType": "non-partitioned"}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()
    return name


def new_topic(namespace_name: str, label: str) -> str:
    return f"persistent://{namespace_name}/{label}-{uuid.uuid4().hex[:8]}"


def read_all(client: pulsar.Client, topic: str) -> list[pulsar.Message]:
    """Every message of one non-partitioned topic or partition, oldest first."""
    reader = client.create_reader(topic, pulsar.MessageId.earliest)
    try:
        messages = []
        while reader.has_message_available():
            messages.append(reader.read_next(10_000))
        return messages
    finally:
        reader.close()


def read_partitions(client: pulsar.Client, admin: PulsarAdmin, topic: str) -> dict[str, list[pulsar.Message]]:
    """Partition topic name -> its messages, for a partitioned or non-partitioned `topic`."""
    count = admin.partition_count(topic)
    names = [f"{topic}-partition-{i}" for i in range(count)] if count else [topic]
    return {name: read_all(client, name) for name in names}
