"""Item ids, computed exactly as `contracts/registry/ItemIds.sol` does.

Two ways to name an item:

* by its merchant's SKU and serial: ``keccak256(abi.encode(merchant, sku, serial))``;
* by GS1 GTIN (application identifier 01) and serial (21), as on a GS1 Digital Link label:
  ``keccak256(abi.encode("gs1", gtin14, serial))``, the GTIN left-padded with zeros to 14 digits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

from app.domain.abi_types import Format, coded
from app.domain.errors import InvalidGtin, InvalidSerial
from app.domain.vocab import IdScheme

GTIN_LENGTHS = (8, 12, 13, 14)
GTIN_PATTERN = "^(?:" + "|".join(f"[0-9]{{{length}}}" for length in GTIN_LENGTHS) + ")$"
# The JSON Schema ``format`` of a GTIN: its digits end in the GS1 check digit.
GTIN_FORMAT = "gtin"
MAX_SERIAL_LENGTH = 20
# GS1 General Specifications, figure 7.11-1: character set 82.
CHARACTER_SET_82 = r"""[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]"""
# A serial (AI 21), lot (10) or consumer product variant (22): 1 to 20 characters of set 82.
GS1_TEXT_PATTERN = f"^{CHARACTER_SET_82}{{1,{MAX_SERIAL_LENGTH}}}$"
_GTIN = re.compile(GTIN_PATTERN)
_GS1_TEXT = re.compile(GS1_TEXT_PATTERN)
# The refusals' codes and words, the API's (a carrier's event) and the scripts' alike.
GTIN_CODE, SERIAL_CODE = "invalid_gtin", "invalid_serial"
_NOT_A_GTIN = "GTIN must be 8, 12, 13 or 14 digits, got {input}"
_NOT_A_SERIAL = (
    f"GS1 serial must be 1-{MAX_SERIAL_LENGTH} characters of GS1 character set 82, got {{input}}"
)


def item_id_from_sku(merchant: str, sku: str, serial: str) -> bytes:
    """The id of an item named by its merchant's SKU and serial."""
    return keccak(
        encode(["address", "string", "string"], [to_checksum_address(merchant), sku, serial])
    )


def normalize_gtin(gtin: str) -> str:
    """A GTIN-8/12/13/14 as 14 digits, after checking its digits and check digit."""
    if not _GTIN.fullmatch(gtin):
        raise InvalidGtin(_NOT_A_GTIN.format(input=repr(gtin)))
    padded = gtin.zfill(14)
    weighted = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(padded[:13]))
    expected = (10 - weighted % 10) % 10
    if expected != int(padded[13]):
        raise InvalidGtin(
            f"GTIN {gtin!r} has a wrong check digit: it ends in {gtin[-1]}, the digits before "
            f"it give {expected} ({gtin[:-1]}{expected})"
        )
    return padded


def in_character_set_82(value: str) -> bool:
    """Whether ``value`` is 1 to 20 characters of GS1 character set 82 (the serial, lot and
    variant application identifiers 21, 10 and 22 alike)."""
    return _GS1_TEXT.fullmatch(value) is not None


def validate_serial(serial: str) -> str:
    """The serial itself, if it is 1-20 characters of GS1 character set 82."""
    if not in_character_set_82(serial):
        raise InvalidSerial(_NOT_A_SERIAL.format(input=repr(serial)))
    return serial


def _gtin14(value: str) -> str:
    try:
        return normalize_gtin(value)
    except InvalidGtin as error:
        raise PydanticCustomError(GTIN_CODE, "{refusal}", {"refusal": str(error)}) from None


# A GTIN as given (its digits, then its check digit checked), as GTIN-14.
Gtin = Annotated[
    str,
    StringConstraints(pattern=GTIN_PATTERN),
    AfterValidator(_gtin14),
    Format(GTIN_FORMAT),
    coded(GTIN_CODE, _NOT_A_GTIN),
]
# A serial, lot or variant as a GS1 Digital Link carries it (decoded).
Gs1Text = Annotated[str, StringConstraints(pattern=GS1_TEXT_PATTERN)]
Gs1Serial = Annotated[Gs1Text, coded(SERIAL_CODE, _NOT_A_SERIAL)]


def item_id_from_gs1(gtin: str, serial: str) -> bytes:
    """The id of an item named by GTIN and serial (GS1 Digital Link ``/01/{gtin}/21/{serial}``)."""
    gtin14 = normalize_gtin(gtin)
    return keccak(abi_encode_strings("gs1", gtin14, validate_serial(serial)))


def abi_encode_strings(*values: str) -> bytes:
    """Solidity's ``abi.encode`` of strings only: a head of offsets, then each string's length and
    its UTF-8 bytes padded to 32. Every scan of a label derives an id so, and eth_abi's general
    encoder cost a fifth of the resolver's request."""
    head, tail = bytearray(), bytearray()
    offset = 32 * len(values)
    for value in values:
        data = value.encode()
        part = len(data).to_bytes(32, "big") + data + bytes(-len(data) % 32)
        head += offset.to_bytes(32, "big")
        tail += part
        offset += len(part)
    return bytes(head + tail)


def gs1_digital_link_path(gtin: str, serial: str) -> str:
    """The path of a GS1 Digital Link URI naming the item, e.g. ``/01/09506000134352/21/A1``.

    Set 82 allows URI delimiters such as ``/``, ``?``, ``%`` and ``&`` in a serial, so the serial
    is percent-encoded: every character but letters, digits and ``-._`` (the GS1 Digital Link
    standard asks for this encoding; decoding gives the serial back).
    """
    return f"/01/{normalize_gtin(gtin)}/21/{quote(validate_serial(serial), safe='')}"


def item_key(scheme: IdScheme, code: str, serial: str) -> tuple[int, str, str]:
    """``IProductRegistry.ItemKey`` as a contract call takes it: the registry derives the id from
    it (a SKU under the registering merchant, a GTIN under a prefix granted to it)."""
    if scheme is IdScheme.GS1:
        normalize_gtin(code)
        validate_serial(serial)
    return (int(scheme), code, serial)


def item_id_of_key(merchant: str, scheme: IdScheme, code: str, serial: str) -> bytes:
    """The id the registry derives from an item key for ``merchant``."""
    if scheme is IdScheme.GS1:
        return item_id_from_gs1(code, serial)
    return item_id_from_sku(merchant, code, serial)


GS1_PREFIX_LENGTHS = range(4, 13)


def gs1_company_prefixes(gtin: str) -> list[str]:
    """Every GS1 company prefix a GTIN could lie under, shortest first: digits 2..(L+1) of its
    GTIN-14 for L = 4..12, as the registry's ``grantGs1Prefix`` takes them (GTIN 09506000134352
    lies under "9506", "95060", ..., "950600013435")."""
    gtin14 = normalize_gtin(gtin)
    return [gtin14[1 : 1 + length] for length in GS1_PREFIX_LENGTHS]


def manifest_item_key(item: Mapping[str, Any]) -> tuple[IdScheme, str, str] | None:
    """The key of a batch manifest's item (``sku`` or ``gtin``, and ``serial``), as
    ``activateBatchItem`` and ``verifyBatchItem`` take it; None when the item does not name one."""
    serial, sku, gtin = item.get("serial"), item.get("sku"), item.get("gtin")
    if not isinstance(serial, str) or (sku is None) == (gtin is None):
        return None
    if isinstance(gtin, str):
        return IdScheme.GS1, gtin, serial
    if isinstance(sku, str):
        return IdScheme.SKU, sku, serial
    return None
