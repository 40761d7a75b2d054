"""The keeper's escrow duties, sent to the escrow functions anyone may call once a deadline passed:
``releaseDue(terms[])`` for releases, many orders a transaction; and one order a transaction
``cancel(terms)`` (a refund), ``resolveExpiredDispute(terms)`` (the default ruling) or, once the
registry reads items recalled or flagged, ``refundRecalled(terms, items)``. The record names its
duty, and so the function; its payload holds the order's terms as the index rebuilt them
(``app.keeper.duties``), and for a recall refund the items' bitmap.

Releases go together, as custody events do: the oldest queued release and every other queued
release (up to the relay's batch size), a merchant's orders next to each other (the escrow writes
the credits of a run of one merchant and token once), in one ``releaseDue`` whose gas the lane
keeps under ``KEEPER_MAX_GAS`` by halving the batch. Each record is still one duty: the
transaction settles each of its records, and a restart or a reorganisation reconciles them through
the journal as for any kind (``app.outbox.settlement``).

The keeper queues a duty only once ``eth_call`` of the single function from its key says the
contract accepts it; the lane simulates again before every send. ``releaseDue`` skips an order
someone decided or contested meanwhile (a party released, refunded or settled it first, or it is
disputed) instead of failing the batch, so before a send the lane asks ``releaseDue`` how many it
would release, and when that is fewer than the batch holds, asks ``release`` of each order why:
that record fails with the contract's own error in words and the rest go. What ``releaseDue``
refuses outright names its order (a deadline not passed after a reorg, terms of no order): that
record is put off (a deadline) or fails, and the rest go. A refusal of every call (a pause) holds
the kind back, as for any kind. An order skipped in a mined batch (a party acted between the
simulation and the block) has no ``OrderReleased`` of its own in the receipt: its record fails with
``release``'s reason at that block. The escrow refuses a repeated step, and the journal sends each
signed attempt once, so a duty is applied at most once whoever else acts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak
from sqlalchemy.orm import Session
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.types import BlockIdentifier

from app.chain.recalled_items import recalled_open_items
from app.chain.reverts import Revert, explain
from app.domain.abi_types import hex32
from app.domain.orders import TERMS_ABI, OrderTerms
from app.outbox.calls import BatchCall, RowView, require_functions
from app.outbox.kinds.base import KindRelay, SucceededSends
from app.outbox.models import RelayKind
from app.outbox.plan import GLOBAL_REFUSALS, HeldBack, Plan
from app.outbox.rejections import order_logs
from app.settings import KeeperDuty

log = structlog.get_logger(__name__)

# The duties that pay open items' shares without reading verdicts (``recalled_open_items``).
PAYS_OPEN_ITEMS = frozenset({KeeperDuty.RELEASE, KeeperDuty.DEFAULT_RULING})


def waiting_for_refund(recalled: list[str]) -> str:
    """Why a duty of ``PAYS_OPEN_ITEMS`` waits: the order's open items the registry reads
    recalled or flagged, whose refund goes first."""
    return f"waiting for the recall refund of open item(s) {', '.join(recalled)}"


# Each duty's OrderEscrow function; each takes the order's terms (a recall refund also the items).
# The keeper simulates a release with `release`; the lane sends releases with RELEASE_BATCH.
DUTY_FUNCTIONS: dict[KeeperDuty, str] = {
    KeeperDuty.REFUND: "cancel",
    KeeperDuty.RELEASE: "release",
    KeeperDuty.DEFAULT_RULING: "resolveExpiredDispute",
    KeeperDuty.REFUND_RECALLED: "refundRecalled",
}
RELEASE_BATCH = "releaseDue"
RELEASE_BATCH_SIGNATURE = f"{RELEASE_BATCH}({TERMS_ABI}[])"
ITEMS_ABI = "uint32"
# Refusals of a deadline not passed yet: only a reorg can make a simulated duty meet one.
NOT_YET = frozenset({"EscrowReleaseTooEarly", "EscrowArbitrationPending"})
RELEASED_TOPIC = "0x" + keccak(text="OrderReleased(bytes32,address,uint32,uint256,uint256)").hex()


def _types(duty: KeeperDuty) -> list[str]:
    return [TERMS_ABI, ITEMS_ABI] if duty == KeeperDuty.REFUND_RECALLED else [TERMS_ABI]


def _signature(duty: KeeperDuty) -> str:
    return f"{DUTY_FUNCTIONS[duty]}({','.join(_types(duty))})"


def _args(duty: KeeperDuty, terms: OrderTerms, items: int) -> bytes:
    values: list[Any] = [terms.as_abi()]
    if duty == KeeperDuty.REFUND_RECALLED:
        values.append(items)
    return encode(_types(duty), values)


def sent_function(duty: KeeperDuty) -> str:
    """The escrow function a duty's transaction calls: ``releaseDue`` for a release (with the
    other releases due), the duty's own function otherwise."""
    return RELEASE_BATCH if duty == KeeperDuty.RELEASE else DUTY_FUNCTIONS[duty]


def duty_calldata(duty: KeeperDuty, terms: OrderTerms, items: int = 0) -> bytes:
    """``selector + abi.encode(terms[, items])`` of the duty's own escrow function (for a release,
    ``release(terms)``: what the keeper simulates, strict about an order already decided)."""
    return keccak(text=_signature(duty))[:4] + _args(duty, terms, items)


def release_batch_calldata(orders: Sequence[OrderTerms]) -> bytes:
    """``releaseDue(terms[])``: the releases of several orders in one call."""
    return keccak(text=RELEASE_BATCH_SIGNATURE)[:4] + encode(
        [f"{TERMS_ABI}[]"], [[terms.as_abi() for terms in orders]]
    )


def duty_payload(duty: KeeperDuty, terms: OrderTerms, items: int = 0) -> dict[str, Any]:
    """What a keeper record holds (JSON): its duty, order id and terms (and a recall refund's
    items: bit i is ``terms.item_ids[i]``)."""
    payload: dict[str, Any] = {
        "duty": duty.value,
        "order_id": terms.order_id,
        "terms": terms.model_dump(mode="json"),
    }
    if duty == KeeperDuty.REFUND_RECALLED:
        payload["items"] = items
    return payload


def duty_batch(rows: list[RowView]) -> list[RowView]:
    """What goes in one transaction of the queued duties ``rows`` (oldest first): the oldest alone,
    unless it is a release; then every queued release with it, a merchant's orders in one token
    next to each other (oldest first within), but none past an older duty of its own order: a
    recall refund queued before the order's release runs first, or the release would pay the
    recalled items' shares to the merchant."""
    if not _is_release(rows[0]):
        return rows[:1]
    waiting: set[str] = set()  # orders with an older duty that is not a release
    releases: list[RowView] = []
    for row in rows:
        order_id = str(row.payload["order_id"]).lower()
        if not _is_release(row):
            waiting.add(order_id)
        elif order_id not in waiting:
            releases.append(row)

    def run(row: RowView) -> tuple[str, str, int]:
        terms = row.payload["terms"]
        return (str(terms["merchant"]).lower(), str(terms["token"]).lower(), row.id)

    return sorted(releases, key=run)


def _is_release(row: RowView) -> bool:
    return KeeperDuty(row.payload["duty"]) == KeeperDuty.RELEASE


def _terms(row: RowView) -> OrderTerms:
    return OrderTerms.model_validate(row.payload["terms"])


def _row_calldata(row: RowView) -> bytes:
    """The record's duty alone, by its own function (a release by ``release``)."""
    return duty_calldata(
        KeeperDuty(row.payload["duty"]), _terms(row), int(row.payload.get("items", 0))
    )


@dataclass(frozen=True)
class DutyCall(BatchCall):
    """The escrow's duty functions as one entry point: releases go together to ``releaseDue``,
    every other duty alone to its own function."""

    @property
    def max_records(self) -> int | None:
        """As many releases as the relay's batch size and the gas cap allow (the kind's
        ``batch`` keeps every other duty alone)."""
        return None

    def check_abi(self) -> None:
        signatures = [_signature(duty) for duty in DUTY_FUNCTIONS]
        require_functions(self.contract, [*signatures, RELEASE_BATCH_SIGNATURE])

    def encode(self, rows: Sequence[RowView]) -> bytes:
        if rows and all(_is_release(row) for row in rows):
            return release_batch_calldata([_terms(row) for row in rows])
        if len(rows) != 1:
            raise ValueError(f"only releases go together, not these {len(rows)} duties")
        return _row_calldata(rows[0])


class KeeperDutyRelay(KindRelay):
    """The keeper's escrow duties: releases many to a transaction, the others one each; a duty
    refused because its order moved on fails with the contract's reason."""

    kind = RelayKind.KEEPER_DUTY
    contract_name = "OrderEscrow"
    function = DUTY_FUNCTIONS[KeeperDuty.RELEASE]
    tuple_type = TERMS_ABI
    per_record = True
    # A release sells the items in the registry: its refusals surface through the escrow.
    error_contracts = ("ProductRegistry",)

    @classmethod
    def call_on(cls, contract: Contract) -> BatchCall:
        return DutyCall(
            cls.kind, contract, cls.function, cls.tuple_type, cls.encode_row, cls.per_record
        )

    @staticmethod
    def encode_row(row: RowView) -> list[bytes]:
        duty = KeeperDuty(row.payload["duty"])
        return [_args(duty, _terms(row), int(row.payload.get("items", 0)))]

    # ------------------------------------------------------------------ choosing a batch

    def batch(self, session: Session, rows: list[RowView]) -> list[RowView]:
        return duty_batch(rows)

    # ------------------------------------------------------------------ before a send

    def prepare(self, rows: list[RowView], head: int, plan: Plan) -> list[RowView]:
        """A release or default ruling whose order still has an open item the registry reads
        recalled or flagged waits for that item's refund (queued after it, or the index had not
        seen the recall yet). A batch of releases is then asked how many ``releaseDue`` would
        release; if fewer than it holds, each order's ``release`` says why not, and those records
        are taken out."""
        rows = self._without_recalled(rows, plan)
        if not rows or not all(_is_release(row) for row in rows):
            return rows
        try:
            answer = self.context.sender.call(self.call.address, self.call.encode(rows))
        except ContractLogicError:
            return rows  # refused outright: the lane's simulation names the order
        (released,) = decode(["uint256"], answer)
        if int(released) == len(rows):
            return rows
        kept: list[RowView] = []
        for row in rows:
            revert = self._single_refusal(row)
            if revert is None:
                kept.append(row)
            else:
                self._settle_refused(row, revert, plan)
        return kept

    def _without_recalled(self, rows: list[RowView], plan: Plan) -> list[RowView]:
        suite = self.context.suite
        kept = []
        for row in rows:
            recalled = (
                recalled_open_items(suite.registry, self.call.contract, _terms(row))
                if KeeperDuty(row.payload["duty"]) in PAYS_OPEN_ITEMS
                else []
            )
            if recalled:
                plan.deferred[row.id] = waiting_for_refund(recalled)
            else:
                kept.append(row)
        return kept

    def without_refused(
        self, send: list[RowView], revert: Revert, head: int, plan: Plan
    ) -> list[RowView]:
        """A global refusal holds the kind back. Otherwise the refusal names its order (every
        escrow error of a duty does): that record is put off (a deadline not passed, after a
        reorg) or fails with the contract's reason in words, and the rest go; a refusal naming
        none is blamed on the first record whose prefix of the batch reverts."""
        if revert.name in GLOBAL_REFUSALS or revert.name == "Unknown":
            raise HeldBack(str(revert))
        order_id = revert.args.get("orderId")
        named = hex32(order_id) if isinstance(order_id, bytes) else None
        culprits = [row for row in send if str(row.payload["order_id"]).lower() == named]
        if not culprits:
            if len(send) == 1:
                culprits = send
            else:
                index, revert = self._first_refused(send)
                if revert.name in GLOBAL_REFUSALS or revert.name == "Unknown":
                    raise HeldBack(str(revert))
                culprits = [send[index]]
        for row in culprits:
            self._settle_refused(row, revert, plan)
        gone = {row.id for row in culprits}
        return [row for row in send if row.id not in gone]

    def _settle_refused(self, row: RowView, revert: Revert, plan: Plan) -> None:
        if revert.name in GLOBAL_REFUSALS:
            raise HeldBack(str(revert))
        if revert.name in NOT_YET:
            plan.deferred[row.id] = explain(revert)
        else:
            plan.failed[row.id] = explain(revert)

    def _single_refusal(self, row: RowView, block: BlockIdentifier = "pending") -> Revert | None:
        """The record's duty by its own function from the keeper's address, simulated at
        ``block``: the contract's refusal, or None."""
        return self.refusal_of(_row_calldata(row), block)

    # ------------------------------------------------------------------ settling

    def refused_in_receipts(self, sends: SucceededSends) -> tuple[dict[int, str], set[int]]:
        """The releases a mined ``releaseDue`` skipped (no ``OrderReleased`` of their order in
        its receipt: a party acted between the simulation and the block), with ``release``'s
        reason at that block. A duty sent alone applied when its transaction succeeded."""
        payloads = self.sent_payloads(sends)
        refused: dict[int, str] = {}
        unsettled: set[int] = set()
        for tx_id, (tx_hash, record_ids) in sends.items():
            rows = [_view(rid, payloads[rid]) for rid in sorted(record_ids)]
            if not any(_is_release(row) for row in rows):
                continue
            receipt = self.context.sender.receipt_of(tx_hash)
            if receipt is None:
                unsettled.add(tx_id)
                continue
            released = released_in(receipt, self.call.address)
            number = receipt["blockNumber"]
            block = number if isinstance(number, int) else int(str(number), 16)
            for row in rows:
                if str(row.payload["order_id"]).lower() not in released:
                    refused[row.id] = self._why_skipped(row, block)
        return refused, unsettled

    def _why_skipped(self, row: RowView, block: int) -> str:
        revert = self._single_refusal(row, block)
        if revert is None or revert.name == "Unknown":
            log.warning("keeper_release_skipped_unexplained", order_id=row.payload["order_id"])
            return "skipped by releaseDue: the order was decided or disputed before its block"
        return explain(revert)


def released_in(receipt: Mapping[str, Any], escrow: str) -> set[str]:
    """The order ids (0x + 64 hex, lower case) of the escrow's ``OrderReleased`` logs in a raw
    JSON-RPC receipt."""
    return {order_id for order_id, _log in order_logs(receipt, escrow, RELEASED_TOPIC)}


def _view(record_id: int, payload: dict[str, Any]) -> RowView:
    return RowView(record_id, RelayKind.KEEPER_DUTY, str(payload["order_id"]), payload, None, 0)
