"""Values and builders shared by the registry tests: the ABI's enums, hashes, custody inputs."""

from __future__ import annotations

import itertools

from eth_utils import keccak

from app.domain.vocab import (
    CustodyAction,
    ItemState,
    MerchantStatus,
    ReportKind,
    ReportStatus,
    Verdict,
)

__all__ = [
    "CustodyAction",
    "ItemState",
    "MerchantStatus",
    "ReportKind",
    "ReportStatus",
    "Verdict",
    "custody",
    "h",
]


ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"

CustodyTuple = tuple[bytes, int, int, int, bytes, bytes]


def h(label: str) -> bytes:
    """A readable, distinct 32-byte hash for test data."""
    return keccak(text=label)


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
