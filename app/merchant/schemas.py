"""What the merchant endpoints take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, Field, UrlConstraints

from app.merchant.event_types import EventType
from app.merchant.models import DeliveryStatus

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
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class MerchantSessionPublic(BaseModel):
    """A session: send ``Authorization: Bearer <token>`` with the merchant endpoints."""

    token: str
    merchant: str
    expires_at: datetime


class WebhookEndpointCreate(BaseModel):
    url: WebhookUrl = Field(description="https:// outside development and tests")
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
