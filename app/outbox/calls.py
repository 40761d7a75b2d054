"""How outbox records become calldata: a record kind's entry point on its contract, its signature
checked against the deployed ABI. What a record's tuple holds is its kind's
(``app.outbox.kinds``); the batch around the tuples is the same for every kind."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.abi import collapse_if_tuple
from eth_utils.crypto import keccak
from sqlalchemy import Row
from web3.contract import Contract

from app.outbox.models import OutboxRecord, RelayKind


@dataclass(frozen=True)
class RowView:
    """What the relayer needs of an outbox record, detached from the database session."""

    id: int
    kind: RelayKind
    subject: str
    payload: dict[str, Any]
    custody_event_id: int | None
    attempts: int


# The columns a RowView is made of: the relayer reads these alone, not whole records (their
# details, times and reasons are of no use to it, and loading 500 as ORM objects cost more).
VIEW_COLUMNS = (
    OutboxRecord.id,
    OutboxRecord.kind,
    OutboxRecord.subject,
    OutboxRecord.payload,
    OutboxRecord.custody_event_id,
    OutboxRecord.attempts,
)


def view_of(row: Row[int, str, str, dict[str, Any], str | None, int]) -> RowView:
    """A RowView of a row selected with ``VIEW_COLUMNS``."""
    record_id, kind, subject, payload, custody_event_id, attempts = row
    return RowView(
        id=record_id,
        kind=RelayKind(kind),
        subject=subject,
        payload=dict(payload),
        custody_event_id=None if custody_event_id is None else int(custody_event_id),
        attempts=attempts,
    )


# A record's part of the calldata: its tuple's 32-byte words (a batch entry point, whose tuples
# are static), or its ABI-encoded arguments (a per-record entry point).
RowEncoding = Callable[[RowView], list[bytes]]


@dataclass(frozen=True)
class BatchCall:
    """A record kind's entry point on its contract: a batch of static tuples, or (``per_record``)
    a function taking one record, whose arguments come from ``app.domain`` encoders."""

    kind: RelayKind
    contract: Contract
    function: str
    tuple_type: str
    encode_row: RowEncoding
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
        require_functions(self.contract, [self.signature])

    def encode(self, rows: Sequence[RowView]) -> bytes:
        """``selector + abi.encode(tuple[])`` (or one record's arguments for a per-record call).

        The tuples are static (all fields one word), so the encoding is the array's offset and
        length, then every field as a 32-byte word — written out here, many times faster than a
        generic encoder for a thousand tuples (a test checks it against ``eth_abi``)."""
        if self.per_record:
            if len(rows) != 1:
                raise ValueError(f"{self.signature} takes one record, not {len(rows)}")
            return self.selector + b"".join(self.encode_row(rows[0]))
        words = [self.selector, uint_word(32, 256), uint_word(len(rows), 256)]
        for row in rows:
            words += self.encode_row(row)
        return b"".join(words)


def bytes32_word(value: str) -> bytes:
    """A 0x-prefixed 32-byte hex string as its ABI word."""
    word = bytes.fromhex(value.removeprefix("0x"))
    if len(word) != 32:
        raise ValueError(f"{value!r} is not 32 bytes")
    return word


def uint_word(value: int, bits: int) -> bytes:
    """An unsigned integer as its ABI word, refused if it does not fit ``uint<bits>``."""
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{value} does not fit uint{bits}")
    return value.to_bytes(32, "big")


def require_functions(contract: Contract, signatures: Iterable[str]) -> None:
    """Fails unless the contract's ABI has every function ``signatures`` names
    (``name(type,...)``): an ABI and the code it is used with out of step."""
    abi: list[dict[str, Any]] = [dict(entry) for entry in contract.abi]
    found = {
        f"{entry['name']}({','.join(collapse_if_tuple(i) for i in entry['inputs'])})"
        for entry in abi
        if entry.get("type") == "function"
    }
    for signature in signatures:
        if signature not in found:
            raise ValueError(f"{signature} is not in the ABI of {contract.address}")
