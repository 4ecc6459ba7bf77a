"""Bad sink configuration fails at build() with a ValueError naming the (Java connector's) option."""

from __future__ import annotations

import pytest

from connector.errors import PulsarConfigError
from connector.serde import SimpleStringSchema
from connector.sink import (DeliveryGuarantee, KeyHashTopicRouter, PulsarSink, PulsarSinkBuilder, RoundRobinTopicRouter,
                            TopicRoutingMode)


def valid() -> PulsarSinkBuilder:
    return (PulsarSink.builder().set_service_url("pulsar://127.0.0.1:6650").set_topics("out")
            .set_serialization_schema(SimpleStringSchema()))


def test_a_minimal_sink_builds_with_defaults() -> None:
    config = valid().build().config
    assert config.delivery_guarantee == DeliveryGuarantee.NONE
    assert isinstance(config.router, KeyHashTopicRouter)
    assert config.send_timeout_ms == 30_000 and config.max_pending_messages == 10_000
    assert config.max_pending_bytes == 64 << 20 and config.producer_config == {}
    assert config.topics == ("out",)


@pytest.mark.parametrize(("change", "message"), [
    (lambda b: b.set_service_url("http://127.0.0.1:8080"), "serviceUrl"),
    (lambda b: b.set_topics(), "topics: set the target topics"),
    (lambda b: b.set_topics("nonpersistent://a/b/c"), "topics: .*only persistent"),
    (lambda b: b.set_topic_selector(lambda e: "x"), "topics: set either fixed topics or a topic selector"),
    (lambda b: b.set_serialization_schema(None), "serializationSchema"),
    (lambda b: b.set_delivery_guarantee("EXACTLY_ONCE"), "deliveryGuarantee"),
    (lambda b: b.set_topic_routing_mode(TopicRoutingMode.CUSTOM), "topicRouter: topicRoutingMode CUSTOM"),
    (lambda b: b.set_topic_router(RoundRobinTopicRouter()), "topicRouter is only used with topicRoutingMode CUSTOM"),
    (lambda b: b.set_producer_config({"producer_name": "x"}),
     "producerConfig has 'producer_name', not a pulsar.Client.create_producer keyword the connector passes on"),
    (lambda b: b.set_producer_config({"no_such_option": 1}),
     "producerConfig has 'no_such_option', not a pulsar.Client.create_producer keyword"),
    (lambda b: b.set_producer_config({"send_timeout_millis": 0}), "producerConfig: send_timeout_millis"),
    (lambda b: b.set_producer_config({"max_pending_bytes": 0}), "producerConfig: .*max_pending_bytes must be positive"),
    (lambda b: b.set_producer_config({"batching_max_messages": 0}),
     "producerConfig: batching_max_messages must be a positive integer, not 0"),
    (lambda b: b.set_producer_config({"batching_max_allowed_size_in_bytes": 1.5}),
     "producerConfig: batching_max_allowed_size_in_bytes must be a positive integer, not 1.5"),
    (lambda b: b.set_client_config({"service_url": "x"}), "set_client_config has 'service_url', not a pulsar.Client"),
    (lambda b: b.set_sink_name("bad name"), "sinkName"),
    (lambda b: b.set_delivery_guarantee(DeliveryGuarantee.EXACTLY_ONCE), "adminUrl"),
])
def test_bad_option_is_named(change, message: str) -> None:
    with pytest.raises(PulsarConfigError, match=message):
        change(valid()).build()


def test_build_does_no_io_and_the_broker_check_names_an_unreachable_admin_url() -> None:
    sink = valid().set_delivery_guarantee(DeliveryGuarantee.EXACTLY_ONCE).set_admin_url("http://127.0.0.1:1").build()
    with pytest.raises(PulsarConfigError, match="cannot read the deduplication setting of out.*not reachable"):
        sink.check_broker()


def test_build_leaves_the_builder_reusable() -> None:
    builder = valid().set_producer_config({"send_timeout_millis": 5000, "compression_type": None})
    assert builder.build().config.send_timeout_ms == 5000
    assert builder.build().config.send_timeout_ms == 5000
    assert builder.build().config.producer_config == {"compression_type": None}
