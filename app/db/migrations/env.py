"""Alembic's environment for the service's schema: run on the connection the caller passes in
``config.attributes["connection"]`` (``app.db.migrate``), never on a URL of its own, so a
migration uses the service's engine and settings. ``target_metadata`` is passed only to compare
the models with the migrations (autogenerate, and the test that they agree)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=context.config.attributes.get("target_metadata"),
    render_as_batch=True,  # SQLite alters a table by copying it: batch mode does that
    compare_type=True,
    # SQLite's DDL is transactional too: one commit for a whole upgrade, not one per statement.
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
