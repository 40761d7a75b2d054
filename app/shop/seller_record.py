"""A merchant's seller record from the index, in one SQL fragment the item verdict (hot path,
DB-API) and the merchant and order reads (SQLAlchemy) share.

Orders below the escrow's seller-record floor for their token are left out: a merchant could
otherwise pay itself dust orders, release them and look busy and reliable. The floor is the one
in force now (``SellerRecordFloorChanged``'s latest per token), so raising it cleans a padded
record at once; a token without a floor counts every order.

Amounts are compared through their zero-padded keys (``app.index.models.amount_key``): digit
strings of one length sort as numbers in any collation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.shop.schemas import SellerRecordPublic

# The merchant's dust orders as ``o``: for each token's floor in force (its latest change, few
# rows), one range scan of the merchant's orders of that token below it (an index on merchant,
# token and the padded amount). Seller records take them away from the merchant's counts, so
# only dust orders cost more than the counts themselves.
# (CROSS JOIN keeps the floors outermost in SQLite, whose planner would otherwise walk every
# order of the merchant; elsewhere it is a plain join.)
_DUST = """
  FROM index_seller_record_floors cf CROSS JOIN index_orders o
  WHERE cf.id IN (SELECT MAX(f2.id) FROM index_seller_record_floors f2 GROUP BY f2.token)
    AND o.merchant = {m} AND o.token = cf.token AND o.amount_key < cf.amount_key
"""
_DUST_EVENTS = _DUST.replace(
    "CROSS JOIN index_orders o",
    "CROSS JOIN index_orders o JOIN index_order_events e ON e.order_id = o.order_id",
)
# Orders total, completed (released in full), refunded in full, disputes, disputes lost, for
# the merchant column or parameter ``{m}``.
SELLER_RECORD_COLUMNS = f"""
  (SELECT COUNT(*) FROM index_orders WHERE merchant = {{m}})
  - (SELECT COUNT(*) {_DUST}),
  (SELECT COUNT(*) FROM index_order_events
   WHERE merchant = {{m}} AND status = 5 AND kind = 'released')
  - (SELECT COUNT(*) {_DUST_EVENTS} AND e.status = 5 AND e.kind = 'released'),
  (SELECT COUNT(*) FROM index_order_events
   WHERE merchant = {{m}} AND status = 6 AND kind = 'refunded')
  - (SELECT COUNT(*) {_DUST_EVENTS} AND e.status = 6 AND e.kind = 'refunded'),
  (SELECT COUNT(*) FROM index_disputes WHERE merchant = {{m}})
  - (SELECT COUNT(*) {_DUST} AND EXISTS
     (SELECT 1 FROM index_disputes d WHERE d.order_id = o.order_id)),
  (SELECT COUNT(*) FROM index_order_events
   WHERE merchant = {{m}} AND dispute_outcome = 'merchant_lost')
  - (SELECT COUNT(*) {_DUST_EVENTS} AND e.dispute_outcome = 'merchant_lost')
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
