"""Start, stop and inspect a local Apache Pulsar standalone broker, fetched from Maven Central.

    python -m devtools.pulsar_standalone start [--name N] [--port 6650] [--web-port 8080] [--deduplication]
                                            [--auth-token] [--tls [--tls-client-auth]]
                                            [--no-entry-cache] [--local-transport]
    python -m devtools.pulsar_standalone stop|status|wipe [--name N]

The broker's classpath (devtools/pulsar/pom.xml, Pulsar 4.2.4) is resolved once with Maven into
.cache/pulsar/lib-<version>/ and reused. Each named instance keeps its config, data, log and pid under
.cache/pulsar/<name>/. `start` returns once the admin API answers and a produce/consume round trip
succeeds; it is a no-op when that instance is already running. `stop` ends the process it started.

`--auth-token` turns on JWT token authentication (a secret key and an `admin` token are made at start, in
.cache/pulsar/<name>/security/); `--tls` adds TLS listeners (binary port+3, admin web port+443) with a
self-signed CA and a certificate for 127.0.0.1/localhost made with openssl; `--tls-client-auth` (mutual TLS)
makes the broker refuse TLS clients, binary and admin, without a certificate signed by that CA, and makes one
(client.cert.pem, client.key.pem). Nothing of it is committed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from connector.admin import PulsarAdmin
from connector.errors import PulsarAdminError
from connector.security import PulsarSecurity
from devtools.processes import alive, log_tail, terminate

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "pulsar"
POM_DIR = Path(__file__).resolve().parent / "pulsar"
PULSAR_VERSION = "4.2.4"
HEAP = "768m"
DIRECT_MEMORY = "1g"
START_TIMEOUT_S = 120


class BrokerError(RuntimeError):
    pass


@dataclass(frozen=True)
class Broker:
    """One named local standalone broker and the ports it listens on (loopback only)."""

    name: str = "default"
    port: int = 6650
    web_port: int = 8080
    deduplication: bool = False
    auth_token: bool = False
    tls: bool = False
    tls_client_auth: bool = False
    entry_cache: bool = True
    """False: the broker keeps no entry cache, so every read comes from the bookie (what a backlog reads)."""
    local_transport: bool = False
    """True: the embedded bookie talks to the broker in-process, as before issue 11. That transport cannot carry
    entries of 16 KiB or more back to the broker, so stored batched data stops being readable: kept only to
    test how the source reports a broker that does not deliver."""

    def __post_init__(self) -> None:
        if self.tls_client_auth and not self.tls:
            raise BrokerError("tls_client_auth (mutual TLS) needs tls")

    @property
    def home(self) -> Path:
        return CACHE / self.name

    @property
    def security_dir(self) -> Path:
        return self.home / "security"

    @property
    def service_url(self) -> str:
        return f"pulsar+ssl://127.0.0.1:{self.port + 3}" if self.tls else f"pulsar://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"https://127.0.0.1:{self.web_port + 443}" if self.tls else f"http://127.0.0.1:{self.web_port}"

    def security(self) -> PulsarSecurity | None:
        """What a client needs to connect: the admin token, the CA and the client certificate, each when the
        broker asks for it, or None for a plain broker."""
        if not (self.auth_token or self.tls):
            return None
        return PulsarSecurity(
            token_file=str(self.security_dir / "admin.token") if self.auth_token else None,
            tls_trust_certs_file=str(self.security_dir / "ca.cert.pem") if self.tls else None,
            tls_certificate_file=str(self.security_dir / "client.cert.pem") if self.tls_client_auth else None,
            tls_key_file=str(self.security_dir / "client.key.pem") if self.tls_client_auth else None)

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "broker.log"

    def pid(self) -> int | None:
        """The pid of this instance's broker when that process is alive, else None."""
        try:
            pid = int(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        if not alive(pid):
            return None
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists() and b"PulsarStandaloneStarter" not in cmdline.read_bytes():
            return None  # the pid was reused by another process
        return pid

    def is_serving(self) -> bool:
        try:
            return "standalone" in PulsarAdmin(self.admin_url, timeout_s=2, security=self.security()).clusters()
        except (PulsarAdminError, OSError):
            return False


def classpath() -> Path:
    """The directory holding the broker's jars, resolved with Maven on first use."""
    lib = CACHE / f"lib-{PULSAR_VERSION}"
    marker = lib / ".complete"
    if marker.exists():
        return lib
    if shutil.which("mvn") is None:
        raise BrokerError("Maven (mvn) is needed once to fetch the Pulsar broker from Maven Central; install it")
    shutil.rmtree(lib, ignore_errors=True)
    print(f"fetching Apache Pulsar {PULSAR_VERSION} broker jars from Maven Central into {lib} ...", flush=True)
    command = ["mvn", "-q", "-B", "-s", str(POM_DIR / "settings.xml"), "-f", str(POM_DIR / "pom.xml"),
               f"-Dpulsar.version={PULSAR_VERSION}", "dependency:copy-dependencies",
               f"-DoutputDirectory={lib}"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BrokerError(f"fetching the Pulsar broker failed ({' '.join(command)}):\n{done.stdout[-3000:]}"
                          f"{done.stderr[-2000:]}")
    marker.write_text(PULSAR_VERSION)
    return lib


def write_config(broker: Broker) -> Path:
    data = broker.home / "data"
    conf = broker.home / "standalone.conf"
    settings = {
        "clusterName": "standalone",
        "bindAddress": "127.0.0.1",
        "advertisedAddress": "127.0.0.1",
        "brokerServicePort": broker.port,
        "webServicePort": broker.web_port,
        "metadataStoreUrl": f"rocksdb://{data}/metadata",
        "configurationMetadataStoreUrl": f"rocksdb://{data}/metadata",
        "managedLedgerDefaultEnsembleSize": 1,
        "managedLedgerDefaultWriteQuorum": 1,
        "managedLedgerDefaultAckQuorum": 1,
        "brokerDeduplicationEnabled": str(broker.deduplication).lower(),
        "allowAutoTopicCreation": "true",
        "allowAutoTopicCreationType": "non-partitioned",
        "functionsWorkerEnabled": "false",
        "topicLevelPoliciesEnabled": "true",
        # Keep every message of a test topic even without subscriptions; tests read topics back with readers.
        "defaultRetentionTimeInMinutes": -1,
        "defaultRetentionSizeInMB": -1,
        "brokerShutdownTimeoutMs": 3000,
        # Broker and bookie share the JVM's DIRECT_MEMORY. With 512m, the bench's tail run at 1 KB (records written at
        # full rate while a job reads them and writes them out) peaked at 320-382 MiB of it (sampled every 0.25 s),
        # and in one full bench the bookie ran out and exited, leaving a broker that acknowledged nothing. With 1g and
        # these caps the same runs peaked at 476-533 MiB (the entry cache and the pools grow with it).
        # The broker sizes its publish buffer as if alone (half the direct memory; reads in flight: unbounded): these
        # caps keep it from growing with DIRECT_MEMORY, past them it pauses the producers or the reads.
        "maxMessagePublishBufferSizeInMB": 64,
        "managedLedgerMaxReadsInFlightSizeInMB": 64,
        # The embedded bookie listens on TCP on a fixed port (--bookkeeper-port, port+1), so a restart on the same
        # data binds it again. Its in-process transport cannot return entries of 16 KiB or more to the broker.
        "enableLocalTransport": str(broker.local_transport).lower(),
        "disableServerSocketBind": str(broker.local_transport).lower(),
    }
    if not broker.entry_cache:
        settings["managedLedgerCacheSizeMB"] = 0
    if broker.auth_token:
        settings.update({
            "authenticationEnabled": "true",
            "authenticationProviders": "org.apache.pulsar.broker.authentication.AuthenticationProviderToken",
            "tokenSecretKey": f"file://{broker.security_dir / 'secret.key'}",
            "authorizationEnabled": "true",
            "superUserRoles": "admin",
            "brokerClientAuthenticationPlugin": "org.apache.pulsar.client.impl.auth.AuthenticationToken",
            "brokerClientAuthenticationParameters": f"file://{broker.security_dir / 'admin.token'}",
        })
    if broker.tls:
        settings.update({
            "brokerServicePortTls": broker.port + 3,
            "webServicePortTls": broker.web_port + 443,
            "tlsCertificateFilePath": broker.security_dir / "broker.cert.pem",
            "tlsKeyFilePath": broker.security_dir / "broker.key.pem",
            "tlsTrustCertsFilePath": broker.security_dir / "ca.cert.pem",
            "tlsRequireTrustedClientCertOnConnect": str(broker.tls_client_auth).lower(),
        })
    conf.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    return conf


def make_token(secret: bytes, subject: str) -> str:
    """An HS256 JWT for `subject`, as Pulsar's `tokens create --secret-key` makes it."""
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = part(b'{"alg":"HS256","typ":"JWT"}') + "." + part(json.dumps({"sub": subject}).encode())
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


def write_security(broker: Broker) -> None:
    """The secret key and admin token (token auth), a CA plus broker certificate (TLS) and a client certificate
    (mutual TLS); each made once."""
    folder = broker.security_dir
    folder.mkdir(parents=True, exist_ok=True)
    if broker.auth_token and not (folder / "admin.token").exists():
        secret = os.urandom(32)
        (folder / "secret.key").write_bytes(secret)
        (folder / "admin.token").write_text(make_token(secret, "admin"))

    def openssl(*args: str) -> None:
        done = subprocess.run(["openssl", *args], cwd=folder, capture_output=True, text=True)
        if done.returncode != 0:
            raise BrokerError(f"openssl {' '.join(args)} failed: {done.stderr[-1000:]}")

    def signed_by_ca(name: str, subject: str, extensions: str) -> None:
        """<name>.cert.pem signed by the CA for a new key, kept as <name>.key.pem (PKCS#8, as Pulsar wants)."""
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", f"{name}.key.rsa.pem",
                "-out", f"{name}.csr.pem")
        (folder / f"{name}.ext").write_text(extensions)
        openssl("x509", "-req", "-in", f"{name}.csr.pem", "-CA", "ca.cert.pem", "-CAkey", "ca.key.pem",
                "-CAcreateserial", "-days", "30", "-extfile", f"{name}.ext", "-out", f"{name}.cert.pem")
        openssl("pkcs8", "-topk8", "-nocrypt", "-in", f"{name}.key.rsa.pem", "-out", f"{name}.key.pem")

    if broker.tls and not (folder / "broker.cert.pem").exists():
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=pyflink-pulsar test CA",
                "-keyout", "ca.key.pem", "-out", "ca.cert.pem")
        signed_by_ca("broker", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    if broker.tls_client_auth and not (folder / "client.cert.pem").exists():
        signed_by_ca("client", "/CN=pyflink-pulsar test client", "extendedKeyUsage=clientAuth\n")


def _java_command(broker: Broker, lib: Path, conf: Path) -> list[str]:
    data = broker.home / "data"
    return [
        "java", f"-Xms{HEAP}", f"-Xmx{HEAP}", f"-XX:MaxDirectMemorySize={DIRECT_MEMORY}", "-XX:+UseG1GC",
        "-Dpulsar.allocator.exit_on_oom=true", "-Dio.netty.tryReflectionSetAccessible=true",
        "--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
        "--add-opens", "java.base/java.lang=ALL-UNNAMED",
        "-cp", f"{lib}/*", "org.apache.pulsar.PulsarStandaloneStarter",
        "--config", str(conf), "--no-functions-worker", "--no-stream-storage",
        "--metadata-dir", str(data / "metadata"), "--bookkeeper-dir", str(data / "bookkeeper"),
        # With RocksDB metadata there is no ZooKeeper; the port only has to be a free, distinct number.
        "--bookkeeper-port", str(broker.port + 1), "--zookeeper-port", str(broker.port + 2),
    ]


def start(broker: Broker) -> None:
    if broker.pid() is not None and broker.is_serving():
        print(f"pulsar '{broker.name}' already running at {broker.service_url} (pid {broker.pid()})")
        return
    if broker.is_serving():
        raise BrokerError(f"another process already serves {broker.admin_url}; stop it or pick other ports")
    lib = classpath()
    broker.home.mkdir(parents=True, exist_ok=True)
    claim_data_dir(broker)
    write_security(broker)
    conf = write_config(broker)
    began = time.monotonic()
    with open(broker.log_file, "ab") as log:
        process = subprocess.Popen(_java_command(broker, lib, conf), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, cwd=broker.home, start_new_session=True)
    broker.pid_file.write_text(str(process.pid))
    try:
        _wait_until_ready(broker, process)
    except BrokerError:
        terminate(process.pid)
        raise
    print(f"pulsar '{broker.name}' {PULSAR_VERSION} up at {broker.service_url}, admin {broker.admin_url} "
          f"(pid {process.pid}, {time.monotonic() - began:.1f} s)")


def claim_data_dir(broker: Broker) -> None:
    """Records where `broker`'s data live, or refuses data recorded elsewhere: the bookie writes its journal path
    into the metadata, so data copied or moved with a checkout cannot start (an InvalidCookieException)."""
    data = broker.home / "data"
    data.mkdir(exist_ok=True)
    record = data / "location"
    if not record.exists():
        record.write_text(str(data))
    elif record.read_text() != str(data):
        raise BrokerError(f"pulsar '{broker.name}': the data in {data} were written at {record.read_text()} (a "
                          f"copied or moved checkout?) and its bookie would refuse them; `./dev broker wipe --name "
                          f"{broker.name}` deletes them")


def _wait_until_ready(broker: Broker, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BrokerError(f"pulsar '{broker.name}' exited with {process.returncode} while starting; "
                              f"log tail:\n{log_tail(broker.log_file)}")
        if broker.is_serving():
            try:
                _round_trip(broker)
                return
            except Exception as error:  # the namespace may not be ready yet; retried until the deadline
                last = error
        time.sleep(1)
    raise BrokerError(f"pulsar '{broker.name}' did not come up within {START_TIMEOUT_S} s "
                      f"(last error: {locals().get('last')}); log tail:\n{log_tail(broker.log_file)}")


def _round_trip(broker: Broker) -> None:
    import pulsar

    security = broker.security()
    client = pulsar.Client(broker.service_url, operation_timeout_seconds=5,
                           logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Error),
                           **(security.client_kwargs() if security else {}))
    try:
        topic = f"persistent://public/default/__ready-{uuid.uuid4().hex}"
        consumer = client.subscribe(topic, "ready")
        payload = uuid.uuid4().bytes
        client.create_producer(topic).send(payload)
        if consumer.receive(5000).data() != payload:
            raise BrokerError("round trip returned another payload")
    finally:
        client.close()
    PulsarAdmin(broker.admin_url, security=security).delete_topic(topic)


def stop(broker: Broker) -> None:
    pid = broker.pid()
    if pid is None:
        print(f"pulsar '{broker.name}' is not running")
        return
    terminate(pid)
    broker.pid_file.unlink(missing_ok=True)
    print(f"pulsar '{broker.name}' stopped (pid {pid})")


def wipe(broker: Broker) -> None:
    """Stop `broker` and delete its data: every topic, ledger and its metadata."""
    stop(broker)
    shutil.rmtree(broker.home / "data", ignore_errors=True)


@contextmanager
def scratch(broker: Broker) -> Iterator[None]:
    """`broker` for a run that writes only fresh topics: started unless it runs already (then left as it is); one
    started here starts empty and is stopped and emptied when the run ends, pass or fail (benchmarks write GBs)."""
    was_running = broker.pid() is not None
    if not was_running:
        wipe(broker)
    start(broker)
    try:
        yield
    finally:
        if not was_running:
            wipe(broker)


def status(broker: Broker) -> bool:
    pid = broker.pid()
    serving = broker.is_serving()
    state = "running" if pid and serving else "starting or unhealthy" if pid else "stopped"
    print(f"pulsar '{broker.name}': {state}" + (f" (pid {pid}) at {broker.service_url}" if pid else ""))
    return bool(pid and serving)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status", "wipe"])
    parser.add_argument("--name", default="default", help="instance name; each has its own data dir")
    parser.add_argument("--port", type=int, default=6650, help="binary protocol port (uses port+1, +2 too)")
    parser.add_argument("--web-port", type=int, default=8080, help="admin REST port")
    parser.add_argument("--deduplication", action="store_true", help="broker-wide message deduplication on")
    parser.add_argument("--auth-token", action="store_true", help="JWT token authentication (admin token made)")
    parser.add_argument("--tls", action="store_true", help="TLS listeners with a self-signed CA")
    parser.add_argument("--tls-client-auth", action="store_true",
                        help="with --tls: mutual TLS, clients need a certificate signed by the CA (one is made)")
    parser.add_argument("--no-entry-cache", action="store_true",
                        help="no broker entry cache: every read comes from the bookie, as a backlog's does")
    parser.add_argument("--local-transport", action="store_true",
                        help="the pre-issue-11 in-process bookie transport, which cannot read back entries >= 16 KiB")
    args = parser.parse_args(argv)
    if args.tls_client_auth and not args.tls:
        parser.error("--tls-client-auth needs --tls")
    broker = Broker(args.name, args.port, args.web_port, args.deduplication, args.auth_token, args.tls,
                    args.tls_client_auth, entry_cache=not args.no_entry_cache,
                    local_transport=args.local_transport)
    try:
        if args.command == "start":
            start(broker)
        elif args.command == "stop":
            stop(broker)
        elif args.command == "wipe":
            wipe(broker)
        else:
            return 0 if status(broker) else 3
    except BrokerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
