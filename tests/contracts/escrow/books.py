"""The escrow's books and the registry's holds, rebuilt from events alone, for the state-machine
test (test_invariants.py), with its plumbing. Every event is checked against the rules as it is
applied."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ape.exceptions import ContractLogicError
from eth_utils import keccak
from hypothesis.stateful import precondition

from tests.contracts.escrow.helpers import (
    BPS,
    OrderStatus,
    RefundReason,
    SettlementKind,
    Terms,
    fee_of,
    share_of,
)

SOLD = b"sold"
SOLD_ACTION = 5  # IProductRegistry.CustodyAction.Sold


def error_namer(*contracts: Any) -> Callable[[ContractLogicError], str]:
    """Names a refusal by its custom error; Ape leaves a callee's error (the registry's, inside
    the escrow) undecoded, so raw revert data is looked up in the contracts' ABIs."""
    selectors = {
        keccak(text=e.selector)[:4]: e.name for c in contracts for e in c.contract_type.errors
    }

    def name(error: ContractLogicError) -> str:
        found = type(error).__name__
        message = str(error.message or "")
        if found != "ContractLogicError":
            return found
        if message.startswith("0x"):
            return selectors.get(bytes.fromhex(message[2:])[:4], found)
        if message.startswith(("b'", 'b"')):
            return selectors.get(ast.literal_eval(message)[:4], found)
        return found

    return name


def having(*statuses: OrderStatus) -> Any:
    """Runs a state-machine rule only when some order is in one of `statuses`."""
    wanted = set(statuses)
    return precondition(lambda machine: any(s in wanted for s in machine.status.values()))


def bits(items: int) -> list[int]:
    return [i for i in range(32) if items >> i & 1]


@dataclass
class OrderBook:
    terms: Terms
    carrier: int = 0
    delivered: int = 0
    released: int = 0
    refunded: int = 0
    settled: bool = False
    paid: list[int] = field(default_factory=lambda: [0, 0, 0])

    @property
    def funder_paid(self) -> bool:
        return self.terms.payer != self.terms.buyer

    @property
    def open_items(self) -> int:
        if self.settled:
            return 0
        return ((1 << self.terms.item_count) - 1) & ~(self.released | self.refunded)

    def share(self, items: int) -> int:
        return share_of(self.terms.amount, self.terms.item_count, items)


@dataclass
class Books:
    """What the escrow owes and which order holds which item."""

    fee_to: str
    orders: dict[bytes, OrderBook] = field(default_factory=dict)
    credits: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    # item id -> the open order holding it, or SOLD (held for good).
    holder: dict[bytes, bytes] = field(default_factory=dict)
    recalled: set[bytes] = field(default_factory=set)

    def owed(self, token: str) -> int:
        escrowed = sum(
            b.terms.amount - sum(b.paid) for b in self.orders.values() if b.terms.token == token
        )
        return escrowed + sum(v for (_, tok), v in self.credits.items() if tok == token)

    def opened(self, terms: Terms) -> None:
        self.orders[terms.order_id] = OrderBook(terms)
        for item in terms.item_ids:
            assert item not in self.holder, "an item was held by two orders"
            self.holder[item] = terms.order_id

    def apply(self, tx: Any, escrow: Any, registry: Any) -> None:
        """Applies a receipt's events; the Sold records must be exactly the releases' items of
        orders handed to a carrier."""
        sold_expected: list[bytes] = []
        sold_recorded: list[bytes] = []
        for event in tx.events:
            if event.contract_address == registry.address:
                if event.event_name == "CustodyRecorded" and event.action == SOLD_ACTION:
                    sold_recorded.append(bytes(event.itemId))
                continue
            if event.contract_address != escrow.address:
                continue
            name = event.event_name
            if name == "Withdrawn":
                key = (event.account, event.token)
                assert event.amount == self.credits[key], "withdrawal differs from credit"
                self.credits[key] = 0
                continue
            if name == "CarrierAssigned":
                self.orders[bytes(event.orderId)].carrier = event.carrier
            elif name == "OrderDelivered":
                self.orders[bytes(event.orderId)].delivered |= event.items
            elif name == "OrderReleased":
                sold_expected += self._released(self.orders[bytes(event.orderId)], event)
            elif name == "OrderRefunded":
                self._refunded(self.orders[bytes(event.orderId)], event)
            elif name == "OrderSettled":
                self._settled(self.orders[bytes(event.orderId)], event)
        assert sold_recorded == sold_expected, "Sold recorded for other items than sold"

    def _pay(self, book: OrderBook, payer: int, net: int, fee: int) -> None:
        book.paid[0] += payer
        book.paid[1] += net
        book.paid[2] += fee
        assert sum(book.paid) <= book.terms.amount, "order paid out more than its deposit"
        self.credits[(book.terms.payer, book.terms.token)] += payer
        self.credits[(book.terms.merchant, book.terms.token)] += net
        self.credits[(self.fee_to, book.terms.token)] += fee

    def _let_go(self, book: OrderBook, items: int, sold: bool) -> list[bytes]:
        ids = [book.terms.item_ids[i] for i in bits(items)] if book.terms.item_ids else []
        for item in ids:
            assert self.holder.get(item) == book.terms.order_id, "order let go of another's item"
            if sold:
                self.holder[item] = SOLD
            else:
                del self.holder[item]
        return ids if sold else []

    def _released(self, book: OrderBook, event: Any) -> list[bytes]:
        items = event.items
        assert items and not items & ~book.open_items, "released items not open"
        gross = event.merchantAmount + event.feeAmount
        assert gross == book.share(items), "a release paid other than its items' shares"
        assert event.feeAmount == fee_of(gross, book.terms.fee_bps)
        if book.funder_paid:
            assert not items & ~book.delivered, "funder-paid order released undelivered items"
        book.released |= items
        self._pay(book, 0, event.merchantAmount, event.feeAmount)
        # A release before any carrier is a payment, not a sale.
        return self._let_go(book, items, sold=book.carrier != 0)

    def _refunded(self, book: OrderBook, event: Any) -> None:
        items = event.items
        assert items and not items & ~book.open_items, "refunded items not open"
        assert event.payerAmount == book.share(items), "a refund paid other than its shares"
        if event.reason == RefundReason.ITEM_RECALLED:
            recalled = {book.terms.item_ids[i] for i in bits(items)}
            assert recalled <= self.recalled, "recall refund of an item never recalled"
        if event.reason == RefundReason.DELIVERY_NOT_REPORTED:
            assert book.funder_paid and not items & book.delivered
        book.refunded |= items
        self._pay(book, event.payerAmount, 0, 0)
        self._let_go(book, items, sold=False)

    def _settled(self, book: OrderBook, event: Any) -> None:
        open_items = book.open_items
        remainder = book.share(open_items)
        payer, net, fee = event.payerAmount, event.merchantAmount, event.feeAmount
        assert payer + net + fee == remainder, "a split paid other than the remainder"
        assert payer == remainder * event.buyerBps // BPS
        undelivered = open_items & ~book.delivered if book.funder_paid else 0
        if event.kind == SettlementKind.AGREEMENT:
            assert not undelivered, "funder-paid order settled before delivery"
        if event.kind == SettlementKind.ARBITRATION_TIMEOUT and undelivered:
            assert event.buyerBps == BPS, "undelivered funder-paid order not refunded in full"
        book.settled = True
        self._pay(book, payer, net, fee)
        # Goods that left with a carrier stay with the buyer; others go back on sale.
        self._let_go(book, open_items, sold=book.carrier != 0)
