"""The database each service test gets: a SQLite file of its own (the default), or, with
``TRUSTMALL_TEST_DATABASE=postgresql``, a database of its own on a PostgreSQL server the test
session starts from the Debian package's binaries (``harness.postgres``), one per xdist worker.

Tests ask for a URL by name (``databases.url(tmp_path, "service")``) and never build one, so the
whole service suite runs on either backend unchanged.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, inspect, text

from harness.postgres import PostgresServer, postgres

BACKEND_VARIABLE = "TRUSTMALL_TEST_DATABASE"
BACKENDS = ("sqlite", "postgresql")


class TestDatabases(Protocol):
    backend: str

    def url(self, tmp_path: Path, name: str) -> str:
        """The URL of a new, empty database for one test."""
        ...


class SqliteFiles:
    backend = "sqlite"

    def url(self, tmp_path: Path, name: str) -> str:
        return f"sqlite:///{tmp_path / f'{name}.db'}"


class PostgresDatabases:
    backend = "postgresql"

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self._numbers = itertools.count(1)

    def url(self, tmp_path: Path, name: str) -> str:
        return self.server.create_database(f"{name}_{next(self._numbers)}")


def chosen_backend() -> str:
    backend = os.environ.get(BACKEND_VARIABLE, "sqlite")
    if backend not in BACKENDS:
        raise ValueError(f"{BACKEND_VARIABLE}={backend!r}: one of {', '.join(BACKENDS)}")
    return backend


@contextmanager
def test_databases() -> Iterator[TestDatabases]:
    if chosen_backend() == "postgresql":
        with postgres() as server:
            yield PostgresDatabases(server)
    else:
        yield SqliteFiles()


def stored_bytes(database_url: str) -> bytes:
    """What the database keeps, as bytes: a SQLite file and its journal (WAL) as they are on
    disk; on another database every row of every table, as text."""
    if database_url.startswith("sqlite:///"):
        main = Path(database_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in main.parent.glob(main.name + "*"))
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return b"".join(
                repr(row).encode()
                for table in inspect(connection).get_table_names()
                for row in connection.execute(text(f'SELECT * FROM "{table}"'))
            )
    finally:
        engine.dispose()
