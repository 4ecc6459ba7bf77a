"""Authentication and TLS on real brokers: the right token (string, file or supplier), OAuth2 client credentials
(from an issuer run by the test) and CA read and write; mutual TLS with the right client certificate reads and
writes; wrong or missing credentials fail fast naming authentication or TLS; no secret shows in a repr, an error
or a printed job graph."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pulsar
import pytest
from pyflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment

from checkpoint.split_state import SplitState
from connector import PulsarSource, SimpleStringSchema, StartCursor, StopCursor
from connector.admin import PulsarAdmin
from connector.errors import PulsarAdminError, SplitReadError
from connector.security import OAuth2ClientCredentials, PulsarSecurity
from connector.sink import DeliveryGuarantee, PulsarSink, PulsarSinkError
from connector.sink.writer import PulsarWriter
from connector.source.reader import SplitReader
from devtools.pulsar_standalone import Broker, make_token, start, stop
from tests.conftest import unique_topic
from tests.oauth2_issuer import OAuth2Issuer
from tests.secure_brokers import MTLS, SECURE, secure_broker_token

CLIENT_ID = "flink-job"
CLIENT_SECRET = "the OAuth2 client secret"


@pytest.fixture(scope="module")
def secure_broker() -> Iterator[Broker]:
    start(SECURE)
    yield SECURE
    stop(SECURE)


@pytest.fixture(scope="module")
def mtls_broker() -> Iterator[Broker]:
    start(MTLS)
    yield MTLS
    stop(MTLS)


@pytest.fixture
def issuer(secure_broker: Broker) -> Iterator[OAuth2Issuer]:
    """An OAuth2 issuer granting CLIENT_ID a JWT the secure broker accepts (signed with its secret key); a new
    one (new URL) per test, so no access token cached by an earlier test is reused."""
    with OAuth2Issuer(CLIENT_ID, CLIENT_SECRET, access_token_for(secure_broker)) as running:
        yield running


def access_token_for(broker: Broker) -> str:
    """What the issuer grants: a JWT for the superuser, signed with the broker's token secret key."""
    return make_token((broker.security_dir / "secret.key").read_bytes(), "admin")


def oauth2_security(broker: Broker, issuer: OAuth2Issuer, folder: Path, client_secret: str) -> PulsarSecurity:
    """OAuth2 client credentials (written to a credentials file in `folder`) plus the broker's CA."""
    credentials = folder / "oauth2-credentials.json"
    credentials.write_text(json.dumps({"client_id": CLIENT_ID, "client_secret": client_secret}))
    return PulsarSecurity(oauth2=OAuth2ClientCredentials(issuer_url=issuer.url, private_key=str(credentials)),
                          tls_trust_certs_file=broker.security().tls_trust_certs_file)


def wrong_token() -> str:
    return make_token(b"not the broker's secret key, 32B", "admin")


def source_builder(broker: Broker, topic: str, security: PulsarSecurity | None):
    builder = (PulsarSource.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
               .set_topics(topic).set_deserialization_schema(SimpleStringSchema())
               .set_start_cursor(StartCursor.earliest()).set_bounded_stop_cursor(StopCursor.latest()))
    return builder.set_security(security) if security else builder


def sink_builder(broker: Broker, topic: str, security: PulsarSecurity):
    return (PulsarSink.builder().set_service_url(broker.service_url).set_admin_url(broker.admin_url)
            .set_topics(topic).set_serialization_schema(SimpleStringSchema()).set_security(security))


def read_with_flink(broker: Broker, topic: str, security: PulsarSecurity) -> list[str]:
    """Everything in `topic`, sorted, read by a bounded PyFlink job (parallelism 2) connecting with `security`."""
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(2)
    source = source_builder(broker, topic, security).build()
    with source.create_stream(env).execute_and_collect() as records:
        return sorted(records)


def write_with_sink_writer(broker: Broker, topic: str, security: PulsarSecurity, values: list[str]) -> None:
    writer = PulsarWriter(sink_builder(broker, topic, security)
                          .set_delivery_guarantee(DeliveryGuarantee.AT_LEAST_ONCE).build().config)
    for value in values:
        writer.write(value)
    writer.flush()
    writer.close()


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
    assert read_with_flink(secure_broker, topic, security) == sorted(f"s{i}" for i in range(20))


@pytest.mark.parametrize("token", [None, "wrong"])
def test_wrong_or_missing_token_fails_fast_when_the_broker_is_checked(secure_broker: Broker, token: str | None) -> None:
    ca = secure_broker.security().tls_trust_certs_file
    security = PulsarSecurity(token=wrong_token() if token else None, tls_trust_certs_file=ca)
    began = time.monotonic()
    with pytest.raises(ValueError, match="HTTP 401: authentication failed") as raised:
        source_builder(secure_broker, "persistent://public/default/anything", security).build().check_broker()
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
    security = secure_broker.security()
    topic = unique_topic("secure-sink")
    PulsarAdmin(secure_broker.admin_url, security=security).create_partitioned_topic(topic, 2)
    write_with_sink_writer(secure_broker, topic, security, [f"w{i}" for i in range(10)])
    client = pulsar.Client(secure_broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn),
                           **security.client_kwargs())
    consumer = client.subscribe(topic, "check", initial_position=pulsar.InitialPosition.Earliest)
    assert sorted(consumer.receive(10_000).data().decode() for _ in range(10)) == sorted(f"w{i}" for i in range(10))
    client.close()


def test_sink_with_a_wrong_token_fails_naming_authentication(secure_broker: Broker) -> None:
    topic = unique_topic("secure-sink-denied")
    PulsarAdmin(secure_broker.admin_url, security=secure_broker.security()).create_topic(topic)
    wrong = PulsarSecurity(token=wrong_token(), tls_trust_certs_file=secure_broker.security().tls_trust_certs_file)
    sink = (sink_builder(secure_broker, topic, wrong).set_delivery_guarantee(DeliveryGuarantee.NONE)
            .set_client_config({"operation_timeout_seconds": 3}).build())
    writer = PulsarWriter(sink.config)
    with pytest.raises(PulsarSinkError, match=f"{topic}.*HTTP 401: authentication failed"):
        writer.write("never written")
    writer.close()


# -- token supplier -------------------------------------------------------------------------------------------


def test_token_supplier_writes_with_the_sink_and_reads_in_a_flink_job(secure_broker: Broker) -> None:
    security = PulsarSecurity(token_supplier=secure_broker_token,
                              tls_trust_certs_file=secure_broker.security().tls_trust_certs_file)
    topic = unique_topic("supplier")
    PulsarAdmin(secure_broker.admin_url, security=security).create_partitioned_topic(topic, 2)
    write_with_sink_writer(secure_broker, topic, security, [f"t{i}" for i in range(12)])
    # The Flink Python workers hold no token of their own: they connect with the unpickled supplier.
    assert read_with_flink(secure_broker, topic, security) == sorted(f"t{i}" for i in range(12))


class TokenCache:
    """Holds a lock, as a real token cache would: its bound method cannot be pickled."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def token(self) -> str:
        with self.lock:
            return secure_broker_token()


def test_unpicklable_token_supplier_is_refused_when_the_security_is_made() -> None:
    with pytest.raises(ValueError, match=r"token_supplier TokenCache.token cannot be pickled to the Flink workers "
                                         r"\(TypeError: cannot pickle '_thread.lock' object\)"):
        PulsarSecurity(token_supplier=TokenCache().token)


# -- OAuth2 client credentials --------------------------------------------------------------------------------


def test_oauth2_writes_reads_in_a_flink_job_and_admin_calls_get_their_token_from_the_issuer(
        secure_broker: Broker, issuer: OAuth2Issuer, tmp_path: Path) -> None:
    security = oauth2_security(secure_broker, issuer, tmp_path, CLIENT_SECRET)
    assert security.admin_headers(timeout_s=5) == {"Authorization": f"Bearer {issuer.access_token}"}
    assert issuer.token_requests == 1
    topic = unique_topic("oauth2")
    admin = PulsarAdmin(secure_broker.admin_url, security=security)
    admin.create_partitioned_topic(topic, 2)
    assert admin.partition_count(topic) == 2
    assert issuer.token_requests == 1  # the admin calls reuse the access token until it nears expiry
    write_with_sink_writer(secure_broker, topic, security, [f"o{i}" for i in range(10)])
    assert read_with_flink(secure_broker, topic, security) == sorted(f"o{i}" for i in range(10))
    assert issuer.token_requests >= 3  # the sink writer's client here and the Flink workers' clients asked too


def test_oauth2_with_a_wrong_client_secret_fails_fast_naming_the_issuer(
        secure_broker: Broker, issuer: OAuth2Issuer, tmp_path: Path) -> None:
    wrong_secret = "not the client secret"
    security = oauth2_security(secure_broker, issuer, tmp_path, wrong_secret)
    topic = unique_topic("oauth2-denied")
    PulsarAdmin(secure_broker.admin_url, security=secure_broker.security()).create_topic(topic)
    refused = (rf"authentication failed: OAuth2 issuer {issuer.url}/token refused client '{CLIENT_ID}': "
               rf"HTTP 401 invalid_client")
    began = time.monotonic()
    with pytest.raises(ValueError, match=refused) as built:
        source_builder(secure_broker, topic, security).build().check_broker()
    client = pulsar.Client(secure_broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error),
                           operation_timeout_seconds=3, **security.client_kwargs())
    admin = PulsarAdmin(secure_broker.admin_url, security=security)
    with pytest.raises(SplitReadError, match="authentication failed") as opened:
        SplitReader(client, admin, SplitState(topic), StartCursor.earliest(), StopCursor.never())
    client.close()
    writer = PulsarWriter(sink_builder(secure_broker, topic, security).build().config)
    with pytest.raises(PulsarSinkError, match=f"{topic}.*{refused}") as written:
        writer.write("never written")
    writer.close()
    assert time.monotonic() - began < 5
    assert wrong_secret not in str(built.value) + str(opened.value) + str(written.value)
    assert issuer.token_requests == 0


def test_oauth2_issuer_over_https_is_trusted_with_the_brokers_ca(secure_broker: Broker, tmp_path: Path) -> None:
    folder = secure_broker.security_dir
    certificate = (str(folder / "broker.cert.pem"), str(folder / "broker.key.pem"))  # for 127.0.0.1
    with OAuth2Issuer(CLIENT_ID, CLIENT_SECRET, access_token_for(secure_broker), certificate) as https_issuer:
        assert https_issuer.url.startswith("https://")
        security = oauth2_security(secure_broker, https_issuer, tmp_path, CLIENT_SECRET)
        topic = unique_topic("oauth2-https")
        PulsarAdmin(secure_broker.admin_url, security=security).create_topic(topic)
        write_with_sink_writer(secure_broker, topic, security, ["over https"])
        assert https_issuer.token_requests == 2  # the admin calls and the binary client each got one


# -- mutual TLS -----------------------------------------------------------------------------------------------


def test_mutual_tls_client_certificate_writes_and_reads_in_a_flink_job(mtls_broker: Broker) -> None:
    security = mtls_broker.security()
    assert security.tls_certificate_file and security.tls_key_file
    topic = unique_topic("mtls")
    PulsarAdmin(mtls_broker.admin_url, security=security).create_partitioned_topic(topic, 2)
    write_with_sink_writer(mtls_broker, topic, security, [f"m{i}" for i in range(12)])
    assert read_with_flink(mtls_broker, topic, security) == sorted(f"m{i}" for i in range(12))


def test_mutual_tls_without_a_client_certificate_is_refused_naming_tls(mtls_broker: Broker) -> None:
    no_certificate = PulsarSecurity(tls_trust_certs_file=mtls_broker.security().tls_trust_certs_file)
    topic = unique_topic("mtls-denied")
    PulsarAdmin(mtls_broker.admin_url, security=mtls_broker.security()).create_topic(topic)
    handshake_refused = "TLS handshake failed .*client certificate when the broker requires one"
    with pytest.raises(ValueError, match=handshake_refused):
        source_builder(mtls_broker, topic, no_certificate).build().check_broker()
    client = pulsar.Client(mtls_broker.service_url, logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error),
                           operation_timeout_seconds=3, **no_certificate.client_kwargs())
    admin = PulsarAdmin(mtls_broker.admin_url, security=no_certificate)
    began = time.monotonic()
    # The C++ client sees the refused handshake as a time-out; the reader asks the admin API why.
    with pytest.raises(SplitReadError, match=handshake_refused):
        SplitReader(client, admin, SplitState(topic), StartCursor.earliest(), StopCursor.never())
    assert time.monotonic() - began < 3 + 5
    client.close()


# -- secrets in the job graph ---------------------------------------------------------------------------------


def test_printed_job_graph_shows_no_token_client_secret_or_private_key(
        secure_broker: Broker, mtls_broker: Broker, issuer: OAuth2Issuer, tmp_path: Path) -> None:
    token = secure_broker.security().current_token()
    ca = secure_broker.security().tls_trust_certs_file
    mtls = mtls_broker.security()
    topic, mtls_topic = unique_topic("graph"), unique_topic("graph-mtls")
    PulsarAdmin(secure_broker.admin_url, security=secure_broker.security()).create_topic(topic)
    PulsarAdmin(mtls_broker.admin_url, security=mtls).create_topic(mtls_topic)
    env = StreamExecutionEnvironment.get_execution_environment()
    streams = [
        source_builder(secure_broker, topic, PulsarSecurity(token=token, tls_trust_certs_file=ca)).build(),
        source_builder(secure_broker, topic, oauth2_security(secure_broker, issuer, tmp_path, CLIENT_SECRET)).build(),
        source_builder(mtls_broker, mtls_topic, mtls).build()]
    merged = streams[0].create_stream(env).union(*(source.create_stream(env) for source in streams[1:]))
    sink_builder(secure_broker, topic, PulsarSecurity(token_supplier=secure_broker_token, tls_trust_certs_file=ca)
                 ).build().sink_to(merged)
    plan = env.get_execution_plan()
    operators = [node["type"] for node in json.loads(plan)["nodes"]]
    assert operators.count("pulsar-source: split readers") == 3 and "pulsar-sink: Pulsar writer" in operators
    private_key_line = Path(mtls.tls_key_file).read_text().splitlines()[1]  # a line of the PEM body
    for secret in (token, CLIENT_SECRET, private_key_line):
        assert secret not in plan
