"""Which of an item's index rows speak for it now, after verifiers' reassignments.

``ProductRegistry.reassignItem`` moves an item to another merchant (its state stays, it leaves its
batch) or revokes the record (``to`` zero: the record is deleted, and the rightful merchant may
register the id afresh). So the item's record is its latest registration unless a revocation
came after it; a move after that registration names the merchant; and only flags and recalls
after the latest revocation still count (a revocation deletes the item's state with its record).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.shop.schemas import ReassignmentPublic

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
Row = Sequence[Any]
# Columns of a reassignment row (app.shop.verdict_sql.Q_REASSIGNMENTS).
_FROM, _TO, _REASON, _TX, _BLOCK, _LOG, _TIME = range(7)
# Where an item row (Q_ITEM) keeps its block number and log index, and its batch root.
_ITEM_BLOCK, _ITEM_LOG, _ITEM_ROOT = 5, 6, 3


@dataclass(frozen=True)
class ItemRecord:
    """The item's current record (None: never registered, or revoked since), the batch that
    speaks for it (None once a verifier moved it), the merchant it was moved to, and where the
    latest revocation happened."""

    item: Row | None
    root: str | None
    moved_to: str | None
    revoked_at: tuple[int, int] | None
    latest: Row | None

    @classmethod
    def plain(cls, item: Row | None) -> ItemRecord:
        """The record of an item no verifier ever reassigned (the common case): its latest
        registration, in its batch if it has one."""
        return cls(item, item[_ITEM_ROOT] if item is not None else None, None, None, None)

    @classmethod
    def resolve(cls, item: Row | None, reassignments: Sequence[Row]) -> ItemRecord:
        """From the latest registration row and the item's reassignments, oldest first."""
        revocations = [r for r in reassignments if r[_TO] == ZERO_ADDRESS]
        revoked_at = (revocations[-1][_BLOCK], revocations[-1][_LOG]) if revocations else None
        if item is not None and revoked_at is not None and _at(item) < revoked_at:
            item = None
        root: str | None = item[_ITEM_ROOT] if item is not None else None
        moved_to: str | None = None
        if item is not None:
            registered = _at(item)
            moves = [r for r in reassignments if (r[_BLOCK], r[_LOG]) > registered]
            if moves:
                moved_to, root = str(moves[-1][_TO]), None
        latest = reassignments[-1] if reassignments else None
        return cls(item, root, moved_to, revoked_at, latest)

    def since_revocation(self, rows: Sequence[Row], tx_at: int) -> list[Row]:
        """The rows after the latest revocation (each row's transaction hash at ``tx_at``, its
        block number and log index right after)."""
        if self.revoked_at is None:
            return list(rows)
        return [row for row in rows if (row[tx_at + 1], row[tx_at + 2]) > self.revoked_at]

    def reassignment_public(self) -> ReassignmentPublic | None:
        row = self.latest
        if row is None:
            return None
        return ReassignmentPublic(
            tx_hash=row[_TX],
            block_number=row[_BLOCK],
            log_index=row[_LOG],
            time=datetime.fromtimestamp(row[_TIME], UTC),
            from_merchant=row[_FROM],
            to=None if row[_TO] == ZERO_ADDRESS else row[_TO],
            reason_hash=row[_REASON],
        )


def _at(item: Row) -> tuple[int, int]:
    return (item[_ITEM_BLOCK], item[_ITEM_LOG])
