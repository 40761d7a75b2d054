"""Merchants' seller records, kept by the indexer as it goes, so that reading one is one row.

The rules (issue 10): a merchant's record counts its orders, those released in full, those
refunded in full, its disputes and the disputes it lost, leaving out orders below the escrow's
seller-record floor for their token (``SellerRecordFloorChanged``'s latest per token, the floor in
force now: raising it cleans a padded record at once). A token without a floor counts every order.

The item verdict is the shopper's hot path: counting these per request cost a sixth of its time
with no orders at all, and grows with the merchant's orders. So the indexer keeps the counts in
``index_seller_records``, in the same transaction as the rows they count:

- each indexed range adds the counts of its own rows (orders opened, final events and disputes in
  its blocks), by the same rules as a whole recount, so the records always equal one;
- a rollback takes away the counts of the rows it is about to delete;
- a floor change applies to past orders, so when one is indexed or rolled back the records are
  counted afresh from every row (floors change rarely);
- an index built before this table (or under older rules) is counted once at the indexer's first
  cycle (``COUNTING_VERSION``).

Amounts are compared through their zero-padded keys (``app.index.models.amount_key``): digit
strings of one length sort as numbers in any collation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from sqlalchemy import Integer, String, Table, bindparam, delete, insert, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db.base import Base
from app.domain.vocab import OrderStatus
from app.index.models import ADDRESS

# Bump when the counting rules change: an index counted under older rules is counted again.
COUNTING_VERSION = 1
_DERIVED_NAME = "seller_records"
_ALL_BLOCKS = (0, 2**62)

COLUMNS = ("orders_total", "orders_completed", "orders_refunded", "disputes_total", "disputes_lost")


class SellerRecordRow(Base):
    """A merchant's seller record as the index has it now (a merchant without orders has none)."""

    __tablename__ = "index_seller_records"

    merchant: Mapped[str] = mapped_column(String(ADDRESS), primary_key=True)
    orders_total: Mapped[int] = mapped_column(Integer, default=0)
    orders_completed: Mapped[int] = mapped_column(Integer, default=0)
    orders_refunded: Mapped[int] = mapped_column(Integer, default=0)
    disputes_total: Mapped[int] = mapped_column(Integer, default=0)
    disputes_lost: Mapped[int] = mapped_column(Integer, default=0)


class DerivedVersion(Base):
    """Which rules the index's derived tables were counted under (``name`` -> ``version``)."""

    __tablename__ = "index_derived"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


# The order ``o`` counts: no floor in force for its token is above its amount (an event or dispute
# of an order the index never saw opened has ``o`` NULL and counts, as it always did).
_COUNTS = """NOT EXISTS (SELECT 1 FROM index_seller_record_floors f
  WHERE f.token = o.token AND o.amount_key < f.amount_key
    AND f.id IN (SELECT MAX(f2.id) FROM index_seller_record_floors f2 GROUP BY f2.token))"""
_IN_RANGE = "{t}.block_number BETWEEN :first AND :last"
_EVENTS = (
    "FROM index_order_events e LEFT JOIN index_orders o ON o.order_id = e.order_id WHERE "
    + _IN_RANGE.format(t="e")
)
# (column of COLUMNS, merchant, count) for the rows of blocks first..last.
_ROW_COUNTS = text(
    f"""
    SELECT 0, o.merchant, COUNT(*) FROM index_orders o
      WHERE {_IN_RANGE.format(t="o")} AND {_COUNTS} GROUP BY o.merchant
    UNION ALL SELECT 1, e.merchant, COUNT(*) {_EVENTS}
      AND e.status = {int(OrderStatus.RELEASED)} AND e.kind = 'released' AND {_COUNTS}
      GROUP BY e.merchant
    UNION ALL SELECT 2, e.merchant, COUNT(*) {_EVENTS}
      AND e.status = {int(OrderStatus.REFUNDED)} AND e.kind = 'refunded' AND {_COUNTS}
      GROUP BY e.merchant
    UNION ALL SELECT 3, d.merchant, COUNT(*)
      FROM index_disputes d LEFT JOIN index_orders o ON o.order_id = d.order_id
      WHERE {_IN_RANGE.format(t="d")} AND {_COUNTS} GROUP BY d.merchant
    UNION ALL SELECT 4, e.merchant, COUNT(*) {_EVENTS}
      AND e.dispute_outcome = 'merchant_lost' AND {_COUNTS} GROUP BY e.merchant
    """
)
_FLOOR_CHANGES = text(
    "SELECT COUNT(*) FROM index_seller_record_floors f WHERE " + _IN_RANGE.format(t="f")
)


def follow_range(session: Session, first: int, last: int) -> None:
    """Brings the records up to date with the rows just written for blocks ``first..last``."""
    session.flush()
    if _floor_changed(session, first, last):
        recount(session)
    else:
        _add_rows(session, first, last, 1)


def roll_back(
    session: Session,
    first_block: int | None,
    delete_rows: Callable[[Session, int | None], None],
) -> None:
    """Deletes the index's rows from ``first_block`` on (all of them when None) with
    ``delete_rows``, and the records' counts of them."""
    session.flush()
    if first_block is None:
        delete_rows(session, None)
        session.execute(delete(SellerRecordRow))
        return
    floors_go = _floor_changed(session, first_block, _ALL_BLOCKS[1])
    if not floors_go:
        _add_rows(session, first_block, _ALL_BLOCKS[1], -1)
    delete_rows(session, first_block)
    if floors_go:
        recount(session)


def recount(session: Session) -> None:
    """Counts every record afresh from the index's rows."""
    session.execute(delete(SellerRecordRow))
    _add_rows(session, *_ALL_BLOCKS, 1)


def ensure_counted(session: Session) -> None:
    """Counts the records once if the index was built without them or under older rules (one
    primary-key read otherwise)."""
    marker = session.get(DerivedVersion, _DERIVED_NAME)
    if marker is not None and marker.version == COUNTING_VERSION:
        return
    recount(session)
    if marker is None:
        session.add(DerivedVersion(name=_DERIVED_NAME, version=COUNTING_VERSION))
    else:
        marker.version = COUNTING_VERSION


def _floor_changed(session: Session, first: int, last: int) -> bool:
    return bool(session.scalar(_FLOOR_CHANGES, {"first": first, "last": last}))


def _add_rows(session: Session, first: int, last: int, sign: int) -> None:
    """Adds (``sign`` 1) or takes away (-1) the counts of the rows of blocks ``first..last``."""
    deltas: dict[str, list[int]] = {}
    for column, merchant, count in session.execute(_ROW_COUNTS, {"first": first, "last": last}):
        deltas.setdefault(merchant, [0] * len(COLUMNS))[column] += sign * int(count)
    if not deltas:
        return
    known = set(
        session.scalars(
            select(SellerRecordRow.merchant).where(SellerRecordRow.merchant.in_(list(deltas)))
        )
    )
    new = [
        {"merchant": merchant, **dict(zip(COLUMNS, delta, strict=True))}
        for merchant, delta in deltas.items()
        if merchant not in known
    ]
    if new:
        session.execute(insert(SellerRecordRow), new)
    changed = [
        {"m": merchant, **{f"d_{name}": d for name, d in zip(COLUMNS, delta, strict=True)}}
        for merchant, delta in deltas.items()
        if merchant in known
    ]
    if changed:
        table = cast(Table, SellerRecordRow.__table__)
        session.execute(
            update(table)
            .where(table.c.merchant == bindparam("m"))
            .values({name: table.c[name] + bindparam(f"d_{name}") for name in COLUMNS}),
            changed,
        )
