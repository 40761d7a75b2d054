"""A batch the simulation refuses: what the contract's custom error blames, taken out of the batch
and recorded in the plan (failed, deferred, or confirmed when it is already on chain). A refusal
that blames no record holds the whole kind back (``HeldBack``).

Escrow logistics reports rarely get here: the escrow skips a refused report with
``LogisticsUpdateRejected`` rather than reverting, and the relayer reads those from the receipt
(``app.outbox.rejections``). What still reverts a logistics batch is global (a pause, a lost
role)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hexbytes import HexBytes
from web3.exceptions import ContractLogicError

from app.chain.contracts import Suite
from app.chain.reverts import Revert, RevertDecoder, revert_data
from app.chain.sender import TransactionSender
from app.outbox.calls import BatchCall, RowView
from app.outbox.custody_ids import CustodyIds
from app.outbox.models import RelayKind
from app.outbox.plan import GLOBAL_REFUSALS, WAITING_FOR_DEPTH, HeldBack, Plan


class Refusals:
    """Sorts out what a contract refused in a batch of one sender."""

    def __init__(
        self,
        suite: Suite,
        sender: TransactionSender,
        calls: dict[RelayKind, BatchCall],
        decoder: RevertDecoder,
        custody_ids: CustodyIds,
        depth: int,
    ) -> None:
        self.suite = suite
        self.sender = sender
        self.calls = calls
        self.decoder = decoder
        self.custody_ids = custody_ids
        self.depth = depth

    def without_refused(
        self, call: BatchCall, send: list[RowView], revert: Revert, head: int, plan: Plan
    ) -> list[RowView]:
        """The batch without what the contract refused, each refusal recorded in ``plan``."""
        if call.kind is RelayKind.CUSTODY:
            return self._without_refused_custody(send, revert, head, plan)
        if call.kind is RelayKind.CREDIT_APPLICATION:
            return self._without_refused_application(send, revert, head, plan)
        index, first = self._first_refused(call, send)
        if first.name in GLOBAL_REFUSALS or (index == 0 and first.name == "Unknown"):
            raise HeldBack(str(first))
        plan.failed[send[index].id] = str(first)
        return send[:index] + send[index + 1 :]

    def _without_refused_custody(
        self, send: list[RowView], revert: Revert, head: int, plan: Plan
    ) -> list[RowView]:
        name, args = revert.name, revert.args
        if name in ("RegistryItemNotRegistered", "RegistryNotItemCustodian"):
            item = "0x" + bytes(args["itemId"]).hex()
            culprits = [row for row in send if row.payload["item_id"] == item]
            for row in culprits:
                plan.failed[row.id] = str(revert)
        elif name in (
            "RegistryEventAlreadyRecorded",
            "RegistryEventInFuture",
            "RegistryInvalidAction",
        ):
            event_id = int(args["eventId"])
            culprits = [row for row in send if row.custody_event_id == event_id]
            if name == "RegistryEventInFuture":
                for row in culprits:
                    plan.deferred[row.id] = str(revert)
            elif name == "RegistryInvalidAction":
                for row in culprits:
                    plan.failed[row.id] = str(revert)
            else:
                return self.custody_ids.after_spent_id(send, culprits, event_id, head, plan)
        else:
            raise HeldBack(str(revert))
        if not culprits:
            raise HeldBack(f"{revert} names no record of the batch")
        gone = {row.id for row in culprits}
        return [row for row in send if row.id not in gone]

    def _without_refused_application(
        self, send: list[RowView], revert: Revert, head: int, plan: Plan
    ) -> list[RowView]:
        """An application is sent alone. Its attestation's nonce spent means it was decided
        already — by an earlier send of ours or by the borrower submitting it: confirmed from the
        decision's log. Any other refusal of the attestation fails the record."""
        if revert.name in GLOBAL_REFUSALS or revert.name == "Unknown":
            raise HeldBack(str(revert))
        for row in send:
            if revert.name == "AttestationNotYetValid":
                plan.deferred[row.id] = str(revert)
                continue
            decision = self._credit_decision(row) if revert.name == "AttestationNonceUsed" else None
            if decision is None:
                plan.failed[row.id] = str(revert)
            elif head - int(decision["blockNumber"]) >= self.depth:
                plan.confirmed[row.id] = (
                    HexBytes(decision["transactionHash"]).to_0x_hex(),
                    int(decision["blockNumber"]),
                )
            else:
                plan.deferred[row.id] = WAITING_FOR_DEPTH
        return []

    def _credit_decision(self, row: RowView) -> Any | None:
        """The CreditApproved or CreditDenied log that spent this record's attestation."""
        lines = self.calls[RelayKind.CREDIT_APPLICATION].contract
        borrower = row.payload["attestation"]["borrower"]
        nonce = int(row.payload["attestation"]["nonce"])
        start = self.suite.deployed_at_block("CreditLines")
        for event in (lines.events.CreditApproved, lines.events.CreditDenied):
            for entry in event().get_logs(
                argument_filters={"borrower": borrower}, from_block=start, to_block="latest"
            ):
                if int(entry["args"]["attestation"]["nonce"]) == nonce:
                    return entry
        return None

    def _first_refused(self, call: BatchCall, rows: Sequence[RowView]) -> tuple[int, Revert]:
        """The first record whose prefix of the batch reverts (bisection with ``eth_call``)."""
        low, high = 1, len(rows)
        while low < high:
            middle = (low + high) // 2
            if self._refusal(call, rows[:middle]) is None:
                low = middle + 1
            else:
                high = middle
        revert = self._refusal(call, rows[:high])
        if revert is None:
            raise HeldBack("the batch reverts but none of its prefixes does")
        return high - 1, revert

    def _refusal(self, call: BatchCall, rows: Sequence[RowView]) -> Revert | None:
        try:
            self.sender.call(call.address, call.encode(rows))
        except ContractLogicError as error:
            return self.decoder.decode(revert_data(error))
        return None
