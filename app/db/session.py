"""Engine and sessions. SQLite gets WAL and a busy timeout so the API, relayer and indexer
can share one file; on PostgreSQL (psycopg 3) a pool. The schema is the migrations'
(``app.db.migrate``)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.db.write_gate import WriteGate

WAL_ATTEMPTS = 50
# How long a write waits for SQLite's lock (another process's writer) or its turn in this process.
SQLITE_LOCK_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class PoolSettings:
    """A server database's connection pool, per process: ``size`` kept open, ``overflow`` more
    opened under load, ``timeout`` seconds a request waits for one before failing. Each process
    holds up to size + overflow connections: replicas x that must stay under the server's
    ``max_connections``."""

    size: int = 10
    overflow: int = 10
    timeout: float = 30.0


def make_engine(database_url: str, pool: PoolSettings | None = None) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        pool = pool or PoolSettings()
        return create_engine(
            url,
            pool_pre_ping=True,  # a connection the server closed (restart, failover) is replaced
            pool_size=pool.size,
            max_overflow=pool.overflow,
            pool_timeout=pool.timeout,
        )
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": SQLITE_LOCK_TIMEOUT_SECONDS}
    )
    WriteGate(SQLITE_LOCK_TIMEOUT_SECONDS).install(engine)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        _write_ahead_log(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _write_ahead_log(cursor: sqlite3.Cursor) -> None:
    """Puts the database file in WAL mode (it stays so). Switching needs the file to itself, and
    SQLite answers "database is locked" at once, without waiting, while other connections open
    the same new file: so the first connections of processes starting together wait their turn."""
    for attempt in range(WAL_ATTEMPTS):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == WAL_ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (attempt + 1))


class Database:
    """The engine and a session factory; one per app, no module-level state."""

    def __init__(self, database_url: str, pool: PoolSettings | None = None) -> None:
        self.engine = make_engine(database_url, pool)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any error."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
