"""Hot-path queries are written once with ``:name`` placeholders and run in any driver's style."""

from __future__ import annotations

import sqlite3

import pytest

from app.index.sql import DriverQuery

pytestmark = pytest.mark.both_databases

QUERY = DriverQuery("SELECT :a, :b, :a")


@pytest.mark.parametrize(
    ("paramstyle", "text"),
    [
        ("qmark", "SELECT ?, ?, ?"),
        ("numeric", "SELECT :1, :2, :3"),
        ("named", "SELECT :a, :b, :a"),
        ("format", "SELECT %s, %s, %s"),
        ("pyformat", "SELECT %(a)s, %(b)s, %(a)s"),
    ],
)
def test_driver_query_speaks_each_db_api_parameter_style(paramstyle: str, text: str) -> None:
    assert QUERY.text_for(paramstyle) == text


@pytest.mark.parametrize("paramstyle", ["qmark", "named"])
def test_driver_query_binds_repeated_names_in_order(paramstyle: str) -> None:
    connection = sqlite3.connect(":memory:")
    assert QUERY.rows(connection, paramstyle, a=1, b="two") == [(1, "two", 1)]
    assert DriverQuery("SELECT 1 WHERE :x = 0").first(connection, paramstyle, x=5) is None
