"""What ``GET /v1/stats`` answers."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from app.stats.sources import RelayLagPublic


class ItemStatsPublic(BaseModel):
    registered: int = Field(description="Single items plus the items batches declared")
    single: int
    batches: int
    batch_items_declared: int
    batch_items_activated: int


class TokenAmountPublic(BaseModel):
    token: str = Field(description="0x000…0 for ETH")
    amount: str = Field(description="In the token's base unit (wei for ETH)")


class OrdersDayPublic(BaseModel):
    day: date
    orders: int
    value: list[TokenAmountPublic]


class DisputeStatsPublic(BaseModel):
    orders: int
    disputes: int
    rate: float | None = Field(description="Disputes per order; null without orders")


class CreditTierPublic(BaseModel):
    tier: int = Field(description="The attested band, which selects the policy's tier")
    approved: int
    denied: int


class CreditPoolStatsPublic(BaseModel):
    """The credit vault's losses and exits, as its events tell them (base units of the pool's
    stablecoin; shares for redemption requests)."""

    principal_impaired: str = Field(description="Past-due principal impaired so far (total)")
    losses_recognized: str = Field(description="Impaired principal written off (total)")
    income_locked: str = Field(description="Income and recoveries locked to unlock over time")
    redeem_requests: int = Field(description="Redemption requests queued (ERC-7540)")
    shares_requested: str = Field(description="Shares those requests locked")
    refunds_settled: str = Field(description="Order refunds applied to borrowers' lines")


class CreditStatsPublic(BaseModel):
    by_tier: list[CreditTierPublic]
    pool: CreditPoolStatsPublic | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Left out while the index has no credit-vault event or refund",
    )


class StatsPublic(BaseModel):
    as_of_block: int | None
    as_of_time: datetime | None
    merchant: str | None = Field(description="The merchant the numbers are limited to, if any")
    items: ItemStatsPublic
    orders_by_day: list[OrdersDayPublic]
    disputes: DisputeStatsPublic
    credit: CreditStatsPublic
    relay: RelayLagPublic | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Left out until the relayer feeds it",
    )
