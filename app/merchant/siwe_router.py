"""``/v1/merchant/siwe``: a nonce, then a session for a signed EIP-4361 message."""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.orm import Session

from app.api.clients import client_key
from app.api.deps import ServicesDep, SessionDep, SettingsDep
from app.api.errors import ApiError
from app.index.chain import ChainUnavailable
from app.index.runtime import IndexDep, IndexRuntime
from app.merchant.auth import MerchantDep, bearer, errors
from app.merchant.models import MerchantSessionRow
from app.merchant.schemas import MerchantSessionPublic, SiweNoncePublic, SiweSessionCreate
from app.merchant.siwe import Audience, issue_nonce, open_session, token_hash, utc
from app.services import AppServices
from app.settings import Settings

router = APIRouter(prefix="/v1/merchant/siwe", tags=["merchant"])


@router.get("/nonce", response_model=SiweNoncePublic, responses=errors(429, 503))
def get_nonce(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    services: ServicesDep,
    index: IndexDep,
) -> SiweNoncePublic:
    """A nonce for one Sign-In with Ethereum message, usable once before it expires; with the
    domain, origin and chain id the message must name. ``rate_limited`` (429, with Retry-After)
    past ``siwe_nonces_per_minute`` from one client address."""
    return nonce_answer(request, session, settings, services, index)


def nonce_answer(
    request: Request,
    session: Session,
    settings: Settings,
    services: AppServices,
    index: IndexRuntime,
) -> SiweNoncePublic:
    """A nonce for any sign-in (a merchant's, a borrower's): one budget per client address."""
    client = client_key(request)
    limit = settings.siwe_nonces_per_minute
    if (wait := services.rate_limits.take(f"siwe-nonce:{client}", limit)) > 0:
        raise ApiError(
            429,
            "rate_limited",
            f"over {limit} sign-in nonces a minute from this address",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    try:
        chain_id = index.chain.suite().chain_id
    except ChainUnavailable:
        raise ApiError(503, "chain_unavailable", "the chain cannot be read now") from None
    row = issue_nonce(session, time.time(), settings.siwe_nonce_seconds)
    session.commit()
    audience = Audience.of(settings, chain_id)
    return SiweNoncePublic(
        nonce=row.nonce,
        expires_at=utc(row.expires_at),
        domain=audience.domain,
        uri=f"{audience.scheme}://{audience.domain}",
        chain_id=chain_id,
    )


@router.post(
    "/session",
    status_code=201,
    response_model=MerchantSessionPublic,
    responses=errors(401, 403, 422, 503),
)
def create_session(
    body: SiweSessionCreate, session: SessionDep, settings: SettingsDep, index: IndexDep
) -> MerchantSessionPublic:
    """Exchanges an EIP-4361 message signed by an active merchant (EIP-191 personal_sign) for a
    session token. Refusals: ``siwe_message_invalid`` (422); ``siwe_domain_mismatch``,
    ``siwe_uri_mismatch``, ``siwe_version_unsupported``, ``siwe_wrong_chain``,
    ``siwe_expiration_required``, ``siwe_expired``, ``siwe_not_yet_valid``,
    ``siwe_signature_invalid``, ``siwe_nonce_unknown`` (401); ``not_an_active_merchant`` (403)."""
    opened = open_session(session, index.chain, settings, body.message, body.signature, time.time())
    return MerchantSessionPublic(
        token=opened.token, merchant=opened.merchant, expires_at=utc(opened.expires_at)
    )


@router.delete("/session", status_code=204, responses=errors(401))
def delete_session(
    merchant: MerchantDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Response:
    """Signs out: the session's token stops working at once."""
    assert credentials is not None  # MerchantDep checked it
    row = session.get(MerchantSessionRow, token_hash(credentials.credentials))
    if row is not None and row.merchant == merchant:
        session.delete(row)
        session.commit()
    return Response(status_code=204)
