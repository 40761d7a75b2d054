"""Statements the backends spell differently, written once for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Insert, bindparam, case, func, update
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


def update_by_id(
    session: Session,
    model: type[Base],
    ids: Sequence[int],
    values: Mapping[str, Any],
    *,
    each: Mapping[str, Mapping[int, Any]] | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> int:
    """Sets ``values`` on the rows of ``model`` whose ``id`` is in ``ids`` and that meet ``where``,
    and on each row, for every column of ``each``, that column's value for the row's id (every id
    must have one); the number of rows updated. One statement on either backend. On PostgreSQL
    the ids and the per-row values travel as one array parameter each, joined by ``unnest``: a
    list of 500 parameters and a CASE of 500 branches took 23 ms to claim 500 outbox records
    there, the arrays 9.5 ms. SQLite, in process, takes the list and the CASE."""
    if not ids:
        return 0
    table = model.__table__
    row_id = table.c["id"]
    each = each or {}
    if session.get_bind().dialect.name == "postgresql":
        arrays = [_array("row_id", list(ids), row_id.type)]
        arrays += [
            _array(f"each_{name}", [by_id[i] for i in ids], table.c[name].type)
            for name, by_id in each.items()
        ]
        rows = (
            func.unnest(*arrays)
            .table_valued("row_id", *(f"each_{name}" for name in each))
            .render_derived(name="each_row")
        )
        statement = (
            update(model)
            .where(row_id == rows.c.row_id, *where)
            .values({**values, **{name: rows.c[f"each_{name}"] for name in each}})
        )
    else:
        statement = (
            update(model)
            .where(row_id.in_(ids), *where)
            .values({**values, **{name: case(by_id, value=row_id) for name, by_id in each.items()}})
        )
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _array(name: str, items: list[Any], item_type: Any) -> Any:
    return bindparam(name, items, type_=postgresql.ARRAY(item_type))
