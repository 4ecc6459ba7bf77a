"""A small client for Pulsar's admin REST API (v2), the calls the connector and its tests make.

Only persistent topics. Every failure raises `PulsarAdminError` naming the URL, the HTTP status and the
broker's reason, so a caller never has to guess which topic or setting was wrong.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from connector.errors import PulsarAdminError, PulsarAuthenticationError
from connector.security import PulsarSecurity
from connector.topics import TopicName, split_partition


@dataclass(frozen=True)
class LastMessageId:
    """The broker's last written position of a (non-partitioned or partition) topic."""

    ledger_id: int
    entry_id: int
    batch_index: int


class PulsarAdmin:
    """Calls the REST admin API at `admin_url` (for example http://127.0.0.1:8080), with the credentials and
    TLS settings of `security` when given."""

    def __init__(self, admin_url: str, timeout_s: float = 10.0, security: PulsarSecurity | None = None) -> None:
        self.admin_url = admin_url.rstrip("/")
        self.timeout_s = timeout_s
        self.security = security
        self._ssl: ssl.SSLContext | None = None  # made on first https call; not pickled

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_ssl": None}

    # -- topics -------------------------------------------------------------------------------------

    def partition_count(self, topic: str) -> int:
        """Partitions of `topic`: 0 for a non-partitioned topic (Pulsar's own convention)."""
        body = self._call("GET", f"{_path(topic)}/partitions")
        return int(body["partitions"])

    def topic_exists(self, topic: str) -> bool:
        """True when `topic` is a partitioned topic or an existing non-partitioned topic."""
        name = TopicName.parse(topic)
        try:
            if self.partition_count(name.full) > 0:
                return True
        except PulsarAdminError as error:
            if error.status == 404:
                return False
            raise
        return name.full in self.list_topics(name.namespace)

    def list_topics(self, namespace: str) -> list[str]:
        """Every persistent topic of `namespace` ("tenant/ns") as the broker lists them, partitions included."""
        return list(self._call("GET", f"/admin/v2/persistent/{namespace}"))

    def list_partitioned_topics(self, namespace: str) -> list[str]:
        return list(self._call("GET", f"/admin/v2/persistent/{namespace}/partitioned"))

    def create_topic(self, topic: str) -> None:
        """Create a non-partitioned topic."""
        self._call("PUT", _path(topic))

    def create_partitioned_topic(self, topic: str, partitions: int) -> None:
        self._call("PUT", f"{_path(topic)}/partitions", partitions)

    def update_partitions(self, topic: str, partitions: int) -> None:
        """Grow a partitioned topic to `partitions` (Pulsar never shrinks one)."""
        self._call("POST", f"{_path(topic)}/partitions", partitions)

    def delete_topic(self, topic: str) -> None:
        """Delete a partitioned or non-partitioned topic, even with producers or readers attached."""
        if self.partition_count(topic) > 0:
            self._call("DELETE", f"{_path(topic)}/partitions?force=true")
        else:
            self._call("DELETE", f"{_path(topic)}?force=true")

    def last_message_id(self, topic: str) -> LastMessageId:
        """The last written position of a non-partitioned topic or of one partition (`...-partition-N`)."""
        body = self._call("GET", f"{_path(topic)}/lastMessageId")
        return LastMessageId(int(body["ledgerId"]), int(body["entryId"]), int(body.get("batchIndex", -1)))

    # -- schema registry ----------------------------------------------------------------------------

    def get_schema(self, topic: str, version: int | None = None) -> dict[str, Any] | None:
        """The topic's latest (or `version`) registered schema as the broker returns it, None when it has none.

        Keys: `version`, `type` (AVRO, JSON, STRING, ...), `data` (the schema definition), `properties`.
        """
        suffix = "" if version is None else f"/{version}"
        try:
            return self._call("GET", f"{_schema_path(topic)}/schema{suffix}")
        except PulsarAdminError as error:
            if error.status == 404:
                return None
            raise

    def get_schemas(self, topic: str) -> list[dict[str, Any]]:
        """Every version of the topic's registered schema (keys as in `get_schema`), oldest first."""
        try:
            body = self._call("GET", f"{_schema_path(topic)}/schemas")
        except PulsarAdminError as error:
            if error.status == 404:
                return []
            raise
        return list(body.get("getSchemaResponses", []))

    def post_schema(self, topic: str, schema_type: str, definition: str,
                    properties: dict[str, str] | None = None) -> None:
        """Register a schema for the topic: a new version, or none when it equals the latest. The broker refuses
        (HTTP 409) a schema incompatible under the namespace's compatibility strategy."""
        self._call("POST", f"{_schema_path(topic)}/schema",
                   {"type": schema_type, "schema": definition, "properties": dict(properties or {})})

    def partitioned_stats(self, topic: str, per_partition: bool = False) -> dict[str, Any]:
        """Stats of a partitioned topic summed over its partitions (msgInCounter, msgOutCounter, ...); with
        `per_partition`, also each partition's own under "partitions" (keyed by the partition's full name)."""
        query = "?perPartition=true" if per_partition else ""
        return dict(self._call("GET", f"{_path(topic)}/partitioned-stats{query}"))

    def internal_stats(self, topic: str) -> dict[str, Any]:
        """The managed ledger's internal stats of a non-partitioned topic or one partition."""
        return dict(self._call("GET", f"{_path(topic)}/internalStats"))

    def partitioned_internal_stats(self, topic: str) -> dict[str, dict[str, Any]]:
        """Partition (full name) -> its managed ledger's internal stats, for every partition of a partitioned
        topic, in one call."""
        return dict(self._call("GET", f"{_path(topic)}/partitioned-internalStats").get("partitions") or {})

    # -- namespaces ---------------------------------------------------------------------------------

    def set_deduplication(self, namespace: str, enabled: bool) -> None:
        self._call("POST", f"/admin/v2/namespaces/{namespace}/deduplication", enabled)

    def get_deduplication(self, namespace: str) -> bool | None:
        """The namespace's own setting, or None when it follows the broker default."""
        return self._call("GET", f"/admin/v2/namespaces/{namespace}/deduplication")

    def create_namespace(self, namespace: str, exist_ok: bool = False) -> None:
        """Create `namespace`; with `exist_ok`, one that exists already is not an error (HTTP 409)."""
        try:
            self._call("PUT", f"/admin/v2/namespaces/{namespace}")
        except PulsarAdminError as error:
            if not (exist_ok and error.status == 409):
                raise

    def set_retention(self, namespace: str, minutes: int, size_mb: int) -> None:
        self._call("POST", f"/admin/v2/namespaces/{namespace}/retention",
                   {"retentionTimeInMinutes": minutes, "retentionSizeInMB": size_mb})

    def clusters(self) -> list[str]:
        return list(self._call("GET", "/admin/v2/clusters"))

    def explain_connection_failure(self) -> str:
        """Why a binary-protocol call may have failed, asked of the admin API with the same credentials:
        " (<admin error>)", or "" when the admin API answers. The C++ client reports a broker that rejected its
        credentials as a time-out; the admin API says "HTTP 401: authentication failed"."""
        try:
            self.clusters()
        except PulsarAdminError as error:
            return f" ({error})"
        return ""

    # -- transport ----------------------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext | None:
        if self._ssl is None and self.security is not None and self.admin_url.startswith("https"):
            self._ssl = self.security.ssl_context()
        return self._ssl

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        url = self.admin_url + path
        data = None if payload is None else json.dumps(payload).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            if self.security is not None:
                headers.update(self.security.admin_headers(self.timeout_s))
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            with urllib.request.urlopen(request, timeout=self.timeout_s, context=self._ssl_context()) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            reason = _broker_reason(error)
            if error.code in (401, 403):
                reason = f"authentication failed ({'no' if 'Authorization' not in headers else 'rejected'} " \
                         f"credentials): {reason}"
            raise PulsarAdminError(f"Pulsar admin {method} {url} failed: HTTP {error.code}: {reason}",
                                   error.code) from None
        except PulsarAuthenticationError as error:  # no credentials to send: the OAuth2 issuer said why
            raise PulsarAdminError(f"Pulsar admin {method} {url} failed: {error}") from None
        except (urllib.error.URLError, OSError) as error:
            cause = getattr(error, "reason", error)
            if isinstance(error, ssl.SSLError) or isinstance(cause, ssl.SSLError):
                raise PulsarAdminError(f"Pulsar admin {method} {url} failed: TLS handshake failed ({cause}): check "
                                       f"the trusted CA, and the client certificate when the broker requires one "
                                       f"(mutual TLS)") from None
            raise PulsarAdminError(f"Pulsar admin {method} {url} failed: broker not reachable ({cause})") from None
        return json.loads(raw) if raw else None


def _path(topic: str) -> str:
    name = TopicName.parse(topic)
    return f"/admin/v2/persistent/{name.namespace}/{urllib.parse.quote(name.local, safe='')}"


def _schema_path(topic: str) -> str:
    """Schemas belong to the topic, not to a partition of it."""
    name = TopicName.parse(split_partition(topic)[0])
    return f"/admin/v2/schemas/{name.namespace}/{urllib.parse.quote(name.local, safe='')}"


def _broker_reason(error: urllib.error.HTTPError) -> str:
    try:
        body = error.read().decode(errors="replace")
        return str(json.loads(body).get("reason", body))
    except (ValueError, AttributeError):
        return error.reason
