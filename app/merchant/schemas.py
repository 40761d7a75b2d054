"""What the merchant endpoints take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, Field, UrlConstraints

from app.domain.abi_types import Signature
from app.merchant.event_types import EventType
from app.merchant.models import DeliveryStatus
from app.shop.schemas import ChainRefPublic, OrderPublic

WebhookUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=2_048)]


class SiweNoncePublic(BaseModel):
    """A nonce for one sign-in, and what the message must name besides it."""

    nonce: str
    expires_at: datetime
    domain: str = Field(description="The message's domain (first line)")
    uri: str = Field(description="A URI of this origin for the message's URI field")
    chain_id: int = Field(description="The deployment's chain, for the message's Chain ID")


class SiweSessionCreate(BaseModel):
    """An EIP-4361 message and its EIP-191 (personal_sign) signature by the merchant's key."""

    message: str = Field(min_length=1, max_length=4_096)
    signature: Signature


class MerchantSessionPublic(BaseModel):
    """A session: send ``Authorization: Bearer <token>`` with the merchant endpoints."""

    token: str
    merchant: str
    expires_at: datetime


class WebhookEndpointCreate(BaseModel):
    url: WebhookUrl = Field(
        description="https:// outside development and tests",
        # Documents what AnyHttpUrl enforces beyond `format: uri`: an http(s) scheme.
        json_schema_extra={"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
    )
    event_types: list[EventType] = Field(
        default_factory=lambda: list(EventType), min_length=1, max_length=len(EventType)
    )
    description: str = Field(default="", max_length=200)


class WebhookEndpointPublic(BaseModel):
    id: str
    url: str
    event_types: list[EventType]
    description: str
    created_at: datetime


class WebhookEndpointCreatedPublic(WebhookEndpointPublic):
    """The endpoint, and its signing secret: shown this once, never again."""

    secret: str


class WebhookEndpointListPublic(BaseModel):
    endpoints: list[WebhookEndpointPublic]


class WebhookDeliveryPublic(BaseModel):
    id: int
    event_id: str
    event_type: EventType
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = Field(
        description="When a pending delivery is tried next (none: as soon as the worker can)"
    )
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    replay_of: int | None
    created_at: datetime


class WebhookDeliveryListPublic(BaseModel):
    deliveries: list[WebhookDeliveryPublic]


class MerchantItemPublic(BaseModel):
    """One of the merchant's items with a record on chain (registered or activated)."""

    item_id: str
    metadata_hash: str
    metadata_uri: str | None
    batch_root: str | None
    registered: ChainRefPublic
    verify_url: str


class MerchantItemListPublic(BaseModel):
    items: list[MerchantItemPublic]
    limit: int
    offset: int
    as_of_block: int | None


class MerchantBatchPublic(BaseModel):
    root: str
    item_count: int
    metadata_hash: str
    metadata_uri: str
    recalled: bool
    registered: ChainRefPublic


class MerchantBatchListPublic(BaseModel):
    batches: list[MerchantBatchPublic]
    limit: int
    offset: int
    as_of_block: int | None


class MerchantOrderListPublic(BaseModel):
    orders: list[OrderPublic]
    limit: int
    offset: int
    as_of_block: int | None


class MerchantReportPublic(BaseModel):
    """A report filed on one of the merchant's items, and the verifier's decision if any."""

    report_id: int
    item_id: str
    reporter: str
    kind: int
    evidence_hash: str
    filed: ChainRefPublic
    outcome: Literal["open", "confirmed", "dismissed"]
    decided: ChainRefPublic | None


class MerchantReportListPublic(BaseModel):
    reports: list[MerchantReportPublic]
    limit: int
    offset: int
    as_of_block: int | None
