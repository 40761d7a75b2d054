"""Statements the backends spell differently, written once for SQLite and PostgreSQL."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db.base import Base


def insert_unless_present(session: Session, model: type[Base], values: dict[str, Any]) -> None:
    """Inserts a row of ``model`` with ``values`` (its other columns take their defaults) unless
    one with the same key is there: one statement, so two sessions making the same row at once
    do not fail either."""
    session.execute(_insert_unless_present(model, session.get_bind().dialect.name), values)


@cache
def _insert_unless_present(model: type[Base], dialect: str) -> Insert:
    # The columns are the executed parameters' names.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement: Insert = insert(model).on_conflict_do_nothing()
    return statement
