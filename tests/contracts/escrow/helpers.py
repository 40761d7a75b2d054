"""Values and builders shared by the escrow tests: order terms and their ids, logistics reports,
item shares and encoded custom errors; the ABI's enums come from app.domain.vocab (re-exported
here)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass, field
from typing import Any

import pytest
from ape.exceptions import ContractLogicError
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from app.domain.vocab import LogisticsKind, OrderStatus, RefundReason, SettlementKind

__all__ = [
    "BPS",
    "CARRIER",
    "DAY",
    "ETH",
    "FINAL",
    "HOUR",
    "OTHER_CARRIER",
    "TERMS_ABI",
    "ZERO_ADDRESS",
    "LogisticsKind",
    "OrderStatus",
    "RefundReason",
    "SettlementKind",
    "Terms",
    "credits_of",
    "encode_error",
    "fee_of",
    "h",
    "reverts_with",
    "share_of",
    "split",
    "terms_of",
    "update",
]

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ETH = ZERO_ADDRESS
BPS = 10_000
HOUR = 3_600
DAY = 86_400
# The platform's number for the carrier the tests' merchant hands orders to, and another one.
CARRIER = 1
OTHER_CARRIER = 2

TERMS_ABI = (
    "(address,address,address,address,uint256,uint40,uint40,uint32,uint16,"
    "bytes32,uint256,bytes32[])"
)


FINAL = {OrderStatus.RELEASED, OrderStatus.REFUNDED, OrderStatus.SETTLED}


def h(label: str) -> bytes:
    """A readable, distinct 32-byte hash for test data."""
    return keccak(text=label)


@dataclass(frozen=True)
class Terms:
    """IOrderEscrow.OrderTerms, in ABI order."""

    buyer: str
    merchant: str
    payer: str
    token: str
    amount: int
    ship_by: int
    deliver_by: int
    dispute_window: int
    fee_bps: int
    order_ref: bytes
    salt: int
    item_ids: tuple[bytes, ...] = field(default_factory=tuple)

    def as_abi(self) -> tuple[Any, ...]:
        values = astuple(self)
        return (*values[:-1], list(self.item_ids))

    @property
    def order_id(self) -> bytes:
        """keccak256(abi.encode(terms)), computed here independently of the contract."""
        return keccak(encode([TERMS_ABI], [self.as_abi()]))

    @property
    def item_count(self) -> int:
        return max(len(self.item_ids), 1)

    @property
    def is_eth(self) -> bool:
        return self.token == ETH


def update(
    order_id: bytes,
    kind: LogisticsKind,
    items: int = 0,
    evidence: str = "scan",
    carrier: int = CARRIER,
) -> tuple[bytes, int, int, int, bytes]:
    """One IOrderEscrow.LogisticsUpdate tuple, reported by `carrier` (the tests' carrier)."""
    return (order_id, int(kind), carrier, items, h(evidence))


def share_of(amount: int, item_count: int, items: int) -> int:
    """The price share of the items in bitmap `items`: amount // count each, the last listed item
    the rest (the rounding), as the contract computes it."""
    share = amount // item_count
    last = 1 << (item_count - 1)
    total = share * bin(items & ~last & (last * 2 - 1)).count("1")
    if items & last:
        total += amount - share * (item_count - 1)
    return total


def encode_error(signature: str, *values: Any) -> bytes:
    """A custom error as the EVM returns it: selector and ABI-encoded arguments, e.g.
    ``encode_error("EscrowWrongCarrier(bytes32,uint16,uint16)", order_id, 2, 1)``."""
    types = signature[signature.index("(") + 1 : -1]
    return keccak(text=signature)[:4] + encode([t for t in types.split(",") if t], list(values))


def credits_of(escrow: Any, token: str, *accounts: Any) -> list[int]:
    """Each account's withdrawable credit in `token`."""
    return [int(escrow.creditOf(a, token)) for a in accounts]


def fee_of(gross: int, fee_bps: int) -> int:
    return gross * fee_bps // BPS


def split(remainder: int, buyer_bps: int, fee_bps: int) -> tuple[int, int, int]:
    """(payer, merchant net, fee) of a split, rounded as the contract rounds."""
    payer = remainder * buyer_bps // BPS
    gross = remainder - payer
    fee = fee_of(gross, fee_bps)
    return payer, gross - fee, fee


def terms_of(event: Any) -> Terms:
    """The terms an OrderOpened event carries, as the tests' Terms."""
    t = event.terms
    values = (
        [t[i] for i in range(12)]
        if not hasattr(t, "buyer")
        else [
            t.buyer,
            t.merchant,
            t.payer,
            t.token,
            t.amount,
            t.shipBy,
            t.deliverBy,
            t.disputeWindow,
            t.feeBps,
            t.orderRef,
            t.salt,
            t.itemIds,
        ]
    )
    buyer, merchant, payer, token, *rest, items = values
    addresses = (to_checksum_address(a) for a in (buyer, merchant, payer, token))
    return Terms(*addresses, *rest, item_ids=tuple(bytes(i) for i in items))


def revert_data(error: ContractLogicError) -> bytes:
    """The raw revert data of an error Ape left undecoded (a callee's custom error, such as the
    registry's refusal bubbling up through the escrow)."""
    message = str(error.message or "")
    if message.startswith("0x"):
        return bytes.fromhex(message[2:])
    if message.startswith(("b'", 'b"')):
        return bytes(ast.literal_eval(message))
    raise AssertionError(f"the revert was decoded, not raw: {error!r}")


@contextmanager
def reverts_with(signature: str, *values: Any) -> Iterator[None]:
    """Expects a revert with exactly this custom error and arguments. For errors raised by a
    callee (the registry inside `open`): `ape.reverts` cannot decode those and accepts any."""
    with pytest.raises(ContractLogicError) as raised:
        yield
    assert revert_data(raised.value) == encode_error(signature, *values)
