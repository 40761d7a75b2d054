"""The keeper's escrow duties, sent one order per transaction to the escrow function anyone may
call once a deadline passed: ``release(terms)``, ``cancel(terms)`` (a refund) or
``resolveExpiredDispute(terms)`` (the default ruling); or once the registry reads items recalled
or flagged: ``refundRecalled(terms, items)``. The record names its duty, and so the function; its
payload holds the order's terms as the index rebuilt them (``app.keeper.duties``), and for a
recall refund the items' bitmap.

The keeper queues a duty only once ``eth_call`` from its key says the contract accepts it; the
lane simulates it again before every send. A refusal then means the order moved on (a party
released, refunded or settled it first, or an arbiter ruled): the record fails with the
contract's own error in words, and nothing is sent. A refusal of every call (a pause) holds the
kind back, as for any kind. A deadline refused as not yet passed (a reorg took the chain's clock
back) puts the record off. The escrow refuses a repeated step, and the journal sends each
signed attempt once, so a duty is applied at most once whoever else acts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak
from web3.contract import Contract

from app.chain.reverts import Revert, explain
from app.domain.orders import TERMS_ABI, OrderTerms
from app.outbox.calls import BatchCall, RowView, require_functions
from app.outbox.kinds.base import KindRelay
from app.outbox.models import RelayKind
from app.outbox.plan import GLOBAL_REFUSALS, HeldBack, Plan
from app.settings import KeeperDuty

# Each duty's OrderEscrow function; each takes the order's terms (a recall refund also the items).
DUTY_FUNCTIONS: dict[KeeperDuty, str] = {
    KeeperDuty.REFUND: "cancel",
    KeeperDuty.RELEASE: "release",
    KeeperDuty.DEFAULT_RULING: "resolveExpiredDispute",
    KeeperDuty.REFUND_RECALLED: "refundRecalled",
}
ITEMS_ABI = "uint32"
# Refusals of a deadline not passed yet: only a reorg can make a simulated duty meet one.
NOT_YET = frozenset({"EscrowReleaseTooEarly", "EscrowArbitrationPending"})


def _types(duty: KeeperDuty) -> list[str]:
    return [TERMS_ABI, ITEMS_ABI] if duty == KeeperDuty.REFUND_RECALLED else [TERMS_ABI]


def _signature(duty: KeeperDuty) -> str:
    return f"{DUTY_FUNCTIONS[duty]}({','.join(_types(duty))})"


def _args(duty: KeeperDuty, terms: OrderTerms, items: int) -> bytes:
    values: list[Any] = [terms.as_abi()]
    if duty == KeeperDuty.REFUND_RECALLED:
        values.append(items)
    return encode(_types(duty), values)


def duty_calldata(duty: KeeperDuty, terms: OrderTerms, items: int = 0) -> bytes:
    """``selector + abi.encode(terms[, items])`` of the duty's escrow function."""
    return keccak(text=_signature(duty))[:4] + _args(duty, terms, items)


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


@dataclass(frozen=True)
class DutyCall(BatchCall):
    """The escrow's duty functions as one entry point: the record's duty picks the function."""

    def check_abi(self) -> None:
        require_functions(self.contract, [_signature(duty) for duty in DUTY_FUNCTIONS])

    def encode(self, rows: Sequence[RowView]) -> bytes:
        if len(rows) != 1:
            raise ValueError(f"a keeper duty is sent alone, not with {len(rows) - 1} others")
        (row,) = rows
        return duty_calldata(
            KeeperDuty(row.payload["duty"]), _terms(row), int(row.payload.get("items", 0))
        )


class KeeperDutyRelay(KindRelay):
    """The keeper's duties: one order per transaction; refused because the order moved on, the
    record fails with the contract's reason."""

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

    def without_refused(
        self, send: list[RowView], revert: Revert, head: int, plan: Plan
    ) -> list[RowView]:
        """A duty is sent alone: a global refusal holds the kind back; a deadline not passed
        (after a reorg) puts it off; any other refusal is the order having moved on: failed,
        with the contract's reason in words."""
        if revert.name in GLOBAL_REFUSALS or revert.name == "Unknown":
            raise HeldBack(str(revert))
        for row in send:
            if revert.name in NOT_YET:
                plan.deferred[row.id] = explain(revert)
            else:
                plan.failed[row.id] = explain(revert)
        return []


def _terms(row: RowView) -> OrderTerms:
    return OrderTerms.model_validate(row.payload["terms"])
