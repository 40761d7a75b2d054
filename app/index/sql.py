"""Read queries for the shopper's hot path, run on the DB-API connection itself.

The item endpoint answers thousands of requests a second; SQLAlchemy's statement machinery
costs ~60-100 µs per execution where the driver takes ~15. These queries are written once in
portable SQL with ``:name`` placeholders and rewritten for the driver's own parameter style, so
another database still is a URL change.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import ClauseElement, Engine
from sqlalchemy.dialects import sqlite

_PLACEHOLDER = re.compile(r":([a-z_][a-z0-9_]*)")


class Cursor(Protocol):
    def execute(self, operation: str, parameters: Any = ..., /) -> Any: ...

    def fetchall(self) -> Sequence[Sequence[Any]]: ...

    def close(self) -> None: ...


class Connection(Protocol):
    def cursor(self) -> Any: ...


class DriverQuery:
    """A query in portable SQL, run through the driver with its own parameter style;
    ``constants`` are parameters bound on every run (a rule compiled from SQLAlchemy binds its
    constants as parameters)."""

    def __init__(self, sql: str, constants: Mapping[str, Any] | None = None) -> None:
        self.sql = " ".join(sql.split())
        self.names = _PLACEHOLDER.findall(self.sql)
        self.constants = dict(constants or {})
        self._by_style: dict[str, str] = {}

    def text_for(self, paramstyle: str) -> str:
        text = self._by_style.get(paramstyle)
        if text is None:
            text = self._render(paramstyle)
            self._by_style[paramstyle] = text
        return text

    def _render(self, paramstyle: str) -> str:
        counter = iter(range(1, len(self.names) + 1))
        replace = {
            "qmark": lambda _m: "?",
            "numeric": lambda _m: f":{next(counter)}",
            "named": lambda m: f":{m.group(1)}",
            "format": lambda _m: "%s",
            "pyformat": lambda m: f"%({m.group(1)})s",
        }[paramstyle]
        return _PLACEHOLDER.sub(replace, self.sql)

    def rows(
        self, connection: Connection, paramstyle: str, **params: Any
    ) -> Sequence[Sequence[Any]]:
        values: Any
        if self.constants:
            params = self.constants | params
        if paramstyle in {"named", "pyformat"}:
            values = {name: params[name] for name in self.names}
        else:
            values = tuple(params[name] for name in self.names)
        cursor = connection.cursor()
        try:
            cursor.execute(self.text_for(paramstyle), values)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def first(self, connection: Connection, paramstyle: str, **params: Any) -> Sequence[Any] | None:
        found = self.rows(connection, paramstyle, **params)
        return found[0] if found else None


def portable(statement: ClauseElement, *arguments: str) -> tuple[str, dict[str, Any]]:
    """An SQLAlchemy statement as portable SQL (``:name`` placeholders) and the constants it
    binds, less the ``arguments`` each run binds itself: a rule written once with SQLAlchemy, run
    on a hot path as a ``DriverQuery``."""
    compiled = statement.compile(dialect=sqlite.dialect(paramstyle="named"))
    constants = {name: value for name, value in compiled.params.items() if name not in arguments}
    return str(compiled), constants


def paramstyle_of(engine: Engine) -> str:
    return str(engine.dialect.paramstyle)


# SQLite read connections map the file (no read() per page) and keep a larger page cache.
SQLITE_MMAP_BYTES = 1 << 30
SQLITE_CACHE_KIB = 65_536


class ReadConnections:
    """DB-API connections for the hot read path.

    SQLite: one long-lived connection per thread, autocommit and ``query_only`` (in WAL mode a
    reader never blocks the writer, and each autocommit SELECT sees the latest commit), so no
    pool check-out and reset per request. Other databases borrow from the engine's pool.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.paramstyle = paramstyle_of(engine)
        url = engine.url
        database = url.database
        self._sqlite_path = (
            database
            if url.get_backend_name() == "sqlite" and database and database != ":memory:"
            else None
        )
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        weakref.finalize(self, _close_all, self._opened)

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        if self._sqlite_path is None:
            pooled: Any = self.engine.raw_connection()
            try:
                yield pooled
            finally:
                pooled.close()
            return
        own: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if own is None:
            own = sqlite3.connect(self._sqlite_path, check_same_thread=False, isolation_level=None)
            own.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            own.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            own.execute("PRAGMA query_only=1")
            self._local.connection = own
            with self._lock:
                self._opened.append(own)
        yield own

    def close(self) -> None:
        _close_all(self._opened)


def _close_all(connections: list[sqlite3.Connection]) -> None:
    while connections:
        connections.pop().close()
