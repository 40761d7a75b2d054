"""The tables the indexer keeps from its own rows, in the transaction that writes those rows: the
merchants' seller records (``app.index.seller_records``) and whatever a feature above the index
adds (``DerivedTables.add``: the dashboard's counters), so a crash, a reorg's rollback or a
re-index leaves each equal to a recount of the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy.orm import Session

from app.index import seller_records


class RowFollower(Protocol):
    """What a table derived from the index's rows implements."""

    def ensure_counted(self, session: Session) -> None:
        """Counts the table once from the rows if it is missing or counted under older rules."""

    def follow_range(self, session: Session, first: int, last: int) -> None:
        """Adds what the rows just written for blocks ``first..last`` count."""

    def roll_back(self, session: Session, first_block: int | None) -> None:
        """Takes away what the rows of blocks ``first_block`` on count (all rows when None),
        before they are deleted."""


class DerivedTables:
    """The seller records and the followers added to them, one per indexer."""

    def __init__(self) -> None:
        self._followers: list[RowFollower] = []

    def add(self, follower: RowFollower) -> None:
        """Call it before the indexer's first cycle, so the follower counts every range."""
        self._followers.append(follower)

    def ensure_counted(self, session: Session) -> None:
        seller_records.ensure_counted(session)
        for follower in self._followers:
            follower.ensure_counted(session)

    def follow_range(self, session: Session, first: int, last: int) -> None:
        seller_records.follow_range(session, first, last)
        for follower in self._followers:
            follower.follow_range(session, first, last)

    def roll_back(
        self,
        session: Session,
        first_block: int | None,
        delete_rows: Callable[[Session, int | None], None],
    ) -> None:
        """Takes the followers' counts of the rows from ``first_block`` on away, then deletes the
        rows with ``delete_rows`` (the seller records doing the same)."""
        session.flush()
        for follower in self._followers:
            follower.roll_back(session, first_block)
        seller_records.roll_back(session, first_block, delete_rows)
