"""Publishing product passports and their pictures: each checked, hashed and kept under its
content's ``keccak256``, so that what is kept can only ever be what an item's hash names.

A passport is hashed as every item's metadata is (``app.domain.metadata``: the canonical JSON
of the document as sent), and must be a ``ProductPassport``. A picture must be PNG, JPEG or
WebP by its own bytes: SVG, which can carry script, is refused, and the type a sender names is
never believed. Anyone may publish: the hash binds the content, so nobody can put other words
under an item's hash; size and the publishers' rate (``app.shop.publish_api``) bound the rest.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from eth_utils.crypto import keccak
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.api.errors import ApiError
from app.api.json_body import JsonTooDeep, check_depth
from app.db.session import Database
from app.domain.metadata import NotCanonicalizable, canonical_json, loads_strict, metadata_hash
from app.domain.passport import ProductPassport
from app.shop.models import MediaRow, PassportRow

# The pictures kept, by the signature their bytes start with.
PNG, JPEG, WEBP = "image/png", "image/jpeg", "image/webp"
MEDIA_TYPES = (PNG, JPEG, WEBP)


class Canonical(NamedTuple):
    """A document as kept: its hash (lowercase 0x hex) and canonical JSON."""

    digest: str
    document: bytes


def too_large(code: str) -> Any:
    """What a body over ``limit`` bytes is refused with: 413 and ``code``."""

    def refuse(limit: int) -> ApiError:
        return ApiError(
            413, code, f"the body is over {limit} bytes", details={"limit_bytes": limit}
        )

    return refuse


def passport_document(body: bytes) -> Canonical:
    """The passport in ``body``, canonical and hashed; ``ApiError`` 422 when it is not JSON
    (``invalid_json``), has no canonical form (``not_canonicalizable``: duplicate keys, huge
    integers, lone surrogates) or is not a passport (``invalid_passport``, a detail a field)."""
    try:
        check_depth(body)
        parsed = loads_strict(body.decode("utf-8"))
    except NotCanonicalizable as error:
        raise ApiError(422, "not_canonicalizable", str(error)) from None
    except (UnicodeDecodeError, JsonTooDeep, ValueError) as error:
        raise ApiError(422, "invalid_json", f"the body is not JSON: {error}") from None
    try:
        canonical = canonical_json(parsed)
        canonical.decode("utf-8")
    except (NotCanonicalizable, UnicodeError) as error:
        raise ApiError(422, "not_canonicalizable", f"no canonical JSON: {error}") from None
    try:
        ProductPassport.model_validate_json(canonical, strict=True)
    except ValidationError as error:
        raise ApiError(
            422,
            "invalid_passport",
            "the document is not a product passport (schema trustmall.passport/1)",
            [
                {
                    "field": ".".join(str(part) for part in ("body", *e["loc"])),
                    "code": e["type"],
                    "message": e["msg"],
                }
                for e in error.errors()
            ],
        ) from None
    return Canonical("0x" + metadata_hash(parsed).hex(), canonical)


def stored_passport(document: str) -> ProductPassport:
    """A kept passport, read back (it was checked when published)."""
    return ProductPassport.model_validate_json(document, strict=True)


def hash_of_text(document: str) -> str:
    """The hash of a kept document's text, computed again."""
    return "0x" + keccak(document.encode("utf-8")).hex()


def media_type_of(content: bytes) -> str | None:
    """The picture type ``content``'s own bytes show, or None for anything else."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return WEBP
    return None


def picture(content: bytes) -> tuple[str, str]:
    """The hash and type of a picture; ``ApiError`` 415 ``unsupported_media_type`` when its
    bytes are not PNG, JPEG or WebP."""
    media_type = media_type_of(content)
    if media_type is None:
        raise ApiError(
            415,
            "unsupported_media_type",
            "a picture is PNG, JPEG or WebP, as its own bytes show (SVG is refused: it can "
            "carry script)",
            details={"accepted": list(MEDIA_TYPES)},
        )
    return "0x" + keccak(content).hex(), media_type


def keep_passport(database: Database, passport: Canonical) -> bool:
    """Keeps a passport; False when it was kept before (by anyone: it is the same content)."""
    row = PassportRow(
        metadata_hash=passport.digest,
        document=passport.document.decode("utf-8"),
        size=len(passport.document),
    )
    return _keep(database, row, PassportRow.metadata_hash == passport.digest)


def keep_media(database: Database, digest: str, media_type: str, content: bytes) -> bool:
    """Keeps a picture; False when it was kept before."""
    row = MediaRow(media_hash=digest, media_type=media_type, content=content, size=len(content))
    return _keep(database, row, MediaRow.media_hash == digest)


def _keep(database: Database, row: PassportRow | MediaRow, same: Any) -> bool:
    with database.sessions() as session:
        if session.scalar(select(type(row).id).where(same)) is not None:
            return False
        session.add(row)
        try:
            session.commit()
        except IntegrityError:  # published at the same moment by another request
            session.rollback()
            return False
    return True


def passport_text(database: Database, digest: str) -> str | None:
    with database.sessions() as session:
        found = session.scalar(
            select(PassportRow.document).where(PassportRow.metadata_hash == digest)
        )
    return found


def media(database: Database, digest: str) -> tuple[str, bytes] | None:
    with database.sessions() as session:
        found = session.execute(
            select(MediaRow.media_type, MediaRow.content).where(MediaRow.media_hash == digest)
        ).first()
    return (found[0], found[1]) if found is not None else None
