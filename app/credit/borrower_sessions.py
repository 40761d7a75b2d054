"""Borrowers' sessions: Sign-In with Ethereum (``app.merchant.siwe``: the same message rules,
nonces and tokens) opens a session for the message's address, which reads that borrower's own
report and nothing else. Anyone may sign in: the session speaks for an address, and what an
address may read is decided per request (``own_borrower``)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.api.deps import SessionDep
from app.api.errors import ApiError
from app.credit.models import BorrowerSessionRow
from app.index.chain import ChainAccess
from app.merchant.auth import session_holder
from app.merchant.siwe import new_token, signed_in, token_hash
from app.settings import Settings

TOKEN_PREFIX = "tmb_"

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="BorrowerSession",
    description="A session token from POST /v1/credit/siwe/session",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def open_borrower_session(
    session: Session,
    chain: ChainAccess,
    settings: Settings,
    text: str,
    signature: str,
    now: float,
) -> tuple[str, BorrowerSessionRow]:
    """A session for the signer of a checked EIP-4361 message (its nonce spent): its token,
    given out this once, and its row (which keeps only the token's hash). Expired borrowers'
    sessions are cleared on the way."""
    message = signed_in(session, chain, settings, text, signature, now)
    session.execute(delete(BorrowerSessionRow).where(BorrowerSessionRow.expires_at <= now))
    token, expires_at = new_token(TOKEN_PREFIX, message, now, settings.merchant_session_seconds)
    row = BorrowerSessionRow(
        token_hash=token_hash(token), borrower=message.address, issued_at=now, expires_at=expires_at
    )
    session.add(row)
    session.commit()
    return token, row


def session_borrower(session: Session, token: str, now: float) -> str | None:
    """The borrower of a live session token, or None."""
    row = session.get(BorrowerSessionRow, token_hash(token))
    if row is None or row.expires_at <= now:
        return None
    return row.borrower


def signed_in_borrower(session: SessionDep, credentials: Credentials) -> str:
    """The borrower the request's session speaks for; 401 ``session_required`` or
    ``session_invalid``."""
    return session_holder(credentials, lambda token: session_borrower(session, token, time.time()))


def maybe_borrower(session: SessionDep, credentials: Credentials) -> str | None:
    """The borrower a request's session speaks for, if it carries a live one (a page is public:
    no session is no error)."""
    if credentials is None:
        return None
    return session_borrower(session, credentials.credentials, time.time())


def own_borrower(signed_in: str, address: str) -> None:
    """403 ``not_your_report`` unless the session's borrower is ``address``."""
    if signed_in != address:
        raise ApiError(
            403,
            "not_your_report",
            "a borrower's report is for that borrower alone: sign in with its wallet",
        )


BorrowerDep = Annotated[str, Depends(signed_in_borrower)]
MaybeBorrowerDep = Annotated[str | None, Depends(maybe_borrower)]
