"""Custody events to append, from a CSV or JSON file (``ape run merchant custody``); rows are
read and reported as for items (``app/domain/input_files.py``).

Custody rows:
    the item — ``item_id`` (0x + 64 hex digits), or ``sku,serial``, or ``gtin,serial``;
    ``action`` — produced, shipped, in_transit, delivered, sold or returned;
    ``occurred_at`` — unix seconds or ISO-8601 with a UTC offset (``2025-03-01T10:00:00Z``);
    ``location`` — any text, e.g. a GLN, stored as ``keccak256(utf8(location))``;
    ``context`` (or ``reference``) — a shipment, order or document reference, hashed likewise;
    ``event_id`` — optional unsigned integer; rows without one get ids as
    ``app.domain.custody_ids`` hands them out. An absent location or context is stored as zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak
from pydantic import Field, field_validator, model_validator

from app.domain.abi_types import from_hex
from app.domain.custody_ids import CustodyKey, custody_key
from app.domain.input_files import UINT256_MAX, duplicates, finish, validated
from app.domain.item_rows import ItemKeyFields
from app.domain.units import parse_moment
from app.domain.vocab import CustodyAction

UINT40_MAX = 2**40 - 1
ZERO_HASH = bytes(32)
_ITEM_ID = re.compile(r"0x[0-9a-fA-F]{64}")


def _event_id_text(event_id: int) -> str:
    return f"event_id {event_id}"


def _event_text(key: tuple[bytes, int, int, bytes, bytes]) -> str:
    item_id, action, occurred_at, _, _ = key
    return (
        f"event (item 0x{item_id.hex()}, {CustodyAction(action).name.lower()} at {occurred_at}, "
        "same location and context)"
    )


class CustodyRow(ItemKeyFields):
    """A custody event to append."""

    item_id: str | None = None
    action: CustodyAction
    occurred_at: int = Field(ge=0, le=UINT40_MAX)
    location: str | None = None
    context: str | None = None
    reference: str | None = None
    event_id: int | None = Field(default=None, ge=0, le=UINT256_MAX)

    @field_validator("item_id")
    @classmethod
    def _hex_id(cls, value: str | None) -> str | None:
        if value is not None and not _ITEM_ID.fullmatch(value):
            raise ValueError("must be 0x followed by 64 hex digits")
        return value

    @field_validator("action", mode="before")
    @classmethod
    def _parse_action(cls, value: Any) -> Any:
        if isinstance(value, str):
            return CustodyAction.parse(value)
        raise ValueError(f"must be one of the action names, got {value!r}")

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _parse_time(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip() if isinstance(value, str) else ""
        if not text or not (text.isdigit() or "T" in text or "-" in text):
            raise ValueError(f"not unix seconds nor an ISO-8601 time: {value!r}")
        return parse_moment(text if not text.isdigit() else "@" + text, 0)

    @field_validator("event_id", mode="before")
    @classmethod
    def _parse_event_id(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be an unsigned integer")
        if isinstance(value, str):
            text = value.strip()
            try:
                return int(text, 16) if text.lower().startswith("0x") else int(text, 10)
            except ValueError:
                raise ValueError(f"must be an unsigned integer, got {value!r}") from None
        return value

    @model_validator(mode="after")
    def _complete(self) -> CustodyRow:
        if self.item_id is not None:
            if self.sku is not None or self.gtin is not None or self.serial is not None:
                raise ValueError("give item_id, or sku/gtin with serial, not both")
        else:
            self._check_key(required=True)
        if self.context is not None and self.reference is not None:
            raise ValueError("give context or reference, not both")
        return self


@dataclass(frozen=True)
class CustodyEntry:
    """A validated custody row, as the contract's ``CustodyInput`` wants it (bar the event id)."""

    where: str
    item_id: bytes
    event_id: int | None
    action: CustodyAction
    occurred_at: int
    location_hash: bytes
    context_hash: bytes

    @property
    def natural_key(self) -> CustodyKey:
        """What the event says: two rows alike in this are the same event."""
        return custody_key(
            self.item_id, self.action, self.occurred_at, self.location_hash, self.context_hash
        )


def text_hash(text: str | None) -> bytes:
    """keccak256 of UTF-8 text; zero when there is no text."""
    return ZERO_HASH if text is None else keccak(text.encode("utf-8"))


def load_custody(path: Path, sku_merchant: str) -> list[CustodyEntry]:
    """Validated custody events of a file; SKU ids are computed for ``sku_merchant``. Raises
    :class:`InputFileError` for bad rows, repeated event ids and repeated events."""
    needed = ("action", "occurred_at", "item_id|sku|gtin")
    rows, problems = validated(path, "events", CustodyRow, needed)
    entries: list[CustodyEntry] = []
    for where, row in rows:
        item_id = from_hex(row.item_id) if row.item_id is not None else row.key_id(sku_merchant)
        entries.append(
            CustodyEntry(
                where=where,
                item_id=item_id,
                event_id=row.event_id,
                action=row.action,
                occurred_at=row.occurred_at,
                location_hash=text_hash(row.location),
                context_hash=text_hash(row.context if row.context is not None else row.reference),
            )
        )
    problems.extend(
        duplicates(
            ((e.event_id, e.where) for e in entries if e.event_id is not None), _event_id_text
        )
    )
    problems.extend(duplicates(((e.natural_key, e.where) for e in entries), _event_text))
    finish(path, entries, problems)
    return entries
