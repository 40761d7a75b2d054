"""What the index and shopper tests' driver hands back (an actor, an item, a batch, an order),
reading an item's current index row, and merchants' seller records as stored and as counted
afresh."""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3.types import TxReceipt

from app.domain.merkle import ItemBatch
from app.domain.vocab import OrderStatus
from app.index.escrow_events import MERCHANT_LOST
from app.index.models import DisputeRow, ItemRow, OrderEventRow, OrderRow, SellerRecordFloorRow
from app.index.seller_records import COLUMNS, SellerRecordRow

Key = tuple[int, str, str]


@dataclass(frozen=True)
class Actor:
    """A fresh account: its address and key (for signatures; transactions are impersonated)."""

    account: LocalAccount

    @property
    def address(self) -> str:
        return str(self.account.address)


@dataclass(frozen=True)
class Item:
    item_id: bytes
    metadata: dict[str, Any]
    metadata_hash: bytes
    uri: str
    receipt: TxReceipt
    key: Key

    @property
    def hex(self) -> str:
        return "0x" + self.item_id.hex()


@dataclass(frozen=True)
class Batch:
    root: bytes
    tree: ItemBatch
    manifest: dict[str, Any]
    receipt: TxReceipt
    keys: dict[bytes, Key]

    @property
    def hex(self) -> str:
        return "0x" + self.root.hex()

    @property
    def item_ids(self) -> list[bytes]:
        return [leaf.item_id for leaf in self.tree.leaves]


@dataclass(frozen=True)
class Order:
    order_id: bytes
    terms: tuple[Any, ...]
    receipt: TxReceipt

    @property
    def hex(self) -> str:
        return "0x" + self.order_id.hex()


def item_row(session: Session, item: bytes | str) -> ItemRow | None:
    """The item's latest registration row (an id registered again after a revocation has two)."""
    key = item if isinstance(item, str) else "0x" + item.hex()
    return session.scalars(
        select(ItemRow)
        .where(ItemRow.item_id == key)
        .order_by(ItemRow.block_number.desc(), ItemRow.log_index.desc())
        .limit(1)
    ).first()


def random_gtin() -> tuple[str, str]:
    """A fresh GTIN-14 with a valid check digit, and its 7-digit GS1 company prefix: tests on the
    shared chain never meet each other's prefixes or GS1 ids (the first digit 4 stays clear of
    the 950... prefixes other tests use)."""
    body = "04" + "".join(str(secrets.randbelow(10)) for _ in range(11))
    weighted = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    gtin = body + str((10 - weighted % 10) % 10)
    return gtin, gtin[1:8]


Record = tuple[int, int, int, int, int]  # orders, completed, refunded, disputes, disputes lost


def stored_seller_records(session: Session) -> dict[str, Record]:
    """The records the indexer keeps, leaving out all-zero ones (a merchant whose orders a reorg
    or a floor took away keeps a row of zeros)."""
    found: dict[str, Record] = {}
    for row in session.scalars(select(SellerRecordRow)):
        counts = tuple(getattr(row, column) for column in COLUMNS)
        if any(counts):
            found[row.merchant] = counts  # type: ignore[assignment]
    return found


def recounted_seller_records(session: Session) -> dict[str, Record]:
    """Every record counted afresh from the index's rows, in Python, by the rules (not the SQL)
    of app.index.seller_records: orders below the latest floor of their token are left out."""
    floors = {
        floor.token: int(floor.amount)
        for floor in session.scalars(select(SellerRecordFloorRow).order_by(SellerRecordFloorRow.id))
    }
    orders = {order.order_id: order for order in session.scalars(select(OrderRow))}

    def counts(order_id: str) -> bool:
        order = orders.get(order_id)
        return order is None or int(order.amount) >= floors.get(order.token, 0)

    records: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
    for order in orders.values():
        records[order.merchant][0] += counts(order.order_id)
    for event in session.scalars(select(OrderEventRow)):
        if counts(event.order_id):
            final = (event.kind, event.status)
            records[event.merchant][1] += final == ("released", OrderStatus.RELEASED)
            records[event.merchant][2] += final == ("refunded", OrderStatus.REFUNDED)
            records[event.merchant][4] += event.dispute_outcome == MERCHANT_LOST
    for dispute in session.scalars(select(DisputeRow)):
        records[dispute.merchant][3] += counts(dispute.order_id)
    return {m: tuple(c) for m, c in records.items() if any(c)}  # type: ignore[misc]
