"""``/v1/merchant/webhooks``: a signed-in merchant's endpoints, their delivery log, replays."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.api.deps import SessionDep, SettingsDep
from app.api.errors import ApiError
from app.api.params import DECIMAL_DIGITS
from app.db.base import utc_now
from app.index.runtime import IndexDep
from app.merchant.auth import MerchantDep, errors
from app.merchant.delivery_log import delivery_public
from app.merchant.destinations import non_public_address
from app.merchant.event_types import EventType
from app.merchant.models import (
    DeliveryStatus,
    WebhookDeliveryRow,
    WebhookEndpointRow,
    WebhookEventRow,
)
from app.merchant.schemas import (
    WebhookDeliveryListPublic,
    WebhookDeliveryPublic,
    WebhookEndpointCreate,
    WebhookEndpointCreatedPublic,
    WebhookEndpointListPublic,
    WebhookEndpointPublic,
)
from app.merchant.siwe import require_active_merchant
from app.merchant.webhook_signing import SecretBox, WebhookKeyUnavailable, new_secret
from app.settings import Environment, Settings

router = APIRouter(prefix="/v1/merchant/webhooks", tags=["merchant"])
MAX_ENDPOINTS = 16
MAX_DELIVERY_ID = 2**62  # within the database's integers
ENDPOINT_ID_BYTES = 12
ENDPOINT_ID_PATTERN = f"^we_[0-9a-f]{{{2 * ENDPOINT_ID_BYTES}}}$"
EndpointId = Annotated[
    str,
    Path(pattern=ENDPOINT_ID_PATTERN, description="The endpoint's id, as its subscription gave it"),
]


def _endpoint_public(row: WebhookEndpointRow) -> WebhookEndpointPublic:
    return WebhookEndpointPublic(
        id=row.id,
        url=row.url,
        event_types=[EventType(t) for t in row.event_types],
        description=row.description,
        created_at=row.created_at,
    )


def _live_endpoints(session: Session, merchant: str) -> list[WebhookEndpointRow]:
    return list(
        session.scalars(
            select(WebhookEndpointRow)
            .where(WebhookEndpointRow.merchant == merchant, WebhookEndpointRow.deleted_at.is_(None))
            .order_by(WebhookEndpointRow.created_at)
        )
    )


def _endpoint(session: Session, merchant: str, endpoint_id: str) -> WebhookEndpointRow:
    row = session.get(WebhookEndpointRow, endpoint_id)
    if row is None or row.merchant != merchant or row.deleted_at is not None:
        raise ApiError(404, "webhook_not_found", "no such webhook endpoint of yours")
    return row


def _box(settings: Settings) -> SecretBox:
    try:
        return SecretBox(settings)
    except WebhookKeyUnavailable as error:
        raise ApiError(503, "webhooks_unavailable", str(error)) from None


@router.post(
    "",
    status_code=201,
    response_model=WebhookEndpointCreatedPublic,
    responses=errors(401, 403, 409, 422, 503),
)
def create_webhook(
    body: WebhookEndpointCreate,
    merchant: MerchantDep,
    session: SessionDep,
    settings: SettingsDep,
    index: IndexDep,
) -> WebhookEndpointCreatedPublic:
    """Subscribes an endpoint to the merchant's events (all types unless listed). The answer
    holds its signing secret, shown this once; deliveries carry ``TrustMall-Signature:
    t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`` and ``TrustMall-Event-Id``."""
    box = _box(settings)
    if settings.environment is Environment.PRODUCTION:
        if body.url.scheme != "https":
            raise ApiError(422, "webhook_url_not_https", "a webhook URL must be https://")
        if (address := non_public_address(str(body.url))) is not None:
            raise ApiError(
                422, "webhook_url_not_public", f"the URL's host resolves to {address}, not public"
            )
    if len(_live_endpoints(session, merchant)) >= MAX_ENDPOINTS:
        raise ApiError(409, "too_many_webhooks", f"at most {MAX_ENDPOINTS} endpoints a merchant")
    require_active_merchant(index.chain, merchant)
    secret = new_secret()
    row = WebhookEndpointRow(
        id="we_" + secrets.token_hex(ENDPOINT_ID_BYTES),
        merchant=merchant,
        url=str(body.url),
        event_types=sorted({str(t) for t in body.event_types}),
        description=body.description,
        secret_ciphertext=box.seal(secret),
        created_at=utc_now(),
    )
    session.add(row)
    session.commit()
    return WebhookEndpointCreatedPublic(**_endpoint_public(row).model_dump(), secret=secret)


@router.get("", response_model=WebhookEndpointListPublic, responses=errors(401))
def list_webhooks(merchant: MerchantDep, session: SessionDep) -> WebhookEndpointListPublic:
    """The merchant's endpoints (never their secrets)."""
    return WebhookEndpointListPublic(
        endpoints=[_endpoint_public(row) for row in _live_endpoints(session, merchant)]
    )


@router.delete("/{endpoint_id}", status_code=204, responses=errors(401, 404, 422))
def delete_webhook(endpoint_id: EndpointId, merchant: MerchantDep, session: SessionDep) -> Response:
    """Unsubscribes the endpoint; its pending deliveries are cancelled, its log is kept."""
    row = _endpoint(session, merchant, endpoint_id)
    row.deleted_at = utc_now()
    session.execute(
        update(WebhookDeliveryRow)
        .where(
            WebhookDeliveryRow.endpoint_id == row.id,
            WebhookDeliveryRow.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.CANCELLED)
    )
    session.commit()
    return Response(status_code=204)


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=WebhookDeliveryListPublic,
    responses=errors(401, 404, 422),
)
def list_deliveries(
    endpoint_id: EndpointId,
    merchant: MerchantDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500), DECIMAL_DIGITS] = 100,
    before: Annotated[
        int | None,
        Query(ge=1, le=MAX_DELIVERY_ID, description="Deliveries older than this id"),
        DECIMAL_DIGITS,
    ] = None,
) -> WebhookDeliveryListPublic:
    """The endpoint's deliveries, newest first: status, attempts, the last answer or error."""
    row = _endpoint(session, merchant, endpoint_id)
    query = (
        select(WebhookDeliveryRow, WebhookEventRow.type)
        .join(WebhookEventRow, WebhookEventRow.id == WebhookDeliveryRow.event_id)
        .where(WebhookDeliveryRow.endpoint_id == row.id)
        .order_by(WebhookDeliveryRow.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(WebhookDeliveryRow.id < before)
    return WebhookDeliveryListPublic(
        deliveries=[delivery_public(d, t) for d, t in session.execute(query)]
    )


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/replay",
    status_code=202,
    response_model=WebhookDeliveryPublic,
    responses=errors(401, 404, 409, 422),
)
def replay_delivery(
    endpoint_id: EndpointId,
    delivery_id: Annotated[int, Path(ge=1, le=MAX_DELIVERY_ID), DECIMAL_DIGITS],
    merchant: MerchantDep,
    session: SessionDep,
) -> WebhookDeliveryPublic:
    """Sends the delivery's event again, as a new delivery (same event id: a receiver that
    dedupes by id ignores it if it had it); refused while a delivery of the event to this endpoint
    is still pending."""
    endpoint = _endpoint(session, merchant, endpoint_id)
    found = session.execute(
        select(WebhookDeliveryRow, WebhookEventRow.type)
        .join(WebhookEventRow, WebhookEventRow.id == WebhookDeliveryRow.event_id)
        .where(WebhookDeliveryRow.id == delivery_id, WebhookDeliveryRow.endpoint_id == endpoint.id)
    ).first()
    if found is None:
        raise ApiError(404, "delivery_not_found", "no such delivery to this endpoint")
    original, event_type = found
    pending = select(WebhookDeliveryRow.id).where(
        WebhookDeliveryRow.endpoint_id == endpoint.id,
        WebhookDeliveryRow.event_id == original.event_id,
        WebhookDeliveryRow.status == DeliveryStatus.PENDING,
    )
    if session.execute(pending).first() is not None:  # the original, or a replay of it
        raise ApiError(409, "delivery_pending", "a delivery of this event is still being tried")
    replay = WebhookDeliveryRow(
        endpoint_id=endpoint.id, event_id=original.event_id, replay_of=original.id
    )
    session.add(replay)
    session.commit()
    return delivery_public(replay, event_type)
