"""One party's escrow orders (``GET /v1/orders?buyer=`` or ``?merchant=``), newest first, a page
at a time, each in the public form ``app.shop.reads.order_summaries`` gives every indexed order.

Everything shown is public on chain: ``OrderOpened`` names both parties in its topics and carries
the terms in full, and every later move is an event. Pages are cut by position (the
``OrderOpened`` log's block and log index, the cursor), not by offset, so that orders opened
while a client pages do not shift the pages after the first.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.index.models import OrderRow
from app.index.queries import index_position
from app.shop.assemble import utc
from app.shop.order_context import OrderContext
from app.shop.reads import order_summaries
from app.shop.schemas import OrderListPublic

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
CURSOR_PATTERN = r"^[0-9]{1,18}\.[0-9]{1,9}$"
_CURSOR = re.compile(CURSOR_PATTERN)


class OrderCursor(NamedTuple):
    """Where a page ended: the last order's ``OrderOpened`` log; the next page starts below."""

    block_number: int
    log_index: int

    @classmethod
    def parse(cls, text: str) -> OrderCursor:
        """A cursor as ``str`` gave it; ValueError for anything else."""
        if not _CURSOR.fullmatch(text):
            raise ValueError(f"{text!r} is not a cursor this API gave")
        block, log = text.split(".")
        return cls(int(block), int(log))

    def __str__(self) -> str:
        return f"{self.block_number}.{self.log_index}"


def party_orders(
    session: Session,
    *,
    buyer: str | None,
    merchant: str | None,
    limit: int,
    cursor: OrderCursor | None,
    context: OrderContext,
) -> OrderListPublic:
    """The orders of ``buyer`` or of ``merchant`` (exactly one, a checksummed address) after
    ``cursor``, at most ``limit``."""
    party = OrderRow.buyer == buyer if buyer is not None else OrderRow.merchant == merchant
    query = select(OrderRow).where(party)
    if cursor is not None:
        query = query.where(
            or_(
                OrderRow.block_number < cursor.block_number,
                and_(
                    OrderRow.block_number == cursor.block_number,
                    OrderRow.log_index < cursor.log_index,
                ),
            )
        )
    # One row more than the page tells whether another page follows.
    rows = session.scalars(
        query.order_by(OrderRow.block_number.desc(), OrderRow.log_index.desc()).limit(limit + 1)
    ).all()
    page = rows[:limit]
    position = index_position(session)
    return OrderListPublic(
        orders=order_summaries(session, page, context),
        buyer=buyer,
        merchant=merchant,
        limit=limit,
        next_cursor=str(OrderCursor(page[-1].block_number, page[-1].log_index))
        if len(rows) > limit
        else None,
        as_of_block=position.last_block if position else None,
        now=utc(context.now),
        clock=context.clock,
    )
