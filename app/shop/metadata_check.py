"""Does an item's metadata hash to its on-chain ``metadataHash``?

A passport published to the service (``app.shop.publish``) is kept under the hash of its
content, so one kept under the item's hash matches it, wherever the URI points. Otherwise the
document at the URI is fetched, as a fallback: only ``http``/``https`` URIs on hosts in
``settings.metadata_fetch_hosts`` (no redirects, at most ``MAX_BYTES``, a short timeout);
anything else is "unchecked". A document
matches when ``keccak256`` of its bytes, or of the canonical JSON of its content, is the hash.
Results are kept for ``CACHE_SECONDS``; ``refresh`` checks again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from eth_utils.crypto import keccak
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.metadata import NotCanonicalizable, canonical_json, loads_strict
from app.shop.models import MetadataCheckRow, PassportRow
from app.shop.schemas import MetadataCheck, MetadataPublic

MAX_BYTES = 1_000_000
TIMEOUT_SECONDS = 3.0
CACHE_SECONDS = 3_600


def fetch_allowed(uri: str, allowed_hosts: list[str]) -> bool:
    parts = urlsplit(uri)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    allowed = {host.lower() for host in allowed_hosts}
    return parts.netloc.lower() in allowed or parts.hostname.lower() in allowed


def published(uri: str | None, expected_hash: str) -> MetadataPublic:
    """The check of an item whose passport was published here under its hash."""
    return MetadataPublic(
        uri=uri,
        hash=expected_hash,
        check=MetadataCheck.MATCH,
        document=f"/v1/metadata/{expected_hash}",
    )


def check_metadata(
    session: Session,
    uri: str | None,
    expected_hash: str,
    allowed_hosts: list[str],
    *,
    refresh: bool = False,
) -> MetadataPublic:
    kept = select(PassportRow.id).where(PassportRow.metadata_hash == expected_hash)
    if session.scalar(kept) is not None:
        return published(uri, expected_hash)
    if uri is None or not fetch_allowed(uri, allowed_hosts):
        return MetadataPublic(uri=uri, hash=expected_hash, check=MetadataCheck.UNCHECKED)
    cached = session.get(MetadataCheckRow, (uri, expected_hash))
    if cached is not None and not refresh and not _stale(cached.checked_at):
        return MetadataPublic(
            uri=uri, hash=expected_hash, check=MetadataCheck(cached.result), detail=cached.detail
        )
    result, detail = fetch_and_compare(uri, expected_hash)
    session.merge(
        MetadataCheckRow(
            uri=uri,
            metadata_hash=expected_hash,
            result=result.value,
            detail=detail,
            checked_at=datetime.now(UTC),
        )
    )
    session.commit()
    return MetadataPublic(uri=uri, hash=expected_hash, check=result, detail=detail)


def result_of(row: Sequence[Any]) -> tuple[MetadataCheck, str | None] | None:
    """A stored check (result, detail, checked_at) if still fresh, else None."""
    result, detail, checked_at = row
    if isinstance(checked_at, str):  # SQLite through the DB-API: ISO text in UTC
        checked_at = datetime.fromisoformat(checked_at)
    if _stale(checked_at):
        return None
    return MetadataCheck(result), detail


def fetch_and_compare(uri: str, expected_hash: str) -> tuple[MetadataCheck, str | None]:
    try:
        with (
            httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client,
            client.stream("GET", uri, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                return MetadataCheck.UNREACHABLE, f"HTTP {response.status_code}"
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    return MetadataCheck.UNREACHABLE, f"larger than {MAX_BYTES} bytes"
    except httpx.HTTPError as error:
        return MetadataCheck.UNREACHABLE, type(error).__name__
    expected = expected_hash.lower()
    if "0x" + keccak(bytes(body)).hex() == expected:
        return MetadataCheck.MATCH, None
    try:
        canonical = canonical_json(loads_strict(body.decode("utf-8")))
    except (UnicodeDecodeError, ValueError, NotCanonicalizable):
        return MetadataCheck.MISMATCH, "the document is not JSON and its bytes hash differently"
    if "0x" + keccak(canonical).hex() == expected:
        return MetadataCheck.MATCH, None
    return MetadataCheck.MISMATCH, "the document hashes differently from the on-chain hash"


def _stale(checked_at: datetime) -> bool:
    if checked_at.tzinfo is None:  # SQLite hands back naive UTC datetimes
        checked_at = checked_at.replace(tzinfo=UTC)
    return datetime.now(UTC) - checked_at > timedelta(seconds=CACHE_SECONDS)
