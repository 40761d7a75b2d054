"""Who is calling, and is this exactly what they sent: API key, then an HMAC-SHA256 signature in
Stripe's scheme over the timestamp and the raw body.

Headers of a source's request::

    TrustMall-Api-Key: <the source's API key>
    TrustMall-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "{t}.{raw body}")>

Several ``v1=`` entries may be given (while a secret is rotated); one must match. The timestamp
must be within ``signature_tolerance_seconds`` of the server's clock either way, and a signature is
accepted once: the same signature again within the window is a replay. Comparisons are constant
time. A refusal is logged with its code and the source's name, never with a key, secret or
signature.
"""

from __future__ import annotations

import hmac
import math
import time
from dataclasses import dataclass

import structlog
from fastapi import Request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from app.api.errors import ApiError
from app.api.json_body import check_json_content_type, read_bounded
from app.db.session import Database
from app.domain.errors import TrustMallError
from app.domain.source_signature import API_KEY_HEADER, SIGNATURE_HEADER, SIGNATURE_SCHEME, sign
from app.ingest.models import SeenSignature
from app.services import AppServices
from app.settings import SourceCredentials, SourceKind

log = structlog.get_logger(__name__)

# Seen signatures are kept this long past the last second they could be accepted: a purge never
# races an acceptance, whatever the rounding of the clock or the skew between replicas.
REPLAY_MARGIN_SECONDS = 60
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class AuthRefused(TrustMallError, PermissionError):
    """A request whose key or signature does not hold; ``code`` says which rule it broke."""

    def __init__(self, code: str, message: str, status_code: int = 401) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code


@dataclass(frozen=True)
class SignatureHeader:
    timestamp: int
    signatures: tuple[str, ...]


@dataclass(frozen=True)
class SignedRequest:
    """An authenticated request: the source's name and the raw body its signature covers."""

    source: str
    credentials: SourceCredentials
    body: bytes


def parse_signature_header(value: str) -> SignatureHeader:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t" and item.isascii() and item.isdigit():
            timestamp = int(item)
        elif key == SIGNATURE_SCHEME and item:
            if not _is_hex(item):
                # Headers arrive decoded as Latin-1: a non-ASCII signature would reach the
                # constant-time comparison, which refuses non-ASCII text with a TypeError.
                raise AuthRefused(
                    "malformed_signature", f"a {SIGNATURE_SCHEME}= signature is hex digits only"
                )
            signatures.append(item.lower())
    if timestamp is None or not signatures:
        raise AuthRefused(
            "malformed_signature",
            f"{SIGNATURE_HEADER} must be t=<unix seconds>,{SIGNATURE_SCHEME}=<hex HMAC-SHA256>",
        )
    return SignatureHeader(timestamp, tuple(signatures))


def identify_source(
    sources: dict[str, SourceCredentials], api_key: str
) -> tuple[str, SourceCredentials]:
    """The source holding ``api_key``; every configured key is compared, in constant time."""
    found: tuple[str, SourceCredentials] | None = None
    given = api_key.encode()
    for name, credentials in sources.items():
        if hmac.compare_digest(credentials.api_key.get_secret_value().encode(), given):
            found = (name, credentials)
    if found is None:
        raise AuthRefused("invalid_api_key", "the API key is not valid")
    return found


def verify_signature(
    secret: str, header: str, body: bytes, now: int, tolerance_seconds: int
) -> SignatureHeader:
    """Checks the signature (first, so nothing is learnt without the secret), then its age."""
    parsed = parse_signature_header(header)
    expected = sign(secret, parsed.timestamp, body)
    matching = [s for s in parsed.signatures if hmac.compare_digest(expected, s)]
    if not matching:
        raise AuthRefused("invalid_signature", "the signature does not match the request")
    if parsed.timestamp < now - tolerance_seconds:
        raise AuthRefused(
            "signature_expired", f"the signature is older than {tolerance_seconds} seconds"
        )
    if parsed.timestamp > now + tolerance_seconds:
        raise AuthRefused(
            "signature_from_future",
            f"the signature's timestamp is more than {tolerance_seconds} seconds ahead",
        )
    return SignatureHeader(parsed.timestamp, (matching[0],))


def remember_signature(
    database: Database, source: str, signature: SignatureHeader, now: float, tolerance: int
) -> None:
    """Records a signature as used; refuses one already used. A signature is forgotten once its
    own timestamp is older than the tolerance by ``REPLAY_MARGIN_SECONDS`` more: it would be
    refused as expired by then. (Counting from when it was seen is not enough: a signature
    timestamped ahead of our clock stays valid for up to twice the tolerance after it is seen.)"""
    try:
        with database.transaction() as session:
            session.add(
                SeenSignature(
                    source=source,
                    signature=signature.signatures[0],
                    timestamp=signature.timestamp,
                    seen_at=now,
                )
            )
            session.flush()
            session.execute(
                delete(SeenSignature).where(
                    SeenSignature.timestamp < now - tolerance - REPLAY_MARGIN_SECONDS
                )
            )
    except IntegrityError:
        raise AuthRefused(
            "signature_replayed", "this signature was already used; sign each request anew"
        ) from None


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 beyond ``limit`` bytes (declared or actually sent)."""
    return await read_bounded(request, limit, _too_large)


async def authenticate(
    request: Request,
    services: AppServices,
    kind: SourceKind,
    api_key: str | None,
    signature: str | None,
) -> SignedRequest:
    """Key, content type (JSON), body size, signature, rate limit, replay — in that order;
    raises ``ApiError``."""
    settings = services.settings
    source: str | None = None
    try:
        if not api_key:
            raise AuthRefused("missing_api_key", f"the {API_KEY_HEADER} header is required")
        source, credentials = identify_source(settings.sources, api_key)
        if credentials.kind is not kind:
            raise AuthRefused(
                "source_not_allowed", f"a {credentials.kind} source cannot send {kind} data", 403
            )
        if request.method != "GET":
            check_json_content_type(request)
        body = await read_body(request, settings.max_body_bytes)
        if not signature:
            raise AuthRefused("missing_signature", f"the {SIGNATURE_HEADER} header is required")
        now = time.time()
        tolerance = settings.signature_tolerance_seconds
        verified = verify_signature(
            credentials.hmac_secret.get_secret_value(), signature, body, int(now), tolerance
        )
        wait = services.rate_limits.take(f"ingest:{source}", credentials.requests_per_minute)
        if wait > 0:
            log.warning("ingest_rate_limited", source=source, retry_after_seconds=wait)
            raise ApiError(
                429,
                "rate_limited",
                f"source {source} is over {credentials.requests_per_minute} requests per minute",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        await run_in_threadpool(
            remember_signature, services.database, source, verified, now, tolerance
        )
    except AuthRefused as refused:
        log.warning(
            "ingest_auth_refused",
            code=refused.code,
            source=source,
            path=request.url.path,
            client=request.client.host if request.client else None,
        )
        raise ApiError(refused.status_code, refused.code, refused.message) from None
    return SignedRequest(source, credentials, body)


def _is_hex(text: str) -> bool:
    return all(character in _HEX_DIGITS for character in text)


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, "body_too_large", f"the body is over {limit} bytes", details={"limit_bytes": limit}
    )
