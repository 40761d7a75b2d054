"""Sign-In with Ethereum for merchants: a single-use nonce, then the signed EIP-4361 message
exchanged for a session token.

The message must name this service (its domain and an URI of its origin, both from
``public_base_url``), the deployment's chain, a nonce this service handed out and nobody used, and
a time window that holds now; its EIP-191 ``personal_sign`` signature must recover its address;
and the registry's own view (``merchantStanding``) must say that address is an active merchant.
The token is random; only its SHA-256 is stored, with its expiry (the message's expiration time,
at most ``merchant_session_seconds`` away).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.messages import encode_defunct
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.api.errors import ApiError
from app.domain.vocab import MerchantStatus
from app.index.chain import RPC_ERRORS, ChainAccess, ChainUnavailable
from app.merchant.models import MerchantSessionRow, SiweNonceRow
from app.merchant.siwe_message import SiweMessage, SiweMessageInvalid, parse_siwe_message
from app.settings import Settings

TOKEN_PREFIX = "tms_"
# A message issued this far in our future is refused (clocks differ a little).
CLOCK_SKEW_SECONDS = 60


@dataclass(frozen=True)
class Audience:
    """What a message must name: this service's domain and origin, the deployment's chain."""

    scheme: str
    domain: str
    chain_id: int

    @classmethod
    def of(cls, settings: Settings, chain_id: int) -> Audience:
        base = urlsplit(settings.public_base_url)
        return cls(base.scheme, base.netloc, chain_id)


@dataclass(frozen=True)
class OpenedSession:
    token: str
    merchant: str
    expires_at: float


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_nonce(session: Session, now: float, seconds: int) -> SiweNonceRow:
    """A fresh nonce, usable once within ``seconds``; expired nonces and sessions are cleared on
    the way."""
    session.execute(delete(SiweNonceRow).where(SiweNonceRow.expires_at < now))
    session.execute(delete(MerchantSessionRow).where(MerchantSessionRow.expires_at <= now))
    row = SiweNonceRow(nonce=secrets.token_hex(16), expires_at=now + seconds)
    session.add(row)
    return row


def refuse(code: str, message: str, status: int = 401) -> ApiError:
    return ApiError(status, code, message)


def checked_message(text: str, audience: Audience, now: float) -> SiweMessage:
    """The parsed message if it names this service, this chain and a window holding ``now``."""
    try:
        message = parse_siwe_message(text)
    except SiweMessageInvalid as error:
        raise refuse("siwe_message_invalid", str(error), 422) from None
    if message.domain != audience.domain or message.scheme not in (None, audience.scheme):
        raise refuse("siwe_domain_mismatch", f"the message must be for {audience.domain}")
    uri = urlsplit(message.uri)
    if (uri.scheme, uri.netloc) != (audience.scheme, audience.domain):
        raise refuse(
            "siwe_uri_mismatch", f"the URI must be on {audience.scheme}://{audience.domain}"
        )
    if message.version != "1":
        raise refuse("siwe_version_unsupported", "only version 1 of EIP-4361 is supported")
    if message.chain_id != audience.chain_id:
        raise refuse(
            "siwe_wrong_chain",
            f"the message is for chain {message.chain_id}, not {audience.chain_id}",
        )
    if message.expiration_time is None:
        raise refuse("siwe_expiration_required", "the message needs an Expiration Time")
    if message.expiration_time.timestamp() <= now:
        raise refuse("siwe_expired", "the message's Expiration Time has passed")
    not_before = message.not_before or message.issued_at
    if not_before.timestamp() > now + CLOCK_SKEW_SECONDS:
        raise refuse("siwe_not_yet_valid", "the message is not valid yet (Issued At, Not Before)")
    return message


def signer_of(text: str, signature: str) -> str | None:
    """The address whose EIP-191 personal_sign of ``text`` is ``signature``, or None."""
    try:
        return str(Account.recover_message(encode_defunct(text=text), signature=signature))
    except (ValueError, TypeError):
        return None


def merchant_standing(chain: ChainAccess, merchant: str) -> MerchantStatus:
    """The registry's own answer (``merchantStanding``), not a copy of its rule."""
    try:
        status, _identity = chain.suite().registry.functions.merchantStanding(merchant).call()
    except LookupError as error:  # the deployment has no registry
        raise ChainUnavailable(str(error)) from error
    except RPC_ERRORS as error:
        raise ChainUnavailable(f"merchantStanding: {error}") from error
    return MerchantStatus(int(status))


def require_active_merchant(chain: ChainAccess, merchant: str) -> None:
    try:
        standing = merchant_standing(chain, merchant)
    except ChainUnavailable:
        raise ApiError(503, "chain_unavailable", "the registry cannot be read now") from None
    refuse_unless_active(merchant, standing)


def refuse_unless_active(merchant: str, standing: MerchantStatus) -> None:
    """403 ``not_an_active_merchant`` unless the registry's ``standing`` of ``merchant`` is
    active."""
    if standing is not MerchantStatus.ACTIVE:
        raise ApiError(
            403,
            "not_an_active_merchant",
            f"{merchant} is not an active merchant on the registry",
            {"status": standing.name.lower()},
        )


def signed_in(
    session: Session,
    chain: ChainAccess,
    settings: Settings,
    text: str,
    signature: str,
    now: float,
) -> SiweMessage:
    """The message, once it is checked (it names this service, this chain and a window holding
    ``now``), signed by its address, and its nonce spent (committed: spent whatever happens next).
    What the address may then do is the caller's to decide."""
    try:
        chain_id = chain.suite().chain_id
    except ChainUnavailable:
        raise ApiError(503, "chain_unavailable", "the chain cannot be read now") from None
    message = checked_message(text, Audience.of(settings, chain_id), now)
    if signer_of(text, signature) != message.address:
        raise refuse("siwe_signature_invalid", "the signature is not the message's address's")
    spent = session.execute(
        delete(SiweNonceRow).where(
            SiweNonceRow.nonce == message.nonce, SiweNonceRow.expires_at >= now
        )
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise refuse("siwe_nonce_unknown", "the nonce is unknown, used or expired")
    session.commit()
    return message


def new_token(prefix: str, message: SiweMessage, now: float, seconds: int) -> tuple[str, float]:
    """A random session token and when it ends: the message's expiration time, at most
    ``seconds`` from ``now``. Only its ``token_hash`` is stored."""
    assert message.expiration_time is not None  # checked_message requires one
    expires_at = min(message.expiration_time.timestamp(), now + seconds)
    return prefix + secrets.token_urlsafe(32), expires_at


def open_session(
    session: Session,
    chain: ChainAccess,
    settings: Settings,
    text: str,
    signature: str,
    now: float,
) -> OpenedSession:
    """Checks the signed message, spends its nonce and opens a session (see the module)."""
    message = signed_in(session, chain, settings, text, signature, now)
    require_active_merchant(chain, message.address)
    token, expires_at = new_token(TOKEN_PREFIX, message, now, settings.merchant_session_seconds)
    session.add(
        MerchantSessionRow(
            token_hash=token_hash(token),
            merchant=message.address,
            issued_at=now,
            expires_at=expires_at,
        )
    )
    session.commit()
    return OpenedSession(token, message.address, expires_at)


def session_merchant(session: Session, token: str, now: float) -> str | None:
    """The merchant of a live session token, or None."""
    row = session.get(MerchantSessionRow, token_hash(token))
    if row is None or row.expires_at <= now:
        return None
    return row.merchant


def utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)
