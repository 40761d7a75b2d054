"""Identity commitments: how a legal person is named on chain without being revealed.

A merchant's owner (``ProductRegistry.approveMerchant``'s ``identityHash``) and a borrower (the
credit attestation's ``identityHash``) are named by the same commitment, so the credit lines can
bind one identity to one line and refuse to pay a shop that the borrower owns. The commitment is
``HMAC-SHA256(identity key, normalized legal identifier)``: a plain hash of a national id or a
company registration number could be reversed by trying every number, a keyed one cannot without
the key. The key is the platform's (the verifiers and the attesting service share it); it never
goes on chain.

Normalization makes the same identifier give the same commitment however it is typed: Unicode
NFKC, case folded, every run of whitespace, dots, dashes and invisible format characters removed
(``"cn-9131 0000 mA1K"``, ``"CN\u201091310000MA1K"`` and ``"CN91310000MA1K"`` are one
identifier).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from eth_utils.crypto import keccak

KEY_BYTES_MIN = 16
# A fixed key for local devnets and tests only: commitments made with it protect nothing.
DEV_IDENTITY_KEY = keccak(text="trustmall dev identity key: never use outside a local devnet")


def _characters(ranges: list[tuple[int, int]]) -> str:
    return "".join(chr(point) for low, high in ranges for point in range(low, high + 1))


# What normalization removes, after NFKC: whitespace (as Python's ``str.isspace`` counts it), dots,
# every dash (Unicode's dash punctuation, and U+2212 MINUS SIGN) and every format character
# (zero-width spaces and joiners, the soft hyphen, the byte order mark, bidirectional controls,
# tags): characters a copy from a web page or a phone may slip in, which would otherwise make
# "CN\u201091310000" another identifier than "CN-91310000". Spelled out, not written ``\s`` or
# ``\p{Pd}``: ECMA-262's ``\s`` (the documented pattern's dialect) and Python's count different
# characters (U+001C-U+001F, U+0085), Python's ``re`` has no ``\p``, and the pattern must mean the
# same to every engine. A test recomputes the set from Unicode.
REMOVED = _characters(
    [
        (0x09, 0x0D), (0x1C, 0x20), (0x2D, 0x2E), (0x85, 0x85), (0xA0, 0xA0), (0xAD, 0xAD),
        (0x58A, 0x58A), (0x5BE, 0x5BE), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD),
        (0x70F, 0x70F), (0x890, 0x891), (0x8E2, 0x8E2), (0x1400, 0x1400), (0x1680, 0x1680),
        (0x1806, 0x1806), (0x180E, 0x180E), (0x2000, 0x2015), (0x2028, 0x202F),
        (0x205F, 0x2064), (0x2066, 0x206F), (0x2212, 0x2212), (0x2E17, 0x2E17),
        (0x2E1A, 0x2E1A), (0x2E3A, 0x2E3B), (0x2E40, 0x2E40), (0x2E5D, 0x2E5D),
        (0x3000, 0x3000), (0x301C, 0x301C), (0x3030, 0x3030), (0x30A0, 0x30A0),
        (0xFE31, 0xFE32), (0xFE58, 0xFE58), (0xFE63, 0xFE63), (0xFEFF, 0xFEFF),
        (0xFF0D, 0xFF0D), (0xFFF9, 0xFFFB), (0x10EAD, 0x10EAD), (0x110BD, 0x110BD),
        (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001), (0xE0020, 0xE007F),
    ]
)  # fmt: skip
# Every character whose NFKC form is removed characters alone: those and their compatibility
# forms (U+2024 ONE DOT LEADER, U+FF0E FULLWIDTH FULL STOP, ...). An identifier made only of these
# normalizes to nothing.
SEPARATOR_FORMS = REMOVED + _characters(
    [(0x2024, 0x2026), (0x207B, 0x207B), (0x208B, 0x208B), (0xFE19, 0xFE19), (0xFE30, 0xFE30),
     (0xFE52, 0xFE52), (0xFF0E, 0xFF0E)]
)  # fmt: skip


def _class(characters: str) -> str:
    """The characters as the inside of a regular expression's class: the dash last, so that no
    engine reads a range (no other character there needs escaping: a test checks)."""
    return characters.replace("-", "") + "-"


_SEPARATORS = re.compile("[" + _class(REMOVED) + "]+")
# What an identifier holds besides separators, as a JSON Schema (search) pattern states it: a
# character outside SEPARATOR_FORMS. Some lie outside the Basic Multilingual Plane: an ECMA-262
# engine reads the pattern rightly with the ``u`` flag (without it, only stricter).
IDENTIFIER_PATTERN = "[^" + _class(SEPARATOR_FORMS) + "]"


def normalize_identifier(identifier: str) -> str:
    """The identifier as committed to: NFKC, upper case, no spaces, dots, dashes or format
    characters (``REMOVED``)."""
    # NFKC again: a removed character between a letter and its combining mark kept them apart.
    kept = _SEPARATORS.sub("", unicodedata.normalize("NFKC", identifier))
    text = unicodedata.normalize("NFKC", kept).upper()
    if not text:
        raise ValueError("a legal identifier is needed (a national id or a registration number)")
    return text


def identity_commitment(identifier: str, key: bytes) -> bytes:
    """The 32-byte commitment to a legal identifier under the platform's identity key."""
    if len(key) < KEY_BYTES_MIN:
        raise ValueError(f"the identity key must be at least {KEY_BYTES_MIN} bytes")
    text = normalize_identifier(identifier).encode()
    return hmac.new(key, text, hashlib.sha256).digest()


def parse_identity_key(text: str) -> bytes:
    """An identity key given as 0x-hex (at least 16 bytes)."""
    value = text.strip()
    if value.startswith("0x"):
        value = value[2:]
    try:
        key = bytes.fromhex(value)
    except ValueError:
        raise ValueError("the identity key must be hex") from None
    if len(key) < KEY_BYTES_MIN:
        raise ValueError(f"the identity key must be at least {KEY_BYTES_MIN} bytes")
    return key
