"""One writing transaction at a time per process on a SQLite file, the others waiting in line.

SQLite lets one connection write at a time; the others retry on a timer that backs off to
100 ms between tries, and a retry that finds the lock taken again goes back to sleep. Under
concurrent requests some writers lost every retry for over a second while others went ahead
(bench/signed_requests.py measured a p99 of a second for 5 ms of work). Threads of one process
therefore queue on a lock of the process before their first write and leave it at commit or
rollback; SQLite's own lock and timer remain between processes.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, event

# Statements that take SQLite's write lock (the rest read, or are DDL run at start).
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# Where a connection notes that it holds the gate (``Connection.info`` is its pool record's).
HOLDS = "trustmall_write_gate"


class WriteGate:
    """The lock one engine's writing transactions take in turn; ``install`` hooks it in."""

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self._lock = threading.Lock()

    def install(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before_statement)
        event.listen(engine, "commit", self._ended)
        event.listen(engine, "rollback", self._ended)
        # A connection back in the pool, or dropped, never keeps the gate.
        event.listen(engine.pool, "reset", self._reset)
        event.listen(engine.pool, "invalidate", self._invalidated)
        event.listen(engine.pool, "close", self._closed)

    def _before_statement(self, connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if connection.info.get(HOLDS) or not statement.lstrip()[:7].upper().startswith(WRITES):
            return
        if not self._lock.acquire(timeout=self.timeout_seconds):
            raise sqlite3.OperationalError(
                f"database is locked: no turn to write within {self.timeout_seconds:.0f} s"
            )
        connection.info[HOLDS] = True

    def _ended(self, connection: Any) -> None:
        self._release(connection.info)

    # The pool's events, each with the signature SQLAlchemy checks its listeners against.
    def _reset(self, dbapi_connection: Any, connection_record: Any, reset_state: Any) -> None:
        self._release_record(connection_record)

    def _invalidated(self, dbapi_connection: Any, connection_record: Any, exception: Any) -> None:
        self._release_record(connection_record)

    def _closed(self, dbapi_connection: Any, connection_record: Any) -> None:
        self._release_record(connection_record)

    def _release_record(self, record: Any) -> None:
        if record is not None:
            self._release(record.info)

    def _release(self, info: dict[str, Any]) -> None:
        if info.pop(HOLDS, False):
            self._lock.release()
