"""Identity commitments: how a legal person is named on chain without being revealed.

A merchant's owner (``ProductRegistry.approveMerchant``'s ``identityHash``) and a borrower (the
credit attestation's ``identityHash``) are named by the same commitment, so the credit lines can
bind one identity to one line and refuse to pay a shop that the borrower owns. The commitment is
``HMAC-SHA256(identity key, normalized legal identifier)``: a plain hash of a national id or a
company registration number could be reversed by trying every number, a keyed one cannot without
the key. The key is the platform's (the verifiers and the attesting service share it); it never
goes on chain.

Normalization makes the same identifier give the same commitment however it is typed: Unicode
NFKC, case folded, every run of whitespace, dots and dashes removed (``"cn-9131 0000 mA1K"`` and
``"CN91310000MA1K"`` are one identifier).
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
# What normalization removes: whitespace (as Python's ``str.isspace`` counts it), dots, dashes.
_SEPARATORS = re.compile(r"[\s.\-]+")
# Every character whose NFKC form is separators alone: the separators themselves and their
# compatibility forms (U+2024 ONE DOT LEADER, U+FF0E FULLWIDTH FULL STOP, ...). An identifier made
# only of these normalizes to nothing. Spelled out, not written ``\s``: ECMA-262's ``\s`` (the
# documented pattern's dialect) and Python's count different characters (U+001C-U+001F, U+0085),
# and the pattern must mean the same to every engine. A test recomputes the set from Unicode.
SEPARATOR_FORMS = "".join(
    map(
        chr,
        [
            *range(0x09, 0x0E),
            *range(0x1C, 0x21),
            0x2D,
            0x2E,
            0x85,
            0xA0,
            0x1680,
            *range(0x2000, 0x200B),
            *range(0x2024, 0x2027),
            0x2028,
            0x2029,
            0x202F,
            0x205F,
            0x3000,
            0xFE19,
            0xFE30,
            0xFE52,
            0xFE63,
            0xFF0D,
            0xFF0E,
        ],
    )
)
# What an identifier holds besides separators, as a JSON Schema (search) pattern states it: a
# character outside SEPARATOR_FORMS, the dash last in the class so that no engine reads a range.
IDENTIFIER_PATTERN = "[^" + SEPARATOR_FORMS.replace("-", "") + "-]"


def normalize_identifier(identifier: str) -> str:
    """The identifier as committed to: NFKC, upper case, no spaces, dots or dashes."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", identifier)).upper()
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
