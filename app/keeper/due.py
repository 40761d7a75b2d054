"""A duty that looks due, and which duties the outbox already holds.

A duty is one outbox record, unique by ``(source, source_event_id)`` = ``("keeper",
"duty:subject[:detail]")``: the subject is the order (the line's borrower for ``accrue``); the
detail tells apart duties of one subject that may each come once: a recall refund's items bitmap
(a later recall of another item is a new duty), the number of refunds a credit-paid order had
(a later refund is settled again), an accrual's due time and stage (``late_fee``, ``default``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.outbox.models import OutboxRecord, RelayKind
from app.settings import KeeperDuty

KEEPER_SOURCE = "keeper"
KEEPER_KINDS = (RelayKind.KEEPER_DUTY, RelayKind.KEEPER_CREDIT_DUTY)


@dataclass(frozen=True)
class DueDuty:
    """A duty that looks due: its subject (an order id, or a borrower for ``accrue``), since
    when (unix seconds, by block time), and what tells it apart from the subject's other ones."""

    subject: str
    duty: KeeperDuty
    due_at: int
    detail: str = ""

    @property
    def event_id(self) -> str:
        return duty_event_id(self.duty, self.subject, self.detail)


def duty_event_id(duty: KeeperDuty, subject: str, detail: str = "") -> str:
    """The outbox event id of a duty: one record per (subject, duty, detail), whichever keeper
    queues it."""
    return f"{duty.value}:{subject}" + (f":{detail}" if detail else "")


def queued_event_ids(session: Session, event_ids: Iterable[str]) -> set[str]:
    """Which of these duties have an outbox record (in any state)."""
    wanted = list(event_ids)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        found.update(
            session.scalars(
                select(OutboxRecord.source_event_id).where(
                    OutboxRecord.source == KEEPER_SOURCE,
                    OutboxRecord.kind.in_(KEEPER_KINDS),
                    OutboxRecord.source_event_id.in_(wanted[start : start + 500]),
                )
            )
        )
    return found
