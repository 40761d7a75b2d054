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


class CreditStatsPublic(BaseModel):
    by_tier: list[CreditTierPublic]


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
