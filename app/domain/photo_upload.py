"""A shopper's photo: JPEG or PNG by its first bytes (never by its name or declared type), with
everything but the picture taken out.

Phones write where a photo was taken (EXIF GPS), when, and with which device into the file; a
shopper who sends a photo of a suspect item should not hand that to whoever reads the report.
The file is walked segment by segment (JPEG) or chunk by chunk (PNG), without decoding the
picture, and only what draws it is kept: JPEG's JFIF header, colour profile and Adobe colour
transform; PNG's chunks other than text, time and EXIF. Whatever follows the image's end (a
second, "multi-picture" image with its own EXIF, appended data) is dropped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum

from app.domain.errors import TrustMallError

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# JPEG markers that stand alone (no length follows): TEM, RST0-7, SOI, EOI.
_STANDALONE = {0x01, *range(0xD0, 0xD8), 0xD8, 0xD9}
_SOS, _EOI, _APP0, _APP2, _APP14, _COM = 0xDA, 0xD9, 0xE0, 0xE2, 0xEE, 0xFE
# APPn segments kept, by marker and the identifier their data starts with: what decoders need.
_KEPT_APPS = {_APP0: (b"JFIF\x00", b"JFXX\x00"), _APP2: (b"ICC_PROFILE\x00",), _APP14: (b"Adobe",)}
# PNG chunks that carry words, times or EXIF rather than pixels or colour.
_PNG_DROPPED = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


class PhotoType(StrEnum):
    JPEG = "image/jpeg"
    PNG = "image/png"


class PhotoRefused(TrustMallError, ValueError):
    """A file that is not a JPEG or PNG photo this module can read; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class CleanPhoto:
    media_type: PhotoType
    content: bytes


def sniff(content: bytes) -> PhotoType:
    """The photo's type by its magic bytes; ``photo_type_not_allowed`` for anything else."""
    if content.startswith(JPEG_MAGIC):
        return PhotoType.JPEG
    if content.startswith(PNG_MAGIC):
        return PhotoType.PNG
    raise PhotoRefused("photo_type_not_allowed", "the photo is not a JPEG or PNG file")


def cleaned(content: bytes) -> CleanPhoto:
    """The photo with its metadata removed; ``photo_type_not_allowed`` or ``photo_unreadable``."""
    kind = sniff(content)
    stripped = _jpeg(content) if kind is PhotoType.JPEG else _png(content)
    return CleanPhoto(kind, stripped)


def _unreadable(what: str) -> PhotoRefused:
    return PhotoRefused("photo_unreadable", f"the photo cannot be read: {what}")


def _jpeg(content: bytes) -> bytes:
    out = bytearray(content[:2])
    at = 2
    while True:
        if at + 2 > len(content) or content[at] != 0xFF:
            raise _unreadable("a JPEG segment is cut short or misplaced")
        marker = content[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker == _EOI:
            out += content[at : at + 2]
            return bytes(out)
        if marker in _STANDALONE:
            out += content[at : at + 2]
            at += 2
            continue
        if at + 4 > len(content):
            raise _unreadable("a JPEG segment is cut short")
        (length,) = struct.unpack(">H", content[at + 2 : at + 4])
        end = at + 2 + length
        if length < 2 or end > len(content):
            raise _unreadable("a JPEG segment runs past the file")
        if _kept(marker, content[at + 4 : end]):
            out += content[at:end]
        at = end
        if marker == _SOS:
            scan_end = _entropy_end(content, at)
            out += content[at:scan_end]
            at = scan_end


def _kept(marker: int, data: bytes) -> bool:
    if marker == _COM:
        return False
    if 0xE0 <= marker <= 0xEF:
        return any(data.startswith(name) for name in _KEPT_APPS.get(marker, ()))
    return True


def _entropy_end(content: bytes, at: int) -> int:
    """Where a scan's coded data ends: the first marker that is neither a stuffed ``FF 00`` nor
    a restart marker."""
    while True:
        found = content.find(b"\xff", at)
        if found < 0 or found + 1 >= len(content):
            raise _unreadable("the JPEG has no end")
        following = content[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            at = found + 2
            continue
        return found


def _png(content: bytes) -> bytes:
    out = bytearray(PNG_MAGIC)
    at = len(PNG_MAGIC)
    while True:
        if at + 12 > len(content):
            raise _unreadable("a PNG chunk is cut short")
        (length,) = struct.unpack(">I", content[at : at + 4])
        kind = content[at + 4 : at + 8]
        end = at + 12 + length
        if end > len(content):
            raise _unreadable("a PNG chunk runs past the file")
        if kind not in _PNG_DROPPED:
            out += content[at:end]
        at = end
        if kind == b"IEND":
            return bytes(out)
