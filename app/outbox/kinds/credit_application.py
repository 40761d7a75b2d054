"""Credit applications, sent one per transaction to ``CreditLines.applyForCredit``: the
attestation's signatures are dynamic (no static batch), and a spent attestation nonce must fail
only its own record.

The attestation's nonce is spent by the decision, so a second submission reverts; the record is
then confirmed from the decision's log, whoever sent it (an earlier send of ours, or the borrower
submitting the attestation)."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode
from hexbytes import HexBytes

from app.chain.log_ranges import logs_in_ranges
from app.chain.reverts import Revert
from app.domain.abi_types import address_topic, from_hex, hex32
from app.domain.attestations import SignedAttestation
from app.outbox.calls import RowView
from app.outbox.kinds.base import KindRelay
from app.outbox.models import RelayKind
from app.outbox.plan import GLOBAL_REFUSALS, WAITING_FOR_DEPTH, HeldBack, Plan

# IAttestationVerifier.Attestation: borrower, identityHash, band, modelId, reportHash, issuedAt,
# expiresAt, nonce, attesterSetVersion.
ATTESTATION_TUPLE = "(address,bytes32,uint8,bytes32,bytes32,uint40,uint40,uint256,uint64)"


class CreditApplicationRelay(KindRelay):
    """Credit applications, one per transaction; a spent nonce confirmed from its decision."""

    kind = RelayKind.CREDIT_APPLICATION
    contract_name = "CreditLines"
    function = "applyForCredit"
    tuple_type = f"{ATTESTATION_TUPLE},bytes[]"
    per_record = True
    # The verifier's errors surface through CreditLines.applyForCredit.
    error_contracts = ("AttestationVerifier",)

    @staticmethod
    def encode_row(row: RowView) -> list[bytes]:
        signed = SignedAttestation.model_validate(row.payload)
        attestation, signatures = signed.abi_args()
        return [encode([ATTESTATION_TUPLE, "bytes[]"], [attestation, signatures])]

    def without_refused(
        self, send: list[RowView], revert: Revert, head: int, plan: Plan
    ) -> list[RowView]:
        """An application is sent alone. Its attestation's nonce spent means it was decided
        already: confirmed from the decision's log. Any other refusal of the attestation fails
        the record."""
        if revert.name in GLOBAL_REFUSALS or revert.name == "Unknown":
            raise HeldBack(str(revert))
        for row in send:
            if revert.name == "AttestationNotYetValid":
                plan.deferred[row.id] = str(revert)
                continue
            decision = self._decision(row) if revert.name == "AttestationNonceUsed" else None
            if decision is None:
                plan.failed[row.id] = str(revert)
            elif head - int(decision["blockNumber"]) >= self.context.depth:
                plan.confirmed[row.id] = (
                    HexBytes(decision["transactionHash"]).to_0x_hex(),
                    int(decision["blockNumber"]),
                )
            else:
                plan.deferred[row.id] = WAITING_FOR_DEPTH
        return []

    def _decision(self, row: RowView) -> Any | None:
        """The CreditApproved or CreditDenied log that spent this record's attestation."""
        lines = self.call.contract
        borrower = str(row.payload["attestation"]["borrower"])
        nonce = int(row.payload["attestation"]["nonce"])
        start = self.context.suite.deployed_at_block(self.contract_name)
        events = {
            hex32(from_hex(str(event().topic))): event()
            for event in (lines.events.CreditApproved, lines.events.CreditDenied)
        }
        topics = [sorted(events), address_topic(borrower)]
        for raw in logs_in_ranges(self.context.suite.web3, lines.address, topics, start):
            entry = events[hex32(bytes(raw["topics"][0]))].process_log(raw)
            if int(entry["args"]["attestation"]["nonce"]) == nonce:
                return entry
        return None
