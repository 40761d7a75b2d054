"""Who may move an escrow order next, from and until when: OrderEscrow's rules
(``contracts/escrow/OrderEscrow.sol``) written down once in Python, to explain them.

The service never decides with these: the keeper simulates each move it finds before it queues
it (``app.keeper.worker``) and a party's wallet simulates its own, so the contract alone judges.
This says what is worth trying, and when, from an order's state as the index read it: what the
keeper looks for (``app.keeper.duties``), and what ``GET /v1/orders`` shows each party. Each rule
names the contract check it follows; a change to the contract's timing is made here and nowhere
else in the service.

Times are block times in unix seconds. A move's window is ``[opens_at, closes_at)``: ``opens_at``
is the first second it goes through (None: it already does), ``closes_at`` the first it no
longer does (None: until the order moves on).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.vocab import OrderStatus


class Party(StrEnum):
    """Who may make a move: a side of the order, an arbiter (ARBITER_ROLE), or any account."""

    BUYER = "buyer"
    MERCHANT = "merchant"
    ARBITER = "arbiter"
    ANYONE = "anyone"


class Action(StrEnum):
    """A move on an order, by the OrderEscrow function it calls (``FUNCTIONS``)."""

    SHIP = "ship"
    ASSIGN_CARRIER = "assign_carrier"
    CONFIRM_RECEIPT = "confirm_receipt"
    CANCEL = "cancel"  # a side's own cancellation: the buyer's before hand-over, the merchant's
    DISPUTE = "dispute"
    SUBMIT_EVIDENCE = "submit_evidence"
    OFFER_SETTLEMENT = "offer_settlement"
    ACCEPT_SETTLEMENT = "accept_settlement"
    WITHDRAW_OFFER = "withdraw_offer"
    RESOLVE_DISPUTE = "resolve_dispute"
    REFUND = "refund"  # ``cancel`` by anyone once a deadline was missed
    RELEASE = "release"
    RESOLVE_EXPIRED_DISPUTE = "resolve_expired_dispute"
    REFUND_RECALLED = "refund_recalled"


FUNCTIONS: dict[Action, str] = {
    Action.SHIP: "ship",
    Action.ASSIGN_CARRIER: "assignCarrier",
    Action.CONFIRM_RECEIPT: "confirmReceipt",
    Action.CANCEL: "cancel",
    Action.DISPUTE: "dispute",
    Action.SUBMIT_EVIDENCE: "submitEvidence",
    Action.OFFER_SETTLEMENT: "offerSettlement",
    Action.ACCEPT_SETTLEMENT: "acceptSettlement",
    Action.WITHDRAW_OFFER: "withdrawOffer",
    Action.RESOLVE_DISPUTE: "resolveDispute",
    Action.REFUND: "cancel",
    Action.RELEASE: "release",
    Action.RESOLVE_EXPIRED_DISPUTE: "resolveExpiredDispute",
    Action.REFUND_RECALLED: "refundRecalled",
}


class DeadlineName(StrEnum):
    """The times an order's current status runs against."""

    SHIP_BY = "ship_by"  # the merchant ships (or names a carrier) until then; the buyer cancels
    DELIVER_BY = "deliver_by"  # handed over and never reported picked up: refundable after it
    DISPUTE_WINDOW_CLOSES = "dispute_window_closes"  # the buyer disputes before; release from
    UNDELIVERED_REFUND_FROM = "undelivered_refund_from"  # credit-paid: undelivered items refunded
    ARBITRATION_DEADLINE = "arbitration_deadline"  # the arbiter rules before; the default after
    OFFER_EXPIRES = "offer_expires"  # the pending settlement offer is accepted before


@dataclass(frozen=True)
class Offer:
    """A pending settlement offer (``IOrderEscrow.Offer``)."""

    buyer_bps: int
    by_merchant: bool
    expires_at: int  # the first second it can no longer be accepted


@dataclass(frozen=True)
class OrderFacts:
    """What the rules read of an order: its terms' times and its state (``IOrderEscrow.Order``),
    as the index has them; bitmaps by item position (bit i = ``itemIds[i]``)."""

    order_id: str
    status: OrderStatus
    item_count: int
    ship_by: int
    deliver_by: int
    dispute_window: int
    paid_by_funder: bool  # payer != buyer: a credit line paid, and is paid back on refunds
    carrier: int = 0
    delivered_items: int = 0
    released_items: int = 0
    refunded_items: int = 0
    delivered_at: int | None = None  # the latest delivery report's block time
    dispute_deadline: int | None = None
    offer: Offer | None = None
    recalled_items: int = 0  # open items the index saw recalled or flagged
    recalled_since: int = 0

    @property
    def open_items(self) -> int:
        """``_openItems``: neither released nor refunded."""
        return ((1 << self.item_count) - 1) & ~(self.released_items | self.refunded_items)

    @property
    def undelivered(self) -> int:
        """``_undelivered``: a funder-paid order's open items no carrier reported delivered; a
        funder-paid order pays the merchant nothing for them without a ruling."""
        return self.open_items & ~self.delivered_items if self.paid_by_funder else 0

    @property
    def releasable_at(self) -> int:
        return releasable_at(
            self.status, self.delivered_at or 0, self.deliver_by, self.dispute_window
        )

    @property
    def refund_deadline(self) -> int:
        """``_cancellation``: a funded order is anyone's to refund once this passed, ``shipBy``
        (the stored copy) or, once a carrier was named, ``deliverBy``."""
        return self.deliver_by if self.carrier else self.ship_by


def releasable_at(
    status: OrderStatus, delivered_at: int, deliver_by: int, dispute_window: int
) -> int:
    """``_releasableAt``: when the dispute window closes and anyone may release, from delivery
    (``deliveredAt``, 0 before any report), or from ``deliverBy`` for an order not reported
    delivered in full by then."""
    if status != OrderStatus.DELIVERED and deliver_by > delivered_at:
        delivered_at = deliver_by
    return delivered_at + dispute_window


@dataclass(frozen=True)
class Move:
    """A move someone may make on an order, and its window."""

    party: Party
    action: Action
    opens_at: int | None = None
    closes_at: int | None = None
    items: int = 0  # a recall refund's items
    buyer_bps: int | None = None  # the split an acceptance must name

    @property
    def function(self) -> str:
        return FUNCTIONS[self.action]

    def open_at(self, now: int) -> bool:
        return (self.opens_at is None or self.opens_at <= now) and (
            self.closes_at is None or now < self.closes_at
        )


@dataclass(frozen=True)
class Deadline:
    name: DeadlineName
    at: int


_UNDISPUTED = (OrderStatus.FUNDED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
_SHIPPED = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
_SIDES = (Party.BUYER, Party.MERCHANT)
_PARTIES = list(Party)


def moves(order: OrderFacts) -> list[Move]:
    """Every move the contract's rules allow on the order in its status, each with its window;
    none once the order is final (Released, Refunded, Settled) or unknown."""
    status = order.status
    if status == OrderStatus.NONE or status.is_final:
        return []
    found = [Move(Party.MERCHANT, Action.CANCEL)]  # ``_cancellation``: any time while open
    if status == OrderStatus.FUNDED:
        # ``_requireShippable``: refused once ``block.timestamp > shipBy``.
        found.append(Move(Party.MERCHANT, Action.SHIP, closes_at=order.ship_by + 1))
        if not order.carrier:  # naming another carrier is allowed too, but no one's next step
            found.append(Move(Party.MERCHANT, Action.ASSIGN_CARRIER, closes_at=order.ship_by + 1))
            # ``_cancellation``: the buyer's own, before the deadline and any hand-over.
            found.append(Move(Party.BUYER, Action.CANCEL, closes_at=order.ship_by + 1))
        found.append(Move(Party.ANYONE, Action.REFUND, opens_at=order.refund_deadline + 1))
    if status in _UNDISPUTED and not order.undelivered:
        # ``confirmReceipt``: undisputed; ``_release``: a funder-paid order only once delivered.
        found.append(Move(Party.BUYER, Action.CONFIRM_RECEIPT))
    if status in _SHIPPED:
        releasable_at = order.releasable_at
        # ``dispute``: refused once ``block.timestamp >= _releasableAt``.
        found.append(Move(Party.BUYER, Action.DISPUTE, closes_at=releasable_at))
        if not order.undelivered:  # ``_releaseDue``, then ``_release``'s delivery proof
            found.append(Move(Party.ANYONE, Action.RELEASE, opens_at=releasable_at))
    if status == OrderStatus.SHIPPED and order.undelivered:
        # ``_cancellation``: a funder-paid order's undelivered items, from deliverBy + window.
        refund_at = order.deliver_by + order.dispute_window
        found.append(Move(Party.ANYONE, Action.REFUND, opens_at=refund_at, items=order.undelivered))
    if status == OrderStatus.DISPUTED and order.dispute_deadline is not None:
        found += [Move(side, Action.SUBMIT_EVIDENCE) for side in _SIDES]
        deadline = order.dispute_deadline
        found.append(Move(Party.ARBITER, Action.RESOLVE_DISPUTE, closes_at=deadline))
        found.append(Move(Party.ANYONE, Action.RESOLVE_EXPIRED_DISPUTE, opens_at=deadline))
    found += [Move(side, Action.OFFER_SETTLEMENT) for side in _SIDES]  # ``_requireOpen``
    found += _offer_moves(order)
    if order.recalled_items & order.open_items:
        # ``refundRecalled``: the registry's verdict, read by the escrow, alone decides.
        items = order.recalled_items & order.open_items
        found.append(
            Move(Party.ANYONE, Action.REFUND_RECALLED, opens_at=order.recalled_since, items=items)
        )
    return sorted(found, key=lambda move: _PARTIES.index(move.party))  # stable: by party


def _offer_moves(order: OrderFacts) -> list[Move]:
    """``acceptSettlement`` by the other side before the offer expires (a funder-paid order only
    once delivered); ``withdrawOffer`` by its maker."""
    offer = order.offer
    if offer is None:
        return []
    maker, taker = (Party.MERCHANT, Party.BUYER) if offer.by_merchant else _SIDES
    found = [Move(maker, Action.WITHDRAW_OFFER)]
    if not order.undelivered:
        found.append(
            Move(
                taker,
                Action.ACCEPT_SETTLEMENT,
                closes_at=offer.expires_at,
                buyer_bps=offer.buyer_bps,
            )
        )
    return found


def moves_open(order: OrderFacts, now: int) -> list[Move]:
    """The moves that go through at block time ``now``."""
    return [move for move in moves(order) if move.open_at(now)]


def deadlines(order: OrderFacts) -> list[Deadline]:
    """The times the order's current status runs against, soonest first; none once final."""
    status = order.status
    if status == OrderStatus.NONE or status.is_final:
        return []
    found: list[Deadline] = []
    if status == OrderStatus.FUNDED:
        found.append(Deadline(DeadlineName.SHIP_BY, order.ship_by))
        if order.carrier:
            found.append(Deadline(DeadlineName.DELIVER_BY, order.deliver_by))
    if status == OrderStatus.SHIPPED:
        found.append(Deadline(DeadlineName.DELIVER_BY, order.deliver_by))
        if order.undelivered:
            refund_at = order.deliver_by + order.dispute_window
            found.append(Deadline(DeadlineName.UNDELIVERED_REFUND_FROM, refund_at))
    if status in _SHIPPED:
        found.append(Deadline(DeadlineName.DISPUTE_WINDOW_CLOSES, order.releasable_at))
    if status == OrderStatus.DISPUTED and order.dispute_deadline is not None:
        found.append(Deadline(DeadlineName.ARBITRATION_DEADLINE, order.dispute_deadline))
    if order.offer is not None:
        found.append(Deadline(DeadlineName.OFFER_EXPIRES, order.offer.expires_at))
    return sorted(found, key=lambda deadline: deadline.at)
