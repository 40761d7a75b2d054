"""The dashboard's counters kept by the indexer (``app.index.derived``), in the transaction that
writes or deletes the rows they count:

- each indexed range adds what its rows count (``app.stats.counting``);
- a rollback takes away what the rows it is about to delete count; a re-index from scratch (a
  new deployment) empties the counters with the rows;
- an index built before the counters, or counted under older rules (``COUNTING_VERSION``), is
  counted once from its rows at the indexer's first cycle: that is the whole migration of an
  existing database (the tables are created at start like every other).

Every change adds one to ``StatsStateRow.changes``, which readers key their caches by.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from app.stats.counting import CounterKey, row_counts
from app.stats.models import StatsCounterRow, StatsStateRow

# Bump when app.stats.counting's rules change: counters counted under older rules are recounted.
COUNTING_VERSION = 1
STATE = "dashboard"
_CHUNK = 300


class DashboardCounters:
    """The indexer's follower (``RowFollower``) that keeps ``stats_counters``."""

    def ensure_counted(self, session: Session) -> None:
        state = session.get(StatsStateRow, STATE)
        if state is not None and state.counting_version == COUNTING_VERSION:
            return
        recount(session)

    def follow_range(self, session: Session, first: int, last: int) -> None:
        session.flush()
        apply(session, row_counts(session, first), 1)

    def roll_back(self, session: Session, first_block: int | None) -> None:
        session.flush()
        if first_block is None:
            session.execute(delete(StatsCounterRow))
            _changed(session)
            return
        apply(session, row_counts(session, first_block), -1)


def recount(session: Session) -> None:
    """Counts every counter afresh from the index's rows."""
    session.flush()
    session.execute(delete(StatsCounterRow))
    apply(session, row_counts(session, None), 1)
    state = session.get(StatsStateRow, STATE)
    if state is None:
        session.add(StatsStateRow(name=STATE, counting_version=COUNTING_VERSION, changes=1))
    else:
        state.counting_version = COUNTING_VERSION
        state.changes += 1


def apply(session: Session, counts: Mapping[CounterKey, int], sign: int) -> None:
    """Adds ``counts`` times ``sign`` to the stored counters (a counter back at zero is removed)."""
    if not counts:
        return
    keys = sorted(counts)
    stored: dict[CounterKey, StatsCounterRow] = {}
    columns = tuple_(
        StatsCounterRow.scope, StatsCounterRow.series, StatsCounterRow.day, StatsCounterRow.key
    )
    for start in range(0, len(keys), _CHUNK):
        for row in session.scalars(
            select(StatsCounterRow).where(columns.in_(keys[start : start + _CHUNK]))
        ):
            stored[(row.scope, row.series, row.day, row.key)] = row
    for key in keys:
        found = stored.get(key)
        value = (int(found.value) if found is not None else 0) + sign * counts[key]
        if found is None:
            session.add(
                StatsCounterRow(
                    scope=key[0], series=key[1], day=key[2], key=key[3], value=str(value)
                )
            )
        elif value == 0:
            session.delete(found)
        else:
            found.value = str(value)
    _changed(session)


def _changed(session: Session) -> None:
    state = session.get(StatsStateRow, STATE)
    if state is None:
        session.add(StatsStateRow(name=STATE, counting_version=COUNTING_VERSION, changes=1))
    else:
        state.changes += 1


def stored_counters(session: Session) -> dict[CounterKey, int]:
    """Every stored counter (for checks against a recount)."""
    return {
        (row.scope, row.series, row.day, row.key): int(row.value)
        for row in session.scalars(select(StatsCounterRow))
    }
