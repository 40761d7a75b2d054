"""The schema is the migrations' (``app.db.migrate``): they build exactly what the models
describe, and a database made before migrations existed is upgraded in place, its rows kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

import app.main  # noqa: F401  (every model module, as a starting process imports them)
from app.db.base import Base
from app.db.migrate import (
    BASELINE,
    compare_with_models,
    current_revision,
    head_revision,
    upgrade_schema,
)
from app.db.session import Database
from tests.app.databases import ServiceDatabases

pytestmark = pytest.mark.both_databases

ITEM = "0x" + "ab" * 32


def test_the_migrations_build_what_the_models_describe(
    databases: ServiceDatabases, tmp_path: Path
) -> None:
    database = Database(databases.empty_url(tmp_path, "migrated"))
    upgrade_schema(database.engine)
    assert compare_with_models(database.engine, Base.metadata) == []
    assert current_revision(database.engine) == head_revision()
    upgrade_schema(database.engine)  # again: nothing to do, nothing changes
    assert current_revision(database.engine) == head_revision()
    database.dispose()


def test_a_database_made_before_migrations_is_upgraded_with_its_rows(
    databases: ServiceDatabases, tmp_path: Path
) -> None:
    database = Database(databases.empty_url(tmp_path, "before"))
    _schema_before_migrations(database)
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO index_items (item_id, merchant, metadata_hash, metadata_uri, "
                "tx_hash, block_number, log_index, block_time) VALUES (:item, :merchant, :hash, "
                "'ipfs://x', :tx, 7, 0, 1700000000)"
            ),
            {"item": ITEM, "merchant": "0x" + "11" * 20, "hash": "0x" + "22" * 32,
             "tx": "0x" + "33" * 32},
        )  # fmt: skip

    upgrade_schema(database.engine)

    assert current_revision(database.engine) == head_revision()
    assert compare_with_models(database.engine, Base.metadata) == []
    with database.engine.connect() as connection:
        kept = connection.execute(text("SELECT item_id, block_number FROM index_items")).all()
    assert [tuple(row) for row in kept] == [(ITEM, 7)]
    database.dispose()


def test_an_index_made_before_the_registry_roles_starts_over(
    databases: ServiceDatabases, tmp_path: Path
) -> None:
    """0007 adds the registry's roles (``RoleGranted``, read only from then on): an existing
    index's cursor gets a fingerprint no deployment has, so the indexer reads it all again."""
    database = Database(databases.empty_url(tmp_path, "roles"))
    _upgrade_to(database, "0006")
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO index_cursor (name, chain_id, fingerprint, start_block, last_block) "
                "VALUES ('chain', 31337, :fingerprint, 1, 99)"
            ),
            {"fingerprint": "0x" + "44" * 32},
        )

    upgrade_schema(database.engine)

    with database.engine.connect() as connection:
        kept = connection.execute(text("SELECT fingerprint, last_block FROM index_cursor")).all()
    assert [tuple(row) for row in kept] == [("reindex: registry roles", 99)]
    database.dispose()


def _upgrade_to(database: Database, revision: str) -> None:
    """The schema as Alembic leaves it at ``revision``."""
    from alembic.config import Config

    from app.db.migrate import MIGRATIONS

    with database.engine.connect() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def _schema_before_migrations(database: Database) -> None:
    """The schema as the service made it before migrations: the baseline revision's tables
    (generated from those models) and no ``alembic_version``."""
    _upgrade_to(database, BASELINE)
    with database.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    assert "alembic_version" not in inspect(database.engine).get_table_names()
    assert current_revision(database.engine) is None
