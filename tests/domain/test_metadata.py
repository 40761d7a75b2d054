"""Canonical metadata JSON (RFC 8785) and the metadata hash the registry keeps."""

from __future__ import annotations

import math

import pytest
from eth_utils.crypto import keccak

from app.domain.metadata import NotCanonicalizable, canonical_json, loads_strict, metadata_hash


def test_canonical_json_matches_the_rfc_8785_example() -> None:
    # RFC 8785, section 3.2.2: input with mixed number forms and escapes.
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(loads_strict(source)) == expected.encode("utf-8")


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (100.0, "100"),
        (-1.5, "-1.5"),
        (1e16, "10000000000000000"),
        (1e21, "1e+21"),
        (1.2345678901234568e20, "123456789012345680000"),
        (1e-6, "0.000001"),
        (1.5e-7, "1.5e-7"),
        (5e-324, "5e-324"),
        (123.456, "123.456"),
    ],
)
def test_canonical_json_writes_numbers_as_ecmascript_does(number: float, text: str) -> None:
    assert canonical_json(number) == text.encode()


def test_canonical_json_sorts_keys_by_utf16_code_units_without_whitespace() -> None:
    # U+E000 sorts after U+1F600 in UTF-16 (0xE000 > 0xD83D) but before it in code points.
    value = {"b": [1, {"z": 1, "a": 2}], "a": "é", "\ue000": 1, "\U0001f600": 2}
    assert canonical_json(value) == '{"a":"é","b":[1,{"a":2,"z":1}],"😀":2,"\ue000":1}'.encode()


@pytest.mark.parametrize("value", [math.nan, math.inf, 2**53, {1: "x"}, {"b": b"bytes"}], ids=repr)
def test_canonical_json_rejects_values_without_a_portable_form(value: object) -> None:
    with pytest.raises(NotCanonicalizable):
        canonical_json(value)


def test_loads_strict_rejects_duplicate_keys() -> None:
    with pytest.raises(NotCanonicalizable, match="duplicate object key 'a'"):
        loads_strict('{"a": 1, "a": 2}')


def test_metadata_hash_is_keccak_of_the_canonical_json_regardless_of_key_order() -> None:
    assert metadata_hash({"name": "Mug", "price": "9.50"}) == keccak(
        b'{"name":"Mug","price":"9.50"}'
    )
    assert metadata_hash({"price": "9.50", "name": "Mug"}) == metadata_hash(
        {"name": "Mug", "price": "9.50"}
    )
