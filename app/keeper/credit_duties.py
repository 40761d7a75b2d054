"""The credit lines' keeper duties that look due, from the index: cheap filters only.

* ``settle_refund`` (``CreditLines.settleRefund(terms)``): an order paid with credit (a
  ``CreditDrawn`` into it) the escrow refunded or settled more often than its refunds were
  applied to the line (``CreditRefundSettled``); one duty per (order, number of those escrow
  events), so a later refund of the same order is settled again. The keeper asks
  ``refundOf(terms)`` and simulates before it queues.
* ``accrue`` (``CreditLines.accrue(borrower)``): a line whose latest event is a draw (not a
  default, not a restoration), not repaid since (the principal its last draw left, less the
  principal repaid after it, is not zero: a payment reaches the principal only once fees and
  interest are paid, so a line whose principal is paid off owes nothing and has no due time) and
  whose due time has passed: the stage is ``late_fee`` until a
  late fee is seen charged at that due time, then ``default``. One duty per (borrower, due time,
  stage). The keeper reads the line (``lineOf``: its due time still the one drawn at, else it was
  repaid) and its policy's grace and default period, and queues the stage only once it passed
  (``app.keeper.worker``): accruing changes nothing before.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.index.credit_events import DEFAULTED, DRAWN, LATE_FEE_CHARGED, RESTORED
from app.index.credit_rows import CreditDrawRow, CreditRepaymentRow
from app.index.models import CreditLineEventRow, CreditRefundRow, OrderEventRow
from app.keeper.due import DueDuty
from app.settings import KeeperDuty

LATE_FEE = "late_fee"
DEFAULT = "default"
# The escrow events that may credit an order's payer.
PAYER_CREDITED = ("refunded", "settled")


def credit_duties(session: Session, duties: Collection[KeeperDuty]) -> list[DueDuty]:
    """The credit candidates among ``duties`` (an accrual due from the line's due time: its
    policy's grace and default period are read by the keeper)."""
    found: list[DueDuty] = []
    if KeeperDuty.SETTLE_REFUND in duties:
        found += _refunds_to_settle(session)
    if KeeperDuty.ACCRUE in duties:
        found += _lines_past_due(session)
    return found


def accrue_stage(detail: str) -> tuple[int, str]:
    """An accrual's (due time, stage) from its detail."""
    due_at, _, stage = detail.partition(":")
    return int(due_at), stage


def _refunds_to_settle(session: Session) -> list[DueDuty]:
    credit_orders = (
        select(CreditLineEventRow.order_id)
        .where(CreditLineEventRow.kind == DRAWN, CreditLineEventRow.order_id.is_not(None))
        .distinct()
        .subquery()
    )
    credited = (
        select(
            OrderEventRow.order_id,
            func.count(OrderEventRow.id).label("times"),
            func.max(OrderEventRow.block_time).label("at"),
        )
        .where(OrderEventRow.kind.in_(PAYER_CREDITED))
        .group_by(OrderEventRow.order_id)
        .subquery()
    )
    applied = (
        select(CreditRefundRow.order_id, func.count(CreditRefundRow.id).label("times"))
        .group_by(CreditRefundRow.order_id)
        .subquery()
    )
    rows = session.execute(
        select(credited.c.order_id, credited.c.times, credited.c.at)
        .join(credit_orders, credit_orders.c.order_id == credited.c.order_id)
        .outerjoin(applied, applied.c.order_id == credited.c.order_id)
        .where(credited.c.times > func.coalesce(applied.c.times, 0))
    ).all()
    return [
        DueDuty(str(order_id), KeeperDuty.SETTLE_REFUND, int(at), str(int(times)))
        for order_id, times, at in rows
    ]


def _lines_past_due(session: Session) -> list[DueDuty]:
    latest = (
        select(
            CreditLineEventRow.borrower,
            CreditLineEventRow.kind,
            CreditLineEventRow.due_at,
            _newest_first(CreditLineEventRow),
        )
        .where(CreditLineEventRow.kind.in_((DRAWN, DEFAULTED, RESTORED)))
        .subquery()
    )
    drawn = session.execute(
        select(latest.c.borrower, latest.c.due_at).where(latest.c.rank == 1, latest.c.kind == DRAWN)
    ).all()
    charged = set(
        session.execute(
            select(CreditLineEventRow.borrower, CreditLineEventRow.due_at).where(
                CreditLineEventRow.kind == LATE_FEE_CHARGED
            )
        ).all()
    )
    paid_off = _paid_off(session)
    found: list[DueDuty] = []
    for borrower, due_at in drawn:
        if borrower in paid_off:
            continue
        stage = DEFAULT if (borrower, due_at) in charged else LATE_FEE
        # The contract charges once the time is strictly past the due time (plus its periods).
        found.append(DueDuty(borrower, KeeperDuty.ACCRUE, int(due_at) + 1, f"{due_at}:{stage}"))
    return found


def _paid_off(session: Session) -> set[str]:
    """Borrowers whose last draw's principal was repaid in full since: nothing is owed (amounts are
    uint256 decimal strings, summed here)."""
    last = select(
        CreditDrawRow.borrower,
        CreditDrawRow.principal,
        CreditDrawRow.block_number,
        CreditDrawRow.log_index,
        _newest_first(CreditDrawRow),
    ).subquery()
    since = or_(
        CreditRepaymentRow.block_number > last.c.block_number,
        and_(
            CreditRepaymentRow.block_number == last.c.block_number,
            CreditRepaymentRow.log_index > last.c.log_index,
        ),
    )
    rows = session.execute(
        select(last.c.borrower, last.c.principal, CreditRepaymentRow.principal)
        .join(CreditRepaymentRow, and_(CreditRepaymentRow.borrower == last.c.borrower, since))
        .where(last.c.rank == 1)
    ).all()
    owed: dict[str, int] = {}
    for borrower, drawn, repaid in rows:
        owed[borrower] = owed.get(borrower, int(drawn)) - int(repaid)
    return {borrower for borrower, left in owed.items() if left <= 0}


def _newest_first(row: type[CreditLineEventRow] | type[CreditDrawRow]) -> Any:
    """Each borrower's rows of ``row``'s table ranked newest first (``rank`` 1: the latest)."""
    return (
        func.row_number()
        .over(partition_by=row.borrower, order_by=(row.block_number.desc(), row.log_index.desc()))
        .label("rank")
    )
