"""How outbox records become calldata: one batch entry point per record kind, its signature
checked against the deployed ABI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_utils.abi import collapse_if_tuple
from eth_utils.crypto import keccak
from web3.contract import Contract

from app.domain.attestations import SignedAttestation
from app.outbox.models import RelayKind

CUSTODY_TUPLE = "(bytes32,uint256,uint8,uint40,bytes32,bytes32)"
# IOrderEscrow.LogisticsUpdate: orderId, kind, carrier, items, evidenceHash.
LOGISTICS_TUPLE = "(bytes32,uint8,uint16,uint32,bytes32)"
# IAttestationVerifier.Attestation: borrower, identityHash, band, modelId, reportHash, issuedAt,
# expiresAt, nonce, attesterSetVersion.
ATTESTATION_TUPLE = "(address,bytes32,uint8,bytes32,bytes32,uint40,uint40,uint256,uint64)"


@dataclass(frozen=True)
class RowView:
    """What the relayer needs of an outbox record, detached from the database session."""

    id: int
    kind: RelayKind
    subject: str
    payload: dict[str, Any]
    custody_event_id: int | None
    attempts: int


@dataclass(frozen=True)
class BatchCall:
    """A record kind's entry point on its contract: a batch of static tuples, or (``per_record``)
    a function taking one record, whose arguments come from ``app.domain`` encoders."""

    kind: RelayKind
    contract: Contract
    function: str
    tuple_type: str
    per_record: bool = False

    @property
    def signature(self) -> str:
        if self.per_record:
            return f"{self.function}({self.tuple_type})"
        return f"{self.function}({self.tuple_type}[])"

    @property
    def max_records(self) -> int | None:
        """Records per transaction, if the entry point limits them."""
        return 1 if self.per_record else None

    @property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def check_abi(self) -> None:
        """Fails if the deployed ABI has no such function (an ABI and code out of step)."""
        abi: list[dict[str, Any]] = [dict(entry) for entry in self.contract.abi]
        signatures = {
            f"{entry['name']}({','.join(collapse_if_tuple(i) for i in entry['inputs'])})"
            for entry in abi
            if entry.get("type") == "function"
        }
        if self.signature not in signatures:
            raise ValueError(f"{self.signature} is not in the ABI of {self.address}")

    def encode(self, rows: Sequence[RowView]) -> bytes:
        """``selector + abi.encode(tuple[])`` (or one record's arguments for a per-record call).

        The tuples are static (all fields one word), so the encoding is the array's offset and
        length, then every field as a 32-byte word — written out here, many times faster than a
        generic encoder for a thousand tuples (a test checks it against ``eth_abi``)."""
        if self.per_record:
            if len(rows) != 1:
                raise ValueError(f"{self.signature} takes one record, not {len(rows)}")
            return self._one(rows[0])
        words = [self.selector, _uint(32, 256), _uint(len(rows), 256)]
        for row in rows:
            words += self._words(row)
        return b"".join(words)

    def _one(self, row: RowView) -> bytes:
        signed = SignedAttestation.model_validate(row.payload)
        attestation, signatures = signed.abi_args()
        types = [ATTESTATION_TUPLE, "bytes[]"]
        return self.selector + encode(types, [attestation, signatures])

    def _words(self, row: RowView) -> list[bytes]:
        p = row.payload
        if self.kind is RelayKind.CUSTODY:
            if row.custody_event_id is None:
                raise ValueError(f"custody record {row.id} has no event id")
            return [
                _b32(p["item_id"]),
                _uint(row.custody_event_id, 256),
                _uint(int(p["action"]), 8),
                _uint(int(p["occurred_at"]), 40),
                _b32(p["location_hash"]),
                _b32(p["context_hash"]),
            ]
        return [
            _b32(p["order_id"]),
            _uint(int(p["kind"]), 8),
            # A record queued before carriers had ids names none: the escrow rejects it.
            _uint(int(p.get("carrier", 0)), 16),
            _uint(int(p["items"]), 32),
            _b32(p["evidence_hash"]),
        ]


def batch_calls(
    registry: Contract, escrow: Contract | None, credit_lines: Contract | None = None
) -> dict[RelayKind, BatchCall]:
    calls = {
        RelayKind.CUSTODY: BatchCall(RelayKind.CUSTODY, registry, "recordCustody", CUSTODY_TUPLE)
    }
    if escrow is not None:
        calls[RelayKind.ORDER_LOGISTICS] = BatchCall(
            RelayKind.ORDER_LOGISTICS, escrow, "reportLogistics", LOGISTICS_TUPLE
        )
    if credit_lines is not None:
        calls[RelayKind.CREDIT_APPLICATION] = BatchCall(
            RelayKind.CREDIT_APPLICATION,
            credit_lines,
            "applyForCredit",
            f"{ATTESTATION_TUPLE},bytes[]",
            per_record=True,
        )
    for call in calls.values():
        call.check_abi()
    return calls


def _b32(value: str) -> bytes:
    word = bytes.fromhex(value.removeprefix("0x"))
    if len(word) != 32:
        raise ValueError(f"{value!r} is not 32 bytes")
    return word


def _uint(value: int, bits: int) -> bytes:
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{value} does not fit uint{bits}")
    return value.to_bytes(32, "big")
