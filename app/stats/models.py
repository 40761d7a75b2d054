"""The dashboard's counters: what the index's rows count, by scope, series, UTC day and key, kept
by the indexer in the transaction that writes or deletes those rows (``app.stats.counters``).

A counter's ``day`` is the UTC day of its rows' block time, or ``""`` for the all-time total kept
beside the days (so totals are one row, not a sum over every day). ``scope`` is ``""`` for the
platform or a merchant's address. Values are decimal text: sums of uint256 amounts exceed what
SQL integers hold, so they are added in Python.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.index.models import ADDRESS

PLATFORM = ""
ALL_TIME = ""


class StatsCounterRow(Base):
    __tablename__ = "stats_counters"
    # A page reads one scope's all-time totals and its days since a date.
    __table_args__ = (Index("ix_stats_counters_scope_day", "scope", "day"),)

    scope: Mapped[str] = mapped_column(String(ADDRESS), primary_key=True)
    series: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class StatsStateRow(Base):
    """Under which rules the counters were counted (``counting_version``) and how many times they
    changed (``changes``): readers key their caches by it."""

    __tablename__ = "stats_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    counting_version: Mapped[int] = mapped_column(Integer)
    changes: Mapped[int] = mapped_column(BigInteger, default=0)
