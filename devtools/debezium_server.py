"""Start, stop and inspect a local Debezium Server that streams PostgreSQL changes into a Pulsar broker.

    python -m devtools.debezium_server start|stop|status|wipe [--name N] [--http-port 28089]
        [--pulsar-url pulsar://127.0.0.1:6650] [--pg-port 25432] [--database app]
        [--tables public.customers,public.orders] [--topic-prefix cdc]

Debezium Server (io.debezium:debezium-server-dist) is fetched once from Maven Central, checked against its SHA-1
and unpacked, without the Cassandra-only connectors/ folder, into .cache/debezium/<version>/. Each named instance
keeps its conf/application.properties, offsets, log and pid under .cache/debezium/<name>/ and runs with that folder
as working directory. Its PostgreSQL connector (pgoutput, replication slot and publication `dbz_<name>`) snapshots
the listed tables, then streams their changes; the Pulsar sink writes each table to
persistent://public/default/<topic-prefix>.<schema>.<table> as Debezium's JSON ({schema, payload}) with the JSON
key as message key, and a tombstone (empty value) after each delete.

`start` needs the broker (devtools.pulsar_standalone) and the database (devtools.postgres_server) running; it
returns once the readiness endpoint answers 200 and the replication slot is streaming, and is a no-op when that
instance is already running. Tables need `ALTER TABLE ... REPLICA IDENTITY FULL` for the `before` image of
updates and deletes. `wipe` stops the instance, drops its slot and publication (when the database is up) and
removes its folder, so the next start snapshots again.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from devtools.postgres_server import Postgres, PostgresError
from devtools.processes import alive, log_tail, terminate

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "debezium"
VERSION = "2.7.3.Final"
DIST_URL = (f"https://repo.maven.apache.org/maven2/io/debezium/debezium-server-dist/{VERSION}/"
            f"debezium-server-dist-{VERSION}.tar.gz")
DIST_SHA1 = "aeedb9196ed608e7a860b5fc47257237cb085885"
"""SHA-1 of the tarball as first downloaded; checked when Maven Central's .sha1 cannot be fetched (proxies)."""
HEAP = "384m"
START_TIMEOUT_S = 120


class DebeziumError(RuntimeError):
    pass


def distribution() -> Path:
    """The unpacked debezium-server folder, downloaded, verified and unpacked on first use."""
    folder = CACHE / VERSION
    marker = folder / ".complete"
    if marker.exists():
        return folder / "debezium-server"
    tarball = CACHE / DIST_URL.rsplit("/", 1)[1]
    expected = _published_sha1()
    if not tarball.exists() or _sha1(tarball) != expected:
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_name(tarball.name + ".part")
        print(f"fetching Debezium Server {VERSION} (~450 MB) from {DIST_URL} ...", flush=True)
        try:
            with urllib.request.urlopen(DIST_URL, timeout=60) as response, open(partial, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        except (urllib.error.URLError, OSError) as error:
            raise DebeziumError(f"downloading {DIST_URL} failed: {error}") from error
        if _sha1(partial) != expected:
            raise DebeziumError(f"{partial} does not match SHA-1 {expected}; delete it and retry")
        partial.replace(tarball)
    shutil.rmtree(folder, ignore_errors=True)
    print(f"unpacking {tarball.name} into {folder} ...", flush=True)
    with tarfile.open(tarball) as archive:
        members = [member for member in archive if not member.name.startswith("debezium-server/connectors/")]
        archive.extractall(folder, members=members, filter="data")
    marker.write_text(VERSION)
    return folder / "debezium-server"


def _published_sha1() -> str:
    """The SHA-1 Maven Central publishes for the tarball, or DIST_SHA1 when that file cannot be fetched."""
    try:
        with urllib.request.urlopen(DIST_URL + ".sha1", timeout=30) as response:
            return response.read().decode().split()[0]
    except (urllib.error.URLError, OSError) as error:
        print(f"cannot fetch {DIST_URL}.sha1 ({error}); checking against the pinned SHA-1 {DIST_SHA1}", flush=True)
        return DIST_SHA1


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class DebeziumServer:
    """One named Debezium Server: PostgreSQL `pg`/`database` tables -> the Pulsar broker at `pulsar_url`."""

    name: str = "default"
    http_port: int = 28089
    pulsar_url: str = "pulsar://127.0.0.1:6650"
    pg: Postgres = Postgres()
    tables: tuple[str, ...] = ("public.customers", "public.orders")
    topic_prefix: str = "cdc"
    database: str = "app"

    @property
    def home(self) -> Path:
        return CACHE / self.name

    @property
    def log_file(self) -> Path:
        return self.home / "debezium.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "debezium.pid"

    @property
    def offsets_file(self) -> Path:
        return self.home / "data" / "offsets.dat"

    @property
    def slot_name(self) -> str:
        """Replication slot (and publication) name: lower-case letters, digits and underscores only."""
        return "dbz_" + re.sub(r"[^a-z0-9_]", "_", self.name.lower())

    @property
    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/q/health/ready"

    def topic(self, table: str) -> str:
        """The full Pulsar topic of `table` ("schema.table", or "table" in schema public)."""
        qualified = table if "." in table else f"public.{table}"
        return f"persistent://public/default/{self.topic_prefix}.{qualified}"

    def pid(self) -> int | None:
        """The pid of this instance's server when that process is alive, else None."""
        try:
            pid = int(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        if not alive(pid):
            return None
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists() and b"io.debezium.server.Main" not in cmdline.read_bytes():
            return None  # the pid was reused by another process
        return pid

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.ready_url, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def is_streaming(self) -> bool:
        """Whether this instance's replication slot is in use, i.e. the snapshot is taken and changes stream."""
        try:
            rows = self.pg.query(f"select active from pg_replication_slots where slot_name = '{self.slot_name}'",
                                 self.database)
        except PostgresError:
            return False
        return rows == [("t",)]

    def start(self) -> None:
        """Start this instance (bounded in time); raises DebeziumError naming what is missing or the log tail."""
        if self.pid() is not None and self.is_ready():
            print(f"debezium '{self.name}' already running (pid {self.pid()}, {self.ready_url})")
            return
        if self.pid() is not None:
            raise DebeziumError(f"debezium '{self.name}' runs (pid {self.pid()}) but is not ready; stop it first")
        if self.is_ready():
            raise DebeziumError(f"another process already serves {self.ready_url}; stop it or pick another port")
        self._check_dependencies()
        dist = distribution()
        self._write_config()
        command = ["java", f"-Xmx{HEAP}", "-cp",
                   f"{dist}/debezium-server-dist-{VERSION}-runner.jar:{self.home / 'conf'}:{dist}/lib/*",
                   "io.debezium.server.Main"]
        began = time.monotonic()
        with open(self.log_file, "ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       cwd=self.home, start_new_session=True)
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (self.is_ready() and self.is_streaming()):
            if process.poll() is not None or time.monotonic() > deadline:
                problem = (f"exited with {process.returncode}" if process.poll() is not None
                           else f"is not ready and streaming within {START_TIMEOUT_S} s")
                terminate(process.pid, 30)
                raise DebeziumError(f"debezium '{self.name}' {problem}; log tail:\n{log_tail(self.log_file)}")
            time.sleep(0.5)
        print(f"debezium '{self.name}' {VERSION} streaming {','.join(self.tables)} to {self.pulsar_url} "
              f"(pid {process.pid}, {time.monotonic() - began:.1f} s)")

    def _check_dependencies(self) -> None:
        missing = []
        url = urllib.parse.urlsplit(self.pulsar_url)
        try:
            socket.create_connection((url.hostname, url.port or 6650), timeout=2).close()
        except OSError:
            missing.append(f"no Pulsar broker at {self.pulsar_url} (python -m devtools.pulsar_standalone start)")
        if not self.pg.is_serving():
            missing.append(f"no PostgreSQL at 127.0.0.1:{self.pg.port} "
                           f"(python -m devtools.postgres_server start --port {self.pg.port})")
        elif not self.pg.query(f"select 1 from pg_database where datname = '{self.database}'", "postgres"):
            missing.append(f"no database '{self.database}' in PostgreSQL at 127.0.0.1:{self.pg.port}")
        if missing:
            raise DebeziumError(f"debezium '{self.name}' cannot start: " + "; ".join(missing))

    def _write_config(self) -> None:
        settings = {
            "debezium.sink.type": "pulsar",
            "debezium.sink.pulsar.client.serviceUrl": self.pulsar_url,
            "debezium.source.connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "debezium.source.offset.storage.file.filename": self.offsets_file,
            "debezium.source.offset.flush.interval.ms": 0,
            "debezium.source.database.hostname": "127.0.0.1",
            "debezium.source.database.port": self.pg.port,
            "debezium.source.database.user": "postgres",
            "debezium.source.database.password": "postgres",  # unused: trust authentication
            "debezium.source.database.dbname": self.database,
            "debezium.source.topic.prefix": self.topic_prefix,
            "debezium.source.plugin.name": "pgoutput",
            "debezium.source.slot.name": self.slot_name,
            "debezium.source.publication.name": self.slot_name,
            "debezium.source.publication.autocreate.mode": "filtered",
            "debezium.source.table.include.list": ",".join(self.tables),
            "debezium.source.decimal.handling.mode": "double",
            "quarkus.http.host": "127.0.0.1",
            "quarkus.http.port": self.http_port,
            "quarkus.log.console.json": "false",
        }
        (self.home / "conf").mkdir(parents=True, exist_ok=True)
        self.offsets_file.parent.mkdir(parents=True, exist_ok=True)
        (self.home / "conf" / "application.properties").write_text(
            "".join(f"{key}={value}\n" for key, value in settings.items()))

    def stop(self) -> None:
        pid = self.pid()
        if pid is None:
            print(f"debezium '{self.name}' is not running")
            return
        terminate(pid, 30)
        self.pid_file.unlink(missing_ok=True)
        print(f"debezium '{self.name}' stopped (pid {pid})")

    def status(self) -> bool:
        pid = self.pid()
        ready = pid is not None and self.is_ready()
        state = "running" if ready else "starting or unhealthy" if pid else "stopped"
        print(f"debezium '{self.name}': {state}" + (f" (pid {pid}, {self.ready_url})" if pid else ""))
        return ready

    def wipe(self) -> None:
        """Stop, drop the replication slot and publication when the database is up, remove offsets, config, log."""
        self.stop()
        if self.pg.is_serving() and self.pg.query(
                f"select 1 from pg_database where datname = '{self.database}'", "postgres"):
            deadline = time.monotonic() + 10
            while self.is_streaming() and time.monotonic() < deadline:  # the walsender lets go of it shortly
                time.sleep(0.2)
            self.pg.execute(f"select pg_drop_replication_slot(slot_name) from pg_replication_slots "
                            f"where slot_name = '{self.slot_name}'; "
                            f"drop publication if exists {self.slot_name}", self.database)
        shutil.rmtree(self.home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status", "wipe"])
    parser.add_argument("--name", default="default", help="instance name; also names its slot and publication")
    parser.add_argument("--http-port", type=int, default=28089, help="Quarkus HTTP port (health endpoints)")
    parser.add_argument("--pulsar-url", default="pulsar://127.0.0.1:6650", help="broker service URL")
    parser.add_argument("--pg-port", type=int, default=25432, help="PostgreSQL port on 127.0.0.1")
    parser.add_argument("--database", default="app", help="database whose tables are captured")
    parser.add_argument("--tables", default="public.customers,public.orders",
                        help="comma-separated schema.table list (table.include.list)")
    parser.add_argument("--topic-prefix", default="cdc", help="topics are <prefix>.<schema>.<table>")
    args = parser.parse_args(argv)
    server = DebeziumServer(args.name, args.http_port, args.pulsar_url, Postgres(port=args.pg_port),
                            tuple(args.tables.split(",")), args.topic_prefix, args.database)
    try:
        if args.command == "start":
            server.start()
        elif args.command == "stop":
            server.stop()
        elif args.command == "wipe":
            server.wipe()
        else:
            return 0 if server.status() else 3
    except (DebeziumError, PostgresError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
