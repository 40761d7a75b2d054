"""The merchant a request speaks for: its session token (``Authorization: Bearer``), looked up
by its SHA-256."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.deps import SessionDep
from app.api.errors import ApiError, ErrorPublic
from app.merchant.siwe import session_merchant

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="MerchantSession",
    description="A session token from POST /v1/merchant/siwe/session",
)
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def session_holder(
    credentials: HTTPAuthorizationCredentials | None, holder_of: Callable[[str], str | None]
) -> str:
    """Who a request's Bearer session speaks for (``holder_of`` a token: its address, or None
    when unknown or expired); 401 ``session_required`` or ``session_invalid``. Merchants' and
    borrowers' sessions alike."""
    if credentials is None:
        raise ApiError(401, "session_required", "sign in first (a Bearer token)", headers=CHALLENGE)
    holder = holder_of(credentials.credentials)
    if holder is None:
        raise ApiError(
            401, "session_invalid", "the session token is unknown or expired", headers=CHALLENGE
        )
    return holder


def current_merchant(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    return session_holder(credentials, lambda token: session_merchant(session, token, time.time()))


MerchantDep = Annotated[str, Depends(current_merchant)]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers an operation may give."""
    described = {
        401: "No session, or an unknown or expired one.",
        403: "The address is not an active merchant on the registry, or the request is another "
        "key's.",
        404: "No such webhook endpoint or delivery of this merchant, or no such request.",
        409: "A delivery cannot be replayed now, a request's nonce is taken or replayed, or the "
        "request is no longer queued.",
        422: "The request is not valid.",
        429: "Over a rate or a daily quota: wait Retry-After seconds.",
        503: "The chain, or the webhook encryption key, is not available.",
    }
    return {code: {"model": ErrorPublic, "description": described[code]} for code in codes}
