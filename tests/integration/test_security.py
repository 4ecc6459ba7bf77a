"""Token authentication and TLS on a real broker: the right token and CA read; wrong or missing ones fail fast
with "authentication failed"; no secret shows in a repr or an error."""

from __future__ import annotations

import time

import pulsar
import pytest
from pyflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment

from checkpoint.split_state import SplitState
from connector import PulsarSource, SimpleStringSchema, StartCursor, StopCursor
from connector.admin import PulsarAdmin, PulsarAdminError
from connector.security import PulsarSecurity
from connector.source.reader import SplitReader, SplitReadError
from tests.conftest import unique_topic
from tools.pulsar_standalone import Broker, make_token, start, stop

SECURE = Broker(name="secure", port=22650, web_port=22080, auth_token=True, tls=True)


@pytest.fixture(scope="module")
def secure_broker() -> Broker:
    start(SECURE)
    yield SECURE
    stop(SECURE)


def wrong_token() -> str:
    return make_token(b"not the broker's secret key, 32B", "admin")


def source_builder(broker: Broker, topic: str, security: PulsarSecurity | None):
    builder = (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
               .set_topics(topic).set_deserialization_schema(SimpleStringSchema())
               .set_start_cursor(StartCursor.earliest()).set_bounded_stop_cursor(StopCursor.latest()))
    return builder.set_security(security) if security else builder


def test_right_token_and_ca_read_over_tls(secure_broker: Broker) -> None:
    security = secure_broker.security()
    topic = unique_topic("secure")
    PulsarAdmin(secure_broker.admin_url, security=security).create_partitioned_topic(topic, 2)
    client = pulsar.Client(secure_broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn),
                           **security.client_kwargs())
    producer = client.create_producer(topic)
    for i in range(20):
        producer.send(f"s{i}".encode(), partition_key=str(i))
    client.close()
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(2)
    source = source_builder(secure_broker, topic, security).build()
    with source.create_stream(env).execute_and_collect() as records:
        assert sorted(records) == sorted(f"s{i}" for i in range(20))


@pytest.mark.parametrize("token", [None, "wrong"])
def test_wrong_or_missing_token_fails_fast_at_build(secure_broker: Broker, token: str | None) -> None:
    ca = secure_broker.security().tls_trust_certs_file
    security = PulsarSecurity(token=wrong_token() if token else None, tls_trust_certs_file=ca)
    began = time.monotonic()
    with pytest.raises(ValueError, match="HTTP 401: authentication failed") as raised:
        source_builder(secure_broker, "persistent://public/default/anything", security).build()
    assert time.monotonic() - began < 5
    assert wrong_token() not in str(raised.value)


def test_wrong_token_on_the_binary_protocol_fails_within_the_operation_timeout_naming_authentication(secure_broker: Broker) -> None:
    security = PulsarSecurity(token=wrong_token(), tls_trust_certs_file=secure_broker.security().tls_trust_certs_file)
    client = pulsar.Client(secure_broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error),
                           operation_timeout_seconds=3, **security.client_kwargs())
    admin = PulsarAdmin(secure_broker.admin_url, security=security)
    topic = unique_topic("auth")
    PulsarAdmin(secure_broker.admin_url, security=secure_broker.security()).create_topic(topic)
    began = time.monotonic()
    # The C++ client sees the broker's rejection as a time-out; the reader asks the admin API why.
    with pytest.raises(SplitReadError, match="HTTP 401: authentication failed"):
        SplitReader(client, admin, SplitState(topic), StartCursor.earliest(), StopCursor.never())
    assert time.monotonic() - began < 3 + 5
    client.close()


def test_untrusted_certificate_is_refused(secure_broker: Broker) -> None:
    untrusted = PulsarSecurity(token_file=secure_broker.security().token_file)  # system CAs only
    with pytest.raises(PulsarAdminError, match="CERTIFICATE_VERIFY_FAILED"):
        PulsarAdmin(secure_broker.admin_url, security=untrusted).clusters()


def test_secrets_stay_out_of_reprs_and_errors(secure_broker: Broker) -> None:
    secret = wrong_token()
    security = PulsarSecurity(token=secret, tls_trust_certs_file=secure_broker.security().tls_trust_certs_file)
    assert secret not in repr(security) and "token=<hidden>" in repr(security)
    real_token = secure_broker.security().current_token()
    with_token = PulsarSecurity(token=real_token, tls_trust_certs_file=security.tls_trust_certs_file)
    topic = unique_topic("repr")
    PulsarAdmin(secure_broker.admin_url, security=with_token).create_topic(topic)
    source = source_builder(secure_broker, topic, with_token).build()
    assert real_token not in repr(source) and real_token not in str(source)
    with pytest.raises(PulsarAdminError) as raised:
        PulsarAdmin(secure_broker.admin_url, security=security).clusters()
    assert secret not in str(raised.value)
    with pytest.raises(ValueError, match="module-level function"):
        PulsarSecurity(token_supplier=lambda: secret)


def test_sink_writes_with_the_same_security(secure_broker: Broker) -> None:
    from connector.sink import DeliveryGuarantee, PulsarSink
    from connector.sink.writer import PulsarWriter

    security = secure_broker.security()
    topic = unique_topic("secure-sink")
    PulsarAdmin(secure_broker.admin_url, security=security).create_partitioned_topic(topic, 2)
    sink = (PulsarSink.builder().set_service_url(secure_broker.service_url).set_admin_url(secure_broker.admin_url)
            .set_topics(topic).set_serialization_schema(SimpleStringSchema())
            .set_delivery_guarantee(DeliveryGuarantee.AT_LEAST_ONCE).set_security(security).build())
    writer = PulsarWriter(sink.config)
    for i in range(10):
        writer.write(f"w{i}")
    writer.flush()
    writer.close()
    client = pulsar.Client(secure_broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn),
                           **security.client_kwargs())
    consumer = client.subscribe(topic, "check", initial_position=pulsar.InitialPosition.Earliest)
    assert sorted(consumer.receive(10_000).data().decode() for _ in range(10)) == sorted(f"w{i}" for i in range(10))
    client.close()


def test_sink_with_a_wrong_token_fails_naming_authentication(secure_broker: Broker) -> None:
    from connector.sink import DeliveryGuarantee, PulsarSink, PulsarSinkError
    from connector.sink.writer import PulsarWriter

    topic = unique_topic("secure-sink-denied")
    PulsarAdmin(secure_broker.admin_url, security=secure_broker.security()).create_topic(topic)
    wrong = PulsarSecurity(token=wrong_token(), tls_trust_certs_file=secure_broker.security().tls_trust_certs_file)
    sink = (PulsarSink.builder().set_service_url(secure_broker.service_url).set_admin_url(secure_broker.admin_url)
            .set_topics(topic).set_serialization_schema(SimpleStringSchema())
            .set_delivery_guarantee(DeliveryGuarantee.NONE).set_security(wrong)
            .set_client_config({"operation_timeout_seconds": 3}).build())
    writer = PulsarWriter(sink.config)
    with pytest.raises(PulsarSinkError, match=f"{topic}.*HTTP 401: authentication failed"):
        writer.write("never written")
    writer.close()
