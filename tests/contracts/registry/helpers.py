"""Values and builders shared by the registry tests: the ABI's enums, hashes, custody inputs."""

from __future__ import annotations

import itertools
from enum import IntEnum

from eth_utils import keccak


class MerchantStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


class Action(IntEnum):
    NONE = 0
    PRODUCED = 1
    SHIPPED = 2
    IN_TRANSIT = 3
    DELIVERED = 4
    SOLD = 5
    RETURNED = 6


class ItemState(IntEnum):
    ACTIVE = 0
    FLAGGED = 1
    RECALLED = 2


class Verdict(IntEnum):
    AUTHENTIC = 0
    UNKNOWN = 1
    MERCHANT_SUSPENDED = 2
    FLAGGED = 3
    RECALLED = 4


class ReportKind(IntEnum):
    COUNTERFEIT = 0
    PROBLEM = 1


class ReportStatus(IntEnum):
    NONE = 0
    OPEN = 1
    CONFIRMED = 2
    DISMISSED = 3


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
    action: int = Action.SHIPPED,
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
