"""A PostgreSQL server of its own for a test run, a benchmark or a campaign: the Debian package's
binaries (``initdb``, ``pg_ctl``) on a data directory in a temporary place and a free port, so no
system service is needed and nothing outlives the run.

PostgreSQL refuses to run as root: when this process is root, the server runs as the package's
``postgres`` user (``runuser``), which owns the data directory.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.nodes import free_port

SUPERUSER = "trustmall"
START_TIMEOUT_SECONDS = 60
# A throwaway server tuned for tests: no waiting for the disk (durability is the campaigns'
# concern, which start theirs with ``durable=True``), room for several processes' pools.
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
COMMON_SETTINGS = ("max_connections=300", "shared_buffers=128MB")


def binaries() -> Path:
    """The directory of the newest installed PostgreSQL's server binaries."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name)
    )
    if not found:
        raise RuntimeError("PostgreSQL is needed: apt-get install postgresql (Debian's package)")
    return found[-1].parent


@dataclass(frozen=True)
class PostgresServer:
    """A running server: where it listens and how to reach its databases."""

    data_dir: Path
    port: int
    bin_dir: Path

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3) of ``database`` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """A libpq connection string of ``database``, for psycopg itself."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of ``template`` if given, which must have no connections);
        its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            copy = f' TEMPLATE "{template}"' if template else ""
            connection.execute(f'CREATE DATABASE "{name}"{copy}'.encode())
        return self.url(name)

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m mode``: ``immediate`` is a crash (recovery on the next start)."""
        _as_owner(self.data_dir, [str(self.bin_dir / "pg_ctl"), "stop", "-w", "-m", mode,
                                  "-D", str(self.data_dir)])  # fmt: skip

    def start(self, settings: tuple[str, ...] = ()) -> None:
        options = " ".join(
            [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.data_dir}"]
            + [f"-c {setting}" for setting in (*COMMON_SETTINGS, *settings)]
        )
        _as_owner(self.data_dir, [
            str(self.bin_dir / "pg_ctl"), "start", "-w", "-t", str(START_TIMEOUT_SECONDS),
            "-D", str(self.data_dir), "-l", str(self.data_dir / "server.log"), "-o", options,
        ])  # fmt: skip


@contextmanager
def postgres(*, durable: bool = False) -> Iterator[PostgresServer]:
    """A fresh server, its data in a new temporary directory, stopped and removed after. (Not
    under a test's ``tmp_path``: those are private to root, and the server may run as
    ``postgres``.)"""
    bin_dir = binaries()
    data_dir = Path(tempfile.mkdtemp(prefix="trustmall-postgres-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(data_dir, owner.pw_uid, owner.pw_gid)
    _as_owner(data_dir, [
        str(bin_dir / "initdb"), "-D", str(data_dir), "-U", SUPERUSER, "--auth=trust",
        "--encoding=UTF8", "--locale=C", "--no-sync",
    ])  # fmt: skip
    server = PostgresServer(data_dir, free_port(), bin_dir)
    settings = () if durable else FAST_SETTINGS
    server.start(settings)
    try:
        yield server
    finally:
        subprocess.run(
            [
                *_owner_prefix(data_dir),
                str(bin_dir / "pg_ctl"),
                "stop",
                "-m",
                "immediate",
                "-D",
                str(data_dir),
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(data_dir, ignore_errors=True)


def _owner_prefix(data_dir: Path) -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _as_owner(data_dir: Path, command: list[str]) -> None:
    done = subprocess.run(
        _owner_prefix(data_dir) + command, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed: {done.stderr or done.stdout}")
