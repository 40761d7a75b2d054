"""A merchant's seller record from the index, in one SQL fragment the item verdict (hot path,
DB-API) and the merchant and order reads (SQLAlchemy) share.

Orders below the escrow's seller-record floor for their token are left out: a merchant could
otherwise pay itself dust orders, release them and look busy and reliable. The floor is the one
in force now (``SellerRecordFloorChanged``'s latest per token), so raising it cleans a padded
record at once; a token without a floor counts every order.

Amounts are uint256 kept as decimal text without leading zeros, so "amount < floor" is compared
by length first, then as text (digit strings of one length sort as numbers in any collation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.shop.schemas import SellerRecordPublic

# The floor in force per token (the latest change), joined to order ``o`` as ``cf``; and whether
# ``o`` is at or above it (or its token has none). A join with this small derived table costs
# about half of a correlated lookup per order.
_FLOORS = """
  LEFT JOIN (SELECT f.token, f.amount FROM index_seller_record_floors f
    WHERE f.id IN (SELECT MAX(f2.id) FROM index_seller_record_floors f2 GROUP BY f2.token)) cf
  ON cf.token = o.token
"""
COUNTED_ORDER = """
  (cf.amount IS NULL OR LENGTH(o.amount) > LENGTH(cf.amount)
    OR (LENGTH(o.amount) = LENGTH(cf.amount) AND o.amount >= cf.amount))
"""
# Orders total, completed (released in full), refunded in full, disputes, disputes lost, for
# the merchant column or parameter ``{m}``.
SELLER_RECORD_COLUMNS = f"""
  (SELECT COUNT(*) FROM index_orders o {_FLOORS} WHERE o.merchant = {{m}} AND {COUNTED_ORDER}),
  (SELECT COUNT(*) FROM index_order_events e JOIN index_orders o ON o.order_id = e.order_id
   {_FLOORS}
   WHERE e.merchant = {{m}} AND e.status = 5 AND e.kind = 'released' AND {COUNTED_ORDER}),
  (SELECT COUNT(*) FROM index_order_events e JOIN index_orders o ON o.order_id = e.order_id
   {_FLOORS}
   WHERE e.merchant = {{m}} AND e.status = 6 AND e.kind = 'refunded' AND {COUNTED_ORDER}),
  (SELECT COUNT(*) FROM index_disputes d JOIN index_orders o ON o.order_id = d.order_id
   {_FLOORS}
   WHERE d.merchant = {{m}} AND {COUNTED_ORDER}),
  (SELECT COUNT(*) FROM index_order_events e JOIN index_orders o ON o.order_id = e.order_id
   {_FLOORS}
   WHERE e.merchant = {{m}} AND e.dispute_outcome = 'merchant_lost' AND {COUNTED_ORDER})
"""
SELLER_RECORD_WIDTH = 5


def seller_record_from(counts: Sequence[Any]) -> SellerRecordPublic:
    """The record from the five columns of :data:`SELLER_RECORD_COLUMNS`."""
    total, completed, refunded, disputes, lost = (int(c or 0) for c in counts)
    return SellerRecordPublic(
        orders_total=total,
        orders_completed=completed,
        orders_refunded=refunded,
        disputes_total=disputes,
        disputes_lost=lost,
    )


def seller_record(session: Session, merchant: str) -> SellerRecordPublic:
    """The merchant's record from the index."""
    query = text("SELECT " + SELLER_RECORD_COLUMNS.format(m=":merchant"))
    return seller_record_from(session.execute(query, {"merchant": merchant}).one())


def counts_in_record(amount: int, floor: int) -> bool:
    """Whether an order of ``amount`` counts under ``floor`` (the rule the SQL applies)."""
    return amount >= floor
