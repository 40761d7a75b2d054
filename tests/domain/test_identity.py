"""app.domain.identity: the keyed commitment that names a legal person on chain."""

from __future__ import annotations

import hashlib
import hmac
import sys
import unicodedata

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.identity import (
    DEV_IDENTITY_KEY,
    IDENTIFIER_PATTERN,
    REMOVED,
    SEPARATOR_FORMS,
    identity_commitment,
    normalize_identifier,
    parse_identity_key,
)

KEY = bytes(range(32))


def test_commitment_is_hmac_sha256_of_the_normalized_identifier() -> None:
    expected = hmac.new(KEY, b"CN91310000MA1K", hashlib.sha256).digest()
    assert identity_commitment("cn-9131 0000 mA1K", KEY) == expected


def test_the_same_identifier_typed_differently_gives_one_commitment() -> None:
    forms = ["CN91310000MA1K", "cn 9131.0000-ma1k", "\uff23\uff2e91310000MA1K"]  # full-width CN
    assert len({identity_commitment(form, KEY) for form in forms}) == 1


def test_another_key_or_identifier_gives_another_commitment() -> None:
    base = identity_commitment("CN91310000MA1K", KEY)
    assert identity_commitment("CN91310000MA1K", DEV_IDENTITY_KEY) != base
    assert identity_commitment("CN91310000MA1L", KEY) != base


@pytest.mark.parametrize("identifier", ["", "  ", " - . "])
def test_an_empty_identifier_is_refused(identifier: str) -> None:
    with pytest.raises(ValueError, match="legal identifier"):
        normalize_identifier(identifier)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        identity_commitment("CN91310000MA1K", b"short")


def test_parse_identity_key_takes_hex_with_or_without_0x() -> None:
    assert parse_identity_key("0x" + KEY.hex()) == KEY
    assert parse_identity_key(f"  {KEY.hex()}\n") == KEY


@pytest.mark.parametrize(("text", "message"), [("0xzz", "hex"), ("0x" + "ab" * 8, "16 bytes")])
def test_parse_identity_key_refuses_bad_keys(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_identity_key(text)


# What a generated client (and the API fuzzer) holds the documented pattern to: ECMA-262 regex.
IDENTIFIERS = jsonschema_rs.Draft202012Validator({"type": "string", "pattern": IDENTIFIER_PATTERN})


def test_what_normalization_removes_is_space_dots_dashes_and_format_characters() -> None:
    removed = {
        c
        for c in map(chr, range(sys.maxunicode + 1))
        if c.isspace() or c in ".-\u2212" or unicodedata.category(c) in ("Pd", "Cf")
    }
    assert set(REMOVED) == removed
    assert not set(SEPARATOR_FORMS) & set("[]\\^")  # nothing the pattern's class must escape


def test_the_separator_forms_are_every_character_whose_nfkc_form_is_separators_alone() -> None:
    removed = frozenset(REMOVED)
    forms = {
        c
        for c in map(chr, range(sys.maxunicode + 1))
        if (normal := unicodedata.normalize("NFKC", c)) and removed.issuperset(normal)
    }
    assert set(SEPARATOR_FORMS) == forms


@pytest.mark.parametrize(
    "typed",
    [
        "CN\u201091310000MA1K",  # HYPHEN
        "CN\u201391310000MA1K",  # EN DASH
        "CN\u221291310000MA1K",  # MINUS SIGN
        "CN\u200b91310000\u00adMA1K",  # ZERO WIDTH SPACE, SOFT HYPHEN
        "\ufeffCN91310000MA1K\u2060",  # BYTE ORDER MARK, WORD JOINER
    ],
)
def test_dashes_and_invisible_characters_make_no_other_identifier(typed: str) -> None:
    """Copied from a web page or a phone, an identifier may carry them: one person, one line."""
    assert identity_commitment(typed, KEY) == identity_commitment("CN-91310000-MA1K", KEY)


@pytest.mark.parametrize("identifier", ["\x1f", "\x85", "\uff0e\uff0d", "\u2026 \u3000"])
def test_what_python_but_not_ecma_counts_as_space_is_a_separator_to_both(identifier: str) -> None:
    """The fuzzer's find: U+001F matched a pattern written with ECMA's ``\\s`` yet normalized
    to nothing in Python. Spelled out, the pattern refuses what normalization would empty."""
    assert not IDENTIFIERS.is_valid(identifier)
    with pytest.raises(ValueError, match="legal identifier"):
        normalize_identifier(identifier)


# Lone surrogates excluded: no UTF-8 body carries one, and the validator cannot take one.
@given(
    st.text(
        st.sampled_from(SEPARATOR_FORMS) | st.characters(exclude_categories=("Cs",)), max_size=12
    )
)
def test_the_documented_pattern_admits_exactly_what_normalizes_to_something(text: str) -> None:
    try:
        normalize_identifier(text)
        normalizes = True
    except ValueError:
        normalizes = False
    assert IDENTIFIERS.is_valid(text) == normalizes


def test_a_removed_character_between_a_letter_and_its_mark_leaves_them_one_letter() -> None:
    assert normalize_identifier("CAFE\u00ad\u0301") == normalize_identifier("CAF\u00c9")
