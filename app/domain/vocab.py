"""Python twins of the registry's enums (contracts/registry/IProductRegistry.sol), same order.

The ABI carries enums as uint8; these give the numbers their names for scripts, service and tests.
"""

from __future__ import annotations

from enum import IntEnum


class IdScheme(IntEnum):
    """How an item id is derived from its key (IProductRegistry.ItemKey)."""

    SKU = 0
    GS1 = 1


class MerchantStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2


class CustodyAction(IntEnum):
    NONE = 0
    PRODUCED = 1
    SHIPPED = 2
    IN_TRANSIT = 3
    DELIVERED = 4
    SOLD = 5
    RETURNED = 6

    @classmethod
    def parse(cls, text: str) -> CustodyAction:
        """An action by name: ``shipped``, ``in_transit`` (or ``in-transit``, ``InTransit``)."""
        key = text.strip().replace("-", "_").replace(" ", "_")
        # CamelCase as in Solidity (InTransit) -> IN_TRANSIT.
        if "_" not in key and any(c.isupper() for c in key[1:]):
            key = "".join(f"_{c}" if c.isupper() and i else c for i, c in enumerate(key))
        try:
            action = cls[key.upper()]
        except KeyError:
            raise ValueError(f"unknown action {text!r}; expected one of {choices()}") from None
        if action is cls.NONE:
            raise ValueError(f"unknown action {text!r}; expected one of {choices()}")
        return action


def choices() -> str:
    return ", ".join(a.name.lower() for a in CustodyAction if a is not CustodyAction.NONE)


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


# ---------------------------------------------------------------------------------------- escrow
# Twins of contracts/escrow/IOrderEscrow.sol's enums, same order.


class OrderStatus(IntEnum):
    NONE = 0
    FUNDED = 1
    SHIPPED = 2
    DELIVERED = 3
    DISPUTED = 4
    RELEASED = 5
    REFUNDED = 6
    SETTLED = 7

    @property
    def is_final(self) -> bool:
        """Released, Refunded and Settled: nothing is escrowed any more."""
        return self >= OrderStatus.RELEASED


class RefundReason(IntEnum):
    BUYER_CANCELLED = 0
    MERCHANT_CANCELLED = 1
    SHIP_BY_MISSED = 2
    ITEM_RECALLED = 3
    DELIVERY_NOT_REPORTED = 4


class SettlementKind(IntEnum):
    AGREEMENT = 0
    ARBITER = 1
    ARBITRATION_TIMEOUT = 2


class LogisticsKind(IntEnum):
    SHIPPED = 0
    DELIVERED = 1
    CONDITION_BREACHED = 2


# ---------------------------------------------------------------------------------------- credit
# Twins of contracts/credit/ICreditLines.sol's enums, same order.


class LineStatus(IntEnum):
    """A credit line's stored status."""

    NONE = 0
    ACTIVE = 1
    DEFAULTED = 2
    WRITTEN_OFF = 3


class Standing(IntEnum):
    """Where a line stands now (status, attestation age and due time together)."""

    NONE = 0
    ELIGIBLE = 1
    ON_HOLD = 2
    PAST_DUE = 3
    DEFAULTED = 4
    WRITTEN_OFF = 5
    DENIED = 6


class DenialReason(IntEnum):
    """Why an application was denied: bit ``int(reason)`` of ``CreditDenied.reasons``."""

    BAND_BELOW_MINIMUM = 0
    BAND_NOT_IN_POLICY = 1
    ATTESTATION_STALE = 2
    ATTESTATION_NOT_NEWER = 3
    LINE_DEFAULTED = 4
    IDENTITY_BOUND_ELSEWHERE = 5

    @classmethod
    def bitmap(cls, *reasons: DenialReason) -> int:
        """The ``reasons`` bitmap of ``CreditDenied`` for these reasons."""
        return sum(1 << int(r) for r in set(reasons))

    @classmethod
    def decode(cls, bitmap: int) -> list[DenialReason]:
        """The reasons set in a ``CreditDenied.reasons`` bitmap, in enum order."""
        return [r for r in cls if bitmap >> int(r) & 1]
