"""Values and builders shared by the escrow tests: order terms and their ids; the ABI's enums
come from app.domain.vocab (re-exported here)."""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from typing import Any

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from app.domain.vocab import LogisticsKind, OrderStatus, RefundReason, SettlementKind

__all__ = [
    "BPS",
    "DAY",
    "ETH",
    "FINAL",
    "HOUR",
    "TERMS_ABI",
    "ZERO_ADDRESS",
    "LogisticsKind",
    "OrderStatus",
    "RefundReason",
    "SettlementKind",
    "Terms",
    "fee_of",
    "h",
    "split",
    "terms_of",
    "update",
]

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ETH = ZERO_ADDRESS
BPS = 10_000
HOUR = 3_600
DAY = 86_400

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


def update(order_id: bytes, kind: LogisticsKind, items: int = 0, evidence: str = "scan") -> tuple:
    """One IOrderEscrow.LogisticsUpdate tuple."""
    return (order_id, int(kind), items, h(evidence))


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
