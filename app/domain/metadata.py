"""Canonical JSON for item and batch metadata, and the hash the registry stores.

An item's ``metadataHash`` is ``keccak256(canonical_json(metadata))``. The canonical form follows
RFC 8785 (JSON Canonicalization Scheme), so a JavaScript or Go client gets the same bytes:

* object keys sorted by their UTF-16 code units, no whitespace, UTF-8 output;
* strings escaped as ECMAScript's ``JSON.stringify`` does (only ``"``, ``\\`` and control
  characters; ``\\b \\f \\n \\r \\t`` short forms, other controls as lowercase ``\\u00xx``);
* numbers in ECMAScript's shortest round-trip form (``4.5``, ``1e+30``, ``0.002``, ``1e-27``);
  integers must lie in IEEE-754's exact range (|n| < 2**53): put larger ones in strings;
* ``NaN`` and infinities are rejected, and so are object keys that are not strings.

Decimal amounts such as prices are best written as strings ("19.99") by the merchant: every
language then hashes the very same characters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from eth_utils.crypto import keccak

from app.domain.errors import TrustMallError

MAX_SAFE_INTEGER = 2**53 - 1


class NotCanonicalizable(TrustMallError, ValueError):
    """A value has no canonical JSON form (NaN, an infinity, a huge integer, a bad key...)."""


def canonical_json(obj: Any) -> bytes:
    """The RFC 8785 canonical JSON of ``obj``, as UTF-8 bytes."""
    parts: list[str] = []
    _write(obj, parts, "$")
    return "".join(parts).encode("utf-8")


def metadata_hash(obj: Any) -> bytes:
    """``keccak256`` of the canonical JSON of ``obj``: the ``metadataHash`` the registry keeps."""
    return keccak(canonical_json(obj))


def loads_strict(text: str) -> Any:
    """Parses JSON text, rejecting duplicate object keys and NaN/Infinity literals."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise NotCanonicalizable(f"duplicate object key {key!r}")
            result[key] = value
        return result

    def no_constant(name: str) -> Any:
        raise NotCanonicalizable(f"{name} is not valid JSON")

    return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)


def _write(value: Any, out: list[str], path: str) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise NotCanonicalizable(
                f"{path}: integer {value} is outside IEEE-754's exact range; write it as a string"
            )
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value, path))
    elif isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise NotCanonicalizable(f"{path}: object key {key!r} is not a string")
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_key)):
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _write(value[key], out, f"{path}.{key}")
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out, f"{path}[{i}]")
        out.append("]")
    else:
        raise NotCanonicalizable(f"{path}: {type(value).__name__} has no JSON form")


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _number(value: float, path: str) -> str:
    """ECMAScript's Number::toString for a finite double (RFC 8785, section 3.2.2.3)."""
    if not math.isfinite(value):
        raise NotCanonicalizable(f"{path}: {value} has no JSON form")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, as ECMAScript does; split them out.
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # n: the position of the decimal point relative to the first significant digit.
    point = len(int_part) + int(exp_text or 0)
    leading_zeros = len(int_part + frac_part) - len((int_part + frac_part).lstrip("0"))
    point -= leading_zeros
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    n = point
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        exponent = n - 1
        exp_sign = "+" if exponent >= 0 else "-"
        head = digits[0] if k == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{head}e{exp_sign}{abs(exponent)}"
    return sign + text
