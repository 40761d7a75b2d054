"""Merchants' seller records: the rule, in one place, and the counts the indexer keeps by it.

The rule (``order_counts``): an order counts in its merchant's record unless its amount is below
the escrow's seller-record floor for its token (``sellerRecordFloor``, the floor in force now:
raising it cleans a padded record at once; a token without a floor counts every order). A
counted order adds one to the orders, one to the completed when it ended released in full, one
to the refunded when it ended refunded in full, one to the disputes when it was disputed, and
one to the disputes lost when a dispute ended with the payer refunded or with more than half of
the remainder back to the payer. The index feeds the rule its rows (``OrderOutcome`` from the
order, its latest event and its dispute); ``?fresh=true`` feeds it the escrow's views and logs
(``app.shop.chain_orders``): the two answers cannot count by different rules.

The item verdict is the shopper's hot path: counting per request cost a sixth of its time with no
orders at all, and grows with the merchant's orders. So the indexer keeps the counts in
``index_seller_records``, in the same transaction as the rows they count:

- each indexed range takes away what the orders it touched counted before it and adds what they
  count after it, so the records always equal a whole recount;
- a rollback does the same in reverse for the orders whose rows it is about to delete;
- a floor change applies to past orders, so when one is indexed or rolled back the records are
  counted afresh from every order (floors change rarely);
- an index built before this table (or under older rules) is counted once at the indexer's first
  cycle (``COUNTING_VERSION``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Integer, String, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db.base import Base
from app.domain.vocab import OrderStatus
from app.index.models import (
    ADDRESS,
    DisputeRow,
    OrderEventRow,
    OrderRow,
    SellerRecordFloorRow,
)

# Bump when the counting rules change: an index counted under older rules is counted again.
COUNTING_VERSION = 1
_DERIVED_NAME = "seller_records"
_LAST_BLOCK = 2**62
_CHUNK = 500
HALF_BPS = 5_000

COLUMNS = ("orders_total", "orders_completed", "orders_refunded", "disputes_total", "disputes_lost")
Counts = tuple[int, int, int, int, int]
ZERO: Counts = (0, 0, 0, 0, 0)


@dataclass(frozen=True)
class OrderOutcome:
    """What a seller record needs of one order: its terms' merchant, token and amount, its status
    now, whether it was disputed, and the payer's share of a settlement (basis points; 0 unless
    settled)."""

    merchant: str
    token: str
    amount: int
    status: OrderStatus
    disputed: bool
    buyer_bps: int = 0


def order_counts(order: OrderOutcome, floor: int) -> Counts:
    """What ``order`` adds to its merchant's record under its token's ``floor``."""
    if order.amount < floor:
        return ZERO
    lost = order.disputed and (
        order.status is OrderStatus.REFUNDED
        or (order.status is OrderStatus.SETTLED and order.buyer_bps > HALF_BPS)
    )
    return (
        1,
        int(order.status is OrderStatus.RELEASED),
        int(order.status is OrderStatus.REFUNDED),
        int(order.disputed),
        int(lost),
    )


def seller_records(orders: Iterable[OrderOutcome], floors: Mapping[str, int]) -> dict[str, Counts]:
    """Every merchant's record from its orders (``floors`` by token; absent: no floor)."""
    records: dict[str, Counts] = {}
    for order in orders:
        counts = order_counts(order, floors.get(order.token, 0))
        records[order.merchant] = _add(records.get(order.merchant, ZERO), counts, 1)
    return records


def _add(total: Counts, counts: Counts, sign: int) -> Counts:
    return cast(Counts, tuple(a + sign * b for a, b in zip(total, counts, strict=True)))


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


def follow_range(session: Session, first: int, last: int) -> None:
    """Brings the records up to date with the rows just written for blocks ``first..last``."""
    session.flush()
    if _floor_changed(session, first, last):
        recount(session)
        return
    touched = _touched_orders(session, first)
    floors = index_floors(session)
    deltas = _records_of(session, touched, None, floors)
    for merchant, counts in _records_of(session, touched, first - 1, floors).items():
        deltas[merchant] = _add(deltas.get(merchant, ZERO), counts, -1)
    _apply(session, deltas)


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
    if _floor_changed(session, first_block, _LAST_BLOCK):
        delete_rows(session, first_block)
        recount(session)
        return
    touched = _touched_orders(session, first_block)
    floors = index_floors(session)
    deltas = _records_of(session, touched, first_block - 1, floors)
    for merchant, counts in _records_of(session, touched, None, floors).items():
        deltas[merchant] = _add(deltas.get(merchant, ZERO), counts, -1)
    delete_rows(session, first_block)
    _apply(session, deltas)


def recount(session: Session) -> None:
    """Counts every record afresh from the index's rows."""
    session.flush()
    session.execute(delete(SellerRecordRow))
    _apply(session, seller_records(index_outcomes(session, None, None), index_floors(session)))


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


def index_floors(session: Session) -> dict[str, int]:
    """The floor in force per token: its latest ``SellerRecordFloorChanged`` the index has."""
    latest = select(func.max(SellerRecordFloorRow.id)).group_by(SellerRecordFloorRow.token)
    rows = session.execute(
        select(SellerRecordFloorRow.token, SellerRecordFloorRow.amount).where(
            SellerRecordFloorRow.id.in_(latest)
        )
    )
    return {token: int(amount) for token, amount in rows}


def index_outcomes(
    session: Session, order_ids: list[str] | None, up_to: int | None
) -> list[OrderOutcome]:
    """The outcomes of ``order_ids`` (every order when None) from the index's rows of blocks up
    to ``up_to`` (all of them when None); an order opened after it is left out."""
    found: list[OrderOutcome] = []
    chunks: list[list[str] | None] = [None]
    if order_ids is not None:
        chunks = [order_ids[i : i + _CHUNK] for i in range(0, len(order_ids), _CHUNK)]
    for chunk in chunks:
        found += _outcomes_of(session, chunk, up_to)
    return found


def _outcomes_of(
    session: Session, chunk: list[str] | None, up_to: int | None
) -> list[OrderOutcome]:
    def where(table: type[OrderRow] | type[OrderEventRow] | type[DisputeRow]) -> list[object]:
        clauses: list[object] = []
        if chunk is not None:
            clauses.append(table.order_id.in_(chunk))
        if up_to is not None:
            clauses.append(table.block_number <= up_to)
        return clauses

    orders = session.execute(
        select(OrderRow.order_id, OrderRow.merchant, OrderRow.token, OrderRow.amount).where(
            *where(OrderRow)  # type: ignore[arg-type]
        )
    ).all()
    if not orders:
        return []
    status: dict[str, int] = {}
    buyer_bps: dict[str, int] = {}
    events = session.execute(
        select(
            OrderEventRow.order_id, OrderEventRow.status, OrderEventRow.kind, OrderEventRow.details
        )
        .where(*where(OrderEventRow))  # type: ignore[arg-type]
        .order_by(OrderEventRow.block_number, OrderEventRow.log_index)
    )
    for order_id, event_status, kind, details in events:
        status[order_id] = event_status
        if kind == "settled":
            buyer_bps[order_id] = int(json.loads(details)["buyer_bps"])
    disputed = set(
        session.scalars(select(DisputeRow.order_id).where(*where(DisputeRow)))  # type: ignore[arg-type]
    )
    return [
        OrderOutcome(
            merchant=merchant,
            token=token,
            amount=int(amount),
            status=OrderStatus(status.get(order_id, OrderStatus.FUNDED)),
            disputed=order_id in disputed,
            buyer_bps=buyer_bps.get(order_id, 0),
        )
        for order_id, merchant, token, amount in orders
    ]


def _records_of(
    session: Session, order_ids: list[str], up_to: int | None, floors: Mapping[str, int]
) -> dict[str, Counts]:
    return seller_records(index_outcomes(session, order_ids, up_to), floors)


def _touched_orders(session: Session, first: int) -> list[str]:
    """The orders with a row (opening, event, dispute) in blocks ``first`` on."""
    touched: set[str] = set()
    for table in (OrderRow, OrderEventRow, DisputeRow):
        touched.update(
            session.scalars(select(table.order_id).where(table.block_number >= first).distinct())
        )
    return sorted(touched)


def _floor_changed(session: Session, first: int, last: int) -> bool:
    return bool(
        session.scalar(
            select(func.count()).where(SellerRecordFloorRow.block_number.between(first, last))
        )
    )


def _apply(session: Session, deltas: Mapping[str, Counts]) -> None:
    """Adds ``deltas`` (per merchant) to the stored records."""
    deltas = {merchant: delta for merchant, delta in deltas.items() if any(delta)}
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
