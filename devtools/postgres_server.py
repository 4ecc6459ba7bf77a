"""Start, stop and inspect a local PostgreSQL server set up for logical decoding (Debezium's pgoutput).

    python -m devtools.postgres_server start|stop|status|wipe [--name N] [--port 25432]

Uses Debian's PostgreSQL server binaries (the newest /usr/lib/postgresql/<major>/bin; when none is installed and
this runs as root with apt-get, `postgresql-15` is installed). Each named instance keeps its data directory, Unix
socket and log under .cache/postgres/<name>/ (as root in a checkout the `postgres` OS user cannot traverse, under
/tmp/pyflink-pulsar-postgres-<checkout hash>/<name>/ instead) and listens on 127.0.0.1 only, with trust authentication for user
`postgres` (normal and replication connections), `wal_level=logical` and a database `app` made on start.
`start` returns once `select 1` answers; it is a no-op when that instance is already running. `stop` is a fast
shutdown (`pg_ctl stop -m fast`); `wipe` stops it and removes its folder.

As root, initdb and the server run as the `postgres` OS user (initdb refuses root), which owns the instance folder.
Debezium needs `ALTER TABLE ... REPLICA IDENTITY FULL` on a table to send the `before` image of updates and
deletes; creating tables that way is the caller's job.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from devtools.processes import alive, log_tail

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "postgres"
PACKAGE = "postgresql-15"
OS_USER = "postgres"
START_TIMEOUT_S = 60


class PostgresError(RuntimeError):
    pass


def _as_root() -> bool:
    return os.geteuid() == 0


@functools.cache
def bin_dir() -> Path:
    """The newest installed /usr/lib/postgresql/<major>/bin, installing PostgreSQL 15 with apt-get when root."""
    def newest() -> Path | None:
        found = [path for path in Path("/usr/lib/postgresql").glob("*/bin") if (path / "initdb").exists()]
        return max(found, key=lambda path: tuple(map(int, path.parent.name.split("."))), default=None)

    found = newest()
    if found is not None:
        return found
    if not (_as_root() and shutil.which("apt-get")):
        raise PostgresError(f"no PostgreSQL server under /usr/lib/postgresql; install the Debian package {PACKAGE}")
    print(f"installing {PACKAGE} with apt-get ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", PACKAGE]
    done = subprocess.run(install, env=env, capture_output=True, text=True)
    if done.returncode != 0:  # a fresh image may have no package lists yet
        subprocess.run(["apt-get", "update"], env=env, capture_output=True)
        done = subprocess.run(install, env=env, capture_output=True, text=True)
    found = newest()
    if done.returncode != 0 or found is None:
        raise PostgresError(f"{' '.join(install)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return found


@dataclass(frozen=True)
class Postgres:
    """One named local PostgreSQL server on 127.0.0.1:<port>, user `postgres`, trust authentication."""

    name: str = "default"
    port: int = 25432

    @property
    def home(self) -> Path:
        return instances_root() / self.name

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def socket_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_file(self) -> Path:
        return self.home / "postgres.log"

    def pid(self) -> int | None:
        """The postmaster's pid (from its postmaster.pid) when that process is alive, else None."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        if not alive(pid):
            return None
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists() and b"postgres" not in cmdline.read_bytes():
            return None  # the pid was reused by another process
        return pid

    def _psql(self, sql: str, database: str) -> subprocess.CompletedProcess:
        command = [str(bin_dir() / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                   "-d", database, "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql]
        return subprocess.run(command, capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PGCONNECT_TIMEOUT": "5"})

    def execute(self, sql: str, database: str = "app") -> None:
        """Run SQL (one or more statements) with psql; raises PostgresError with psql's stderr on failure."""
        self.query(sql, database)

    def query(self, sql: str, database: str = "app") -> list[tuple[str, ...]]:
        """The rows of a query as tuples of text, split from psql's unaligned output: NULL is an empty string and
        values holding tabs or newlines come out split."""
        done = self._psql(sql, database)
        if done.returncode != 0:
            raise PostgresError(f"psql on 127.0.0.1:{self.port}/{database} failed ({done.returncode}) for "
                                f"{sql!r}:\n{done.stderr.strip()}")
        return [tuple(line.split("\t")) for line in done.stdout.splitlines()]

    def is_serving(self) -> bool:
        return self._psql("select 1", "postgres").returncode == 0

    def start(self) -> None:
        """Initialise (first time) and start this instance, then make database `app`; bounded in time."""
        if self.pid() is not None and self.is_serving():
            print(f"postgres '{self.name}' already running on 127.0.0.1:{self.port} (pid {self.pid()})")
            return
        if self.is_serving():
            raise PostgresError(f"another server already answers on 127.0.0.1:{self.port}; "
                                "stop it or pick another port")
        binaries = bin_dir()
        began = time.monotonic()
        self._prepare(binaries)
        pg_ctl = [str(binaries / "pg_ctl"), "start", "-D", str(self.data_dir), "-l", str(self.log_file), "-w",
                  "-t", str(START_TIMEOUT_S)]
        done = self._run_as_owner(pg_ctl, timeout=START_TIMEOUT_S + 10)
        if done.returncode != 0:
            raise PostgresError(f"pg_ctl start failed for '{self.name}': {done.stdout}{done.stderr}\n"
                                f"log tail:\n{log_tail(self.log_file)}")
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.is_serving():
            if time.monotonic() > deadline:
                raise PostgresError(f"postgres '{self.name}' does not answer on 127.0.0.1:{self.port} within "
                                    f"{START_TIMEOUT_S} s; log tail:\n{log_tail(self.log_file)}")
            time.sleep(0.5)
        if not self.query("select 1 from pg_database where datname = 'app'", "postgres"):
            self.execute("create database app", "postgres")
        print(f"postgres '{self.name}' {binaries.parent.name} up on 127.0.0.1:{self.port} (pid {self.pid()}, "
              f"{time.monotonic() - began:.1f} s)")

    def _prepare(self, binaries: Path) -> None:
        """Make the instance folder (owned by the postgres OS user when root), run initdb once, write the config."""
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if _as_root():
            self.log_file.touch(exist_ok=True)
            _give_to_owner(self.home, self.socket_dir, self.log_file)
        if not (self.data_dir / "PG_VERSION").exists():
            shutil.rmtree(self.data_dir, ignore_errors=True)
            done = self._run_as_owner([str(binaries / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                                       "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"], timeout=120)
            if done.returncode != 0:
                raise PostgresError(f"initdb failed for '{self.name}':\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
            with open(self.data_dir / "postgresql.conf", "a") as conf:
                conf.write("include 'instance.conf'\n")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": self.port,
            "unix_socket_directories": f"'{self.socket_dir}'",
            "wal_level": "logical",
            "max_replication_slots": 10,
            "max_wal_senders": 10,
            "shared_buffers": "64MB",
        }
        hba = ("local all all trust\n"
               "host all all 127.0.0.1/32 trust\n"
               "host replication all 127.0.0.1/32 trust\n")
        for file_name, text in [("instance.conf", "".join(f"{key} = {value}\n" for key, value in settings.items())),
                                ("pg_hba.conf", hba)]:
            (self.data_dir / file_name).write_text(text)
            if _as_root():
                _give_to_owner(self.data_dir / file_name)

    def _run_as_owner(self, command: list[str], timeout: float) -> subprocess.CompletedProcess:
        """Run a server command, as the postgres OS user when root (initdb and postgres refuse root)."""
        if _as_root():
            command = ["runuser", "-u", OS_USER, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        pid = self.pid()
        if pid is None:
            print(f"postgres '{self.name}' is not running")
            return
        done = self._run_as_owner([str(bin_dir() / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast",
                                   "-w", "-t", "60"], timeout=70)
        if done.returncode != 0:
            raise PostgresError(f"pg_ctl stop failed for '{self.name}': {done.stdout}{done.stderr}")
        print(f"postgres '{self.name}' stopped (pid {pid})")

    def status(self) -> bool:
        pid = self.pid()
        serving = pid is not None and self.is_serving()
        state = "running" if serving else "starting or unhealthy" if pid else "stopped"
        print(f"postgres '{self.name}': {state}" + (f" (pid {pid}) on 127.0.0.1:{self.port}" if pid else ""))
        return serving

    def wipe(self) -> None:
        """Stop this instance and remove its folder (data, socket, log), and an emptied temporary root."""
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)
        root = instances_root()
        if root != CACHE and root.exists() and not any(root.iterdir()):
            root.rmdir()


def _give_to_owner(*paths: Path) -> None:
    owner = pwd.getpwnam(OS_USER)
    for path in paths:
        os.chown(path, owner.pw_uid, owner.pw_gid)


@functools.cache
def instances_root() -> Path:
    """Where the instances live: .cache/postgres/, or, when this runs as root and the `postgres` OS user cannot
    traverse the checkout's folders (a private parent, e.g. one made by mktemp -d), a folder named after the checkout
    in the system's temporary directory, which that user can reach."""
    if not _as_root() or _traversable_by_owner(CACHE):
        return CACHE
    digest = hashlib.sha1(str(ROOT).encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / f"pyflink-pulsar-postgres-{digest}"
    root.mkdir(mode=0o711, exist_ok=True)
    return root


def _traversable_by_owner(path: Path) -> bool:
    """Whether the postgres OS user can reach `path`: every existing ancestor it does not own lets others through."""
    uid = pwd.getpwnam(OS_USER).pw_uid if _has_os_user() else -1
    return all(folder.stat().st_uid == uid or folder.stat().st_mode & 0o001
               for folder in path.parents if folder.exists())


def _has_os_user() -> bool:
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "status", "wipe"])
    parser.add_argument("--name", default="default", help="instance name; each has its own data dir")
    parser.add_argument("--port", type=int, default=25432, help="TCP port on 127.0.0.1")
    args = parser.parse_args(argv)
    server = Postgres(args.name, args.port)
    try:
        if args.command == "start":
            server.start()
        elif args.command == "stop":
            server.stop()
        elif args.command == "wipe":
            server.wipe()
        else:
            return 0 if server.status() else 3
    except (PostgresError, subprocess.TimeoutExpired) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
