"""The service's schema, by Alembic migrations (``app/db/migrations/versions``): every process
brings its database to the newest revision when it starts, on SQLite and PostgreSQL alike.

A database made before migrations existed (tables, no ``alembic_version``) holds the first
revision's schema, which is the schema those versions created: it is stamped with it, then
upgraded. Processes that start together on one database (``uvicorn --workers``, the workers'
process, replicas) take turns: PostgreSQL's advisory lock, or a lock file beside a SQLite file.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, inspect, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
# Any fixed number: the advisory lock every process of the service takes to migrate.
_ADVISORY_LOCK = 0x7457_4D41  # "TWMA"


def upgrade_schema(engine: Engine) -> None:
    """Brings the database to the newest revision (a no-op when it is there)."""
    with _migration_lock(engine) as connection:
        if _revision(connection) == head_revision():
            return
        config = _config(connection)
        if _revision(connection) is None and _has_tables(connection):
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
        connection.commit()


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _revision(connection)


def compare_with_models(engine: Engine, metadata: MetaData) -> list[Any]:
    """What the migrated database lacks or has beyond ``metadata`` (Alembic's autogenerate
    comparison): empty when the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "target_metadata": metadata}
        )
        return list(compare_metadata(context, metadata))


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _has_tables(connection: Connection) -> bool:
    return bool(inspect(connection).get_table_names())


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection holding the database's migration lock until the block ends."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _ADVISORY_LOCK})
            connection.commit()
            try:
                yield connection
            finally:
                connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_LOCK})
                connection.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        with engine.connect() as connection:
            yield connection
        return
    with open(f"{database}.migrating", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
