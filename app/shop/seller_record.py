"""A merchant's seller record from the index: one row the indexer keeps up to date
(``app.index.seller_records``, where the rules are), read the same way by the item verdict (hot
path, DB-API) and the merchant and order reads (SQLAlchemy).

Orders below the escrow's seller-record floor for their token are left out: a merchant could
otherwise pay itself dust orders, release them and look busy and reliable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.index.seller_records import SellerRecordRow
from app.shop.schemas import SellerRecordPublic

# Orders total, completed (released in full), refunded in full, disputes, disputes lost, from
# ``index_seller_records`` joined as ``{r}`` (LEFT JOIN: a merchant without orders has no row).
SELLER_RECORD_COLUMNS = (
    "{r}.orders_total, {r}.orders_completed, {r}.orders_refunded, {r}.disputes_total, "
    "{r}.disputes_lost"
)
SELLER_RECORD_WIDTH = 5


def seller_record_from(counts: Sequence[Any]) -> SellerRecordPublic:
    """The record from the five columns of :data:`SELLER_RECORD_COLUMNS` (NULL: no orders)."""
    total, completed, refunded, disputes, lost = counts
    return SellerRecordPublic(
        orders_total=total or 0,
        orders_completed=completed or 0,
        orders_refunded=refunded or 0,
        disputes_total=disputes or 0,
        disputes_lost=lost or 0,
    )


def seller_record(session: Session, merchant: str) -> SellerRecordPublic:
    """The merchant's record from the index."""
    found = session.execute(
        select(
            SellerRecordRow.orders_total,
            SellerRecordRow.orders_completed,
            SellerRecordRow.orders_refunded,
            SellerRecordRow.disputes_total,
            SellerRecordRow.disputes_lost,
        ).where(SellerRecordRow.merchant == merchant)
    ).first()
    return seller_record_from(found if found is not None else (0,) * SELLER_RECORD_WIDTH)


def counts_in_record(amount: int, floor: int) -> bool:
    """Whether an order of ``amount`` counts under ``floor`` (the rule the index applies)."""
    return amount >= floor
