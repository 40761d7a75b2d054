"""Small JPEG and PNG files as phones write them: the picture's segments, plus the metadata a
shopper should not hand over (EXIF with a GPS position, text, a second image with its own EXIF)."""

from __future__ import annotations

import struct
import zlib

GPS = b"GPSLatitude 51.5007 N GPSLongitude 0.1246 W"


def _segment(marker: int, data: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(data) + 2) + data


def jpeg(*, exif: bool = True, trailing: bytes = b"", padding: int = 0) -> bytes:
    """SOI, JFIF, (EXIF with GPS), a comment, a quantisation table, a scan whose coded data holds
    a stuffed FF 00 and a restart marker, EOI, then ``trailing`` (a second image's EXIF)."""
    parts = [b"\xff\xd8", _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")]
    if exif:
        parts.append(_segment(0xE1, b"Exif\x00\x00" + GPS))
    parts += [
        _segment(0xFE, b"shot on Phone X by Jane"),
        _segment(0xDB, b"\x00" + bytes(range(64))),
        _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
        b"\x12\x34\xff\x00\x56\xff\xd0\x78" + b"\x11" * padding,
        b"\xff\xd9",
        trailing,
    ]
    return b"".join(parts)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(*, text: bool = True) -> bytes:
    """A 1x1 PNG, with a text chunk (where a location was typed) and an eXIf chunk."""
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    parts = [
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)),
    ]
    if text:
        parts += [_chunk(b"tEXt", b"Location\x00" + GPS), _chunk(b"eXIf", b"MM\x00*" + GPS)]
    parts += [_chunk(b"IDAT", pixels), _chunk(b"IEND", b"")]
    return b"".join(parts)
