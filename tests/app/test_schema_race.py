"""Service processes that start together on one new database (``uvicorn --workers`` and the
workers' process) each create the schema: every one of them starts, and the schema is whole."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect

import app.main  # noqa: F401  (every model module, as a starting process imports them)
from app.db.base import Base
from app.db.migrate import current_revision, head_revision, upgrade_schema
from app.db.session import Database
from tests.app.databases import ServiceDatabases

pytestmark = pytest.mark.both_databases

STARTING = 6


def test_processes_starting_together_on_a_new_database_all_create_the_schema(
    databases: ServiceDatabases, tmp_path: Path
) -> None:
    url = databases.empty_url(tmp_path, "new")
    databases = [Database(url) for _ in range(STARTING)]
    gate = threading.Barrier(STARTING)
    failures: list[BaseException] = []

    def start(database: Database) -> None:
        gate.wait()
        try:
            upgrade_schema(database.engine)
        except BaseException as failure:
            failures.append(failure)

    threads = [threading.Thread(target=start, args=(database,)) for database in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    tables = set(inspect(databases[0].engine).get_table_names())
    assert tables == {*Base.metadata.tables, "alembic_version"}
    assert current_revision(databases[0].engine) == head_revision()
    for database in databases:
        database.dispose()
