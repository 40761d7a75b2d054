"""Values and builders shared by the registry tests: the ABI's enums, hashes, item keys, custody
inputs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from app.domain.ids import item_id_of_key, item_key
from app.domain.vocab import (
    CustodyAction,
    IdScheme,
    ItemState,
    MerchantStatus,
    ReportKind,
    ReportStatus,
    Verdict,
)

__all__ = [
    "CustodyAction",
    "IdScheme",
    "ItemKey",
    "ItemState",
    "MerchantStatus",
    "ReportKind",
    "ReportStatus",
    "Verdict",
    "custody",
    "gs1_key",
    "h",
    "key_of",
    "remember_key",
    "sku_key",
]


ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

CustodyTuple = tuple[bytes, int, int, int, bytes, bytes]


def h(label: str) -> bytes:
    """A readable, distinct 32-byte hash for test data."""
    return keccak(text=label)


@dataclass(frozen=True)
class ItemKey:
    """IProductRegistry.ItemKey: what the registry derives an item's id from."""

    scheme: IdScheme
    code: str
    serial: str

    def as_abi(self) -> tuple[int, str, str]:
        # Built without app.domain.ids' validation, so tests can send keys the contract refuses.
        return (int(self.scheme), self.code, self.serial)

    def item_id(self, merchant: Any) -> bytes:
        """The id the registry derives for `merchant` (any merchant, for a GS1 key)."""
        address = getattr(merchant, "address", merchant)
        return item_id_of_key(address, self.scheme, self.code, self.serial)


def sku_key(sku: str, serial: str) -> ItemKey:
    return ItemKey(IdScheme.SKU, sku, serial)


def gs1_key(gtin: str, serial: str) -> ItemKey:
    """A GS1 key, checked here as app.domain.ids checks it."""
    item_key(IdScheme.GS1, gtin, serial)
    return ItemKey(IdScheme.GS1, gtin, serial)


# The key each id made by the fixtures came from: registering or activating an id needs its key,
# and tests that only hold an id (as escrow orders do) find it here.
_keys: dict[bytes, ItemKey] = {}


def remember_key(item_id: bytes, key: ItemKey) -> bytes:
    _keys[item_id] = key
    return item_id


def key_of(item_id: bytes) -> ItemKey:
    """The key an id made by the fixtures came from."""
    try:
        return _keys[item_id]
    except KeyError:
        raise LookupError(f"no key is known for item 0x{item_id.hex()}") from None


_event_ids = itertools.count(1_000)


def custody(
    item_id: bytes,
    occurred_at: int,
    action: int = CustodyAction.SHIPPED,
    event_id: int | None = None,
    location: str = "GLN 9506000000001",
    context: str = "shipment 1",
) -> CustodyTuple:
    """One CustodyInput tuple; event ids are fresh unless given."""
    return (
        item_id,
        next(_event_ids) if event_id is None else event_id,
        int(action),
        occurred_at,
        h(location),
        h(context),
    )
