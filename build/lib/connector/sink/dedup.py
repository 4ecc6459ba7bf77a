"""Whether the broker deduplicates messages on a topic: what EXACTLY_ONCE stands on."""

from __future__ import annotations

from connector.admin import PulsarAdmin
from connector.errors import PulsarAdminError
from connector.security import PulsarSecurity
from connector.topics import TopicName, split_partition


class _DeduplicationAdmin(PulsarAdmin):
    def deduplicates(self, topic: str) -> bool:
        """The setting in force on `topic` (topic policy, else namespace policy, else broker default); for a
        topic that does not exist yet, whether its namespace policy turns deduplication on."""
        name = TopicName.parse(split_partition(topic)[0])
        try:
            return bool(self._call("GET", f"/admin/v2/persistent/{name.namespace}/{name.local}"
                                          "/deduplicationEnabled?applied=true"))
        except PulsarAdminError as error:
            if error.status != 404:
                raise
        return self.get_deduplication(name.namespace) is True


def deduplication_problem(admin_url: str, topic: str, security: PulsarSecurity | None = None) -> str | None:
    """None when the broker deduplicates `topic`; otherwise why EXACTLY_ONCE cannot write to it."""
    namespace = TopicName.parse(topic).namespace
    try:
        if _DeduplicationAdmin(admin_url, security=security).deduplicates(topic):
            return None
    except PulsarAdminError as error:
        return f"cannot read the deduplication setting of {topic}: {error}"
    return (f"deliveryGuarantee EXACTLY_ONCE needs broker message deduplication on {topic}, and it is off; "
            f"enable it, e.g. `pulsar-admin namespaces set-deduplication {namespace} --enable` "
            f"(REST: POST /admin/v2/namespaces/{namespace}/deduplication true)")
