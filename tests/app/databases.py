"""The database each service test gets: a SQLite file of its own (the default), or a database of
its own on a PostgreSQL server the test session starts from the Debian package's binaries
(``harness.postgres``) when a test first needs one, one server per xdist worker.

``TRUSTMALL_TEST_DATABASE=postgresql`` runs every service test on PostgreSQL (``make verify``);
without it, tests marked ``both_databases`` run twice, once on each (``make test``): the ones
whose behaviour depends on the database (the schema, locks and leases, concurrent writers,
exactly-once, what is stored at rest).

Tests ask for a URL by name (``databases.url(tmp_path, "service")``) and never build one, so the
whole service suite runs on either backend unchanged.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, inspect, text

from harness.postgres import PostgresServer, postgres

BACKEND_VARIABLE = "TRUSTMALL_TEST_DATABASE"
BACKENDS = ("sqlite", "postgresql")
BOTH_MARKER = "both_databases"


class ServiceDatabases(Protocol):
    backend: str

    def url(self, tmp_path: Path, name: str) -> str:
        """The URL of a new database for one test, its schema already at the newest migration
        (a copy of a template migrated once a session: the app's own upgrade is then a no-op)."""
        ...

    def empty_url(self, tmp_path: Path, name: str) -> str:
        """The URL of a new, empty database (for tests of the migrations themselves)."""
        ...


class SqliteFiles:
    backend = "sqlite"

    def __init__(self, stack: ExitStack) -> None:
        self._template: Path | None = None
        self._stack = stack  # the template is removed when the session's servers close

    def url(self, tmp_path: Path, name: str) -> str:
        if self._template is None:
            self._template = Path(tempfile.mkdtemp(prefix="trustmall-template-")) / "schema.db"
            self._stack.callback(shutil.rmtree, self._template.parent, ignore_errors=True)
            _migrated(f"sqlite:///{self._template}")
        copy = tmp_path / f"{name}.db"
        shutil.copyfile(self._template, copy)
        return f"sqlite:///{copy}"

    def empty_url(self, tmp_path: Path, name: str) -> str:
        return f"sqlite:///{tmp_path / f'{name}.db'}"


class PostgresDatabases:
    backend = "postgresql"
    TEMPLATE = "migrated_template"

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self._numbers = itertools.count(1)
        self._template = False

    def url(self, tmp_path: Path, name: str) -> str:
        if not self._template:
            _migrated(self.server.create_database(self.TEMPLATE))
            self._template = True
        return self.server.create_database(f"{name}_{next(self._numbers)}", self.TEMPLATE)

    def empty_url(self, tmp_path: Path, name: str) -> str:
        return self.server.create_database(f"{name}_{next(self._numbers)}")


def _migrated(url: str) -> None:
    """Brings the database at ``url`` to the newest migration and lets go of it."""
    from app.db.migrate import upgrade_schema
    from app.db.session import Database

    database = Database(url)
    upgrade_schema(database.engine)
    database.dispose()


def chosen_backend() -> str:
    """The backend of tests not marked ``both_databases``."""
    backend = os.environ.get(BACKEND_VARIABLE, "sqlite")
    if backend not in BACKENDS:
        raise ValueError(f"{BACKEND_VARIABLE}={backend!r}: one of {', '.join(BACKENDS)}")
    return backend


class DatabaseServers:
    """The session's backends: SQLite at once, PostgreSQL started on first use, stopped at
    ``close``."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._made: dict[str, ServiceDatabases] = {"sqlite": SqliteFiles(self._stack)}

    def backend(self, name: str) -> ServiceDatabases:
        if name not in self._made:
            assert name == "postgresql", name
            self._made[name] = PostgresDatabases(self._stack.enter_context(postgres()))
        return self._made[name]

    def close(self) -> None:
        self._stack.close()


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
