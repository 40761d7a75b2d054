"""What the merchant endpoints take and answer."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, BeforeValidator, Field, UrlConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from app.domain.abi_types import Signature
from app.merchant.event_types import EventType
from app.merchant.models import DeliveryStatus
from app.shop.schemas import ChainRefPublic, OrderPublic

_LABEL = r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_PORT = r"([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
# RFC 3986's path characters: unreserved, sub-delimiters, ":", "@", "/" and %-escapes. No two
# alternatives share a character: a pattern that may match one way or another backtracks
# exponentially on a near miss (the fuzzer's generator and every validator run it).
_CHARS = r"([A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})"
# A host name whose last label starts with a letter (a URL parser reads a numeric last label as
# an IPv4 address), or a dotted IPv4 address. No user info, no IPv6 literal, no "xn--" label
# (its punycode may not decode), nothing outside RFC 3986 (a browser would escape it): every
# string this matches is a `format: uri` and parses as an http(s) URL, so the documented schema
# is the whole rule, neither looser nor stricter than what the service takes.
WEBHOOK_URL_PATTERN = (
    rf"^[Hh][Tt][Tt][Pp][Ss]?://"
    rf"(({_LABEL}\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*|{_OCTET}(\.{_OCTET}){{3}})"
    rf"(:{_PORT})?(/{_CHARS}*)?(\?({_CHARS}|\?)*)?(#({_CHARS}|\?)*)?$"
)
_WEBHOOK_URL = re.compile(WEBHOOK_URL_PATTERN)


def _webhook_url_form(value: object) -> object:
    if isinstance(value, str) and not _WEBHOOK_URL.fullmatch(value):
        raise PydanticCustomError(
            "string_pattern_mismatch",
            "a webhook URL is http(s)://, a host name or IPv4 address, an optional port and path",
        )
    return value


WEBHOOK_URL_MAX_LENGTH = 2_048
# The pattern implies `format: uri`, and stating that format too would be stating one rule twice
# (and would send a fuzzer hunting for a pattern match the format refuses: there is none).
WebhookUrl = Annotated[
    AnyHttpUrl,
    UrlConstraints(max_length=WEBHOOK_URL_MAX_LENGTH),
    BeforeValidator(_webhook_url_form),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": WEBHOOK_URL_MAX_LENGTH,
            "pattern": WEBHOOK_URL_PATTERN,
        }
    ),
]


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
        description="An http(s) URL (RFC 3986); https:// outside development and tests",
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
