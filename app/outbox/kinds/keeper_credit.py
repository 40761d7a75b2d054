"""The keeper's credit duties, sent one per transaction to the CreditLines function anyone may
call: ``settleRefund(terms)`` (what the escrow refunded for an order paid with credit, applied to
its buyer's line) or ``accrue(borrower)`` (a line past its due time: the late fee, the
impairment and the default charged by the contract's own rule). The record names its duty, and
so the function; its payload holds the order's terms or the borrower (``app.keeper.credit``).

As for the escrow's duties (``app.outbox.kinds.keeper``): the keeper queues a duty only once
``eth_call`` from its key says the contract accepts it, the lane simulates it again before each
send, and a refusal then (the refund settled by someone else first, the line gone) fails the
record with the contract's error in words; a refusal of every call holds the kind back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from app.chain.reverts import Revert, explain
from app.domain.orders import TERMS_ABI, OrderTerms
from app.outbox.calls import BatchCall, RowView, require_functions
from app.outbox.kinds.base import KindRelay
from app.outbox.models import RelayKind
from app.outbox.plan import GLOBAL_REFUSALS, HeldBack, Plan
from app.settings import KeeperDuty

# Each credit duty's CreditLines function and its one argument's type.
CREDIT_FUNCTIONS: dict[KeeperDuty, tuple[str, str]] = {
    KeeperDuty.SETTLE_REFUND: ("settleRefund", TERMS_ABI),
    KeeperDuty.ACCRUE: ("accrue", "address"),
}
CREDIT_DUTIES = frozenset(CREDIT_FUNCTIONS)


def _signature(duty: KeeperDuty) -> str:
    function, argument = CREDIT_FUNCTIONS[duty]
    return f"{function}({argument})"


def settle_refund_calldata(terms: OrderTerms) -> bytes:
    """``settleRefund(terms)``."""
    return keccak(text=_signature(KeeperDuty.SETTLE_REFUND))[:4] + _args_of_terms(terms)


def accrue_calldata(borrower: str) -> bytes:
    """``accrue(borrower)``."""
    return keccak(text=_signature(KeeperDuty.ACCRUE))[:4] + _args_of_borrower(borrower)


def settle_refund_payload(terms: OrderTerms, refunds: int) -> dict[str, Any]:
    """A ``settle_refund`` record: the order's terms, and how many refunds the index had seen."""
    return {
        "duty": KeeperDuty.SETTLE_REFUND.value,
        "order_id": terms.order_id,
        "terms": terms.model_dump(mode="json"),
        "refunds": refunds,
    }


def accrue_payload(borrower: str, due_at: int, stage: str) -> dict[str, Any]:
    """An ``accrue`` record: the line, its due time and the stage it passed."""
    return {
        "duty": KeeperDuty.ACCRUE.value,
        "borrower": Web3.to_checksum_address(borrower),
        "due_at": due_at,
        "stage": stage,
    }


@dataclass(frozen=True)
class CreditDutyCall(BatchCall):
    """The credit duty functions as one entry point: the record's duty picks the function."""

    def check_abi(self) -> None:
        require_functions(self.contract, [_signature(duty) for duty in CREDIT_FUNCTIONS])

    def encode(self, rows: Sequence[RowView]) -> bytes:
        if len(rows) != 1:
            raise ValueError(f"a keeper duty is sent alone, not with {len(rows) - 1} others")
        (row,) = rows
        duty = KeeperDuty(row.payload["duty"])
        return keccak(text=_signature(duty))[:4] + KeeperCreditRelay.encode_row(row)[0]


class KeeperCreditRelay(KindRelay):
    """The keeper's credit duties: one per transaction; refused because someone else did it
    first, the record fails with the contract's reason."""

    kind = RelayKind.KEEPER_CREDIT_DUTY
    contract_name = "CreditLines"
    function = CREDIT_FUNCTIONS[KeeperDuty.ACCRUE][0]
    tuple_type = "address"
    per_record = True
    # settleRefund withdraws the escrow's credit and pays the vault.
    error_contracts = ("OrderEscrow", "CreditVault")

    @classmethod
    def call_on(cls, contract: Contract) -> BatchCall:
        return CreditDutyCall(
            cls.kind, contract, cls.function, cls.tuple_type, cls.encode_row, cls.per_record
        )

    @staticmethod
    def encode_row(row: RowView) -> list[bytes]:
        if KeeperDuty(row.payload["duty"]) == KeeperDuty.SETTLE_REFUND:
            return [_args_of_terms(OrderTerms.model_validate(row.payload["terms"]))]
        return [_args_of_borrower(str(row.payload["borrower"]))]

    def without_refused(
        self, send: list[RowView], revert: Revert, head: int, plan: Plan
    ) -> list[RowView]:
        """A duty is sent alone: a global refusal holds the kind back; any other refusal is the
        line or order having moved on: failed, with the contract's reason in words."""
        if revert.name in GLOBAL_REFUSALS or revert.name == "Unknown":
            raise HeldBack(str(revert))
        for row in send:
            plan.failed[row.id] = explain(revert)
        return []


def _args_of_terms(terms: OrderTerms) -> bytes:
    return encode([TERMS_ABI], [terms.as_abi()])


def _args_of_borrower(borrower: str) -> bytes:
    return encode(["address"], [Web3.to_checksum_address(borrower)])
