"""Pydantic types for the values contracts take, as JSON carries them: checksummed addresses,
0x-hex bytes32 and uint256 as decimal strings (JSON readers without big integers keep them exact).
Shared by the order files of the scripts and the credit attestations of the service."""

from __future__ import annotations

import re
from typing import Annotated

from eth_utils.address import to_checksum_address
from pydantic import AfterValidator, Field, PlainSerializer

_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _address(value: str) -> str:
    """``value`` as its EIP-55 checksum if it is 0x and 40 hex digits, all in one case or in
    mixed case that is its checksum; else ValueError. A wrong checksum is a mistyped address
    (eth-utils 5's ``is_address`` no longer checks it, so it is checked here)."""
    if not _HEX_ADDRESS.fullmatch(value):
        raise ValueError(f"{value!r} is not an address: 0x followed by 40 hex digits")
    checksum = str(to_checksum_address(value))
    mixed = value[2:] not in (value[2:].lower(), value[2:].upper())
    if mixed and value != checksum:
        raise ValueError(f"{value!r} is not an EIP-55 checksum (that is {checksum})")
    return checksum


def bytes32_hex(value: str) -> str:
    """``value`` as lowercase 0x hex if it is 32 bytes of 0x hex; else ValueError."""
    text = value.lower()
    if len(text) != 66 or not text.startswith("0x"):
        raise ValueError(f"{value!r} is not 0x followed by 64 hex digits")
    bytes.fromhex(text[2:])
    return text


Address = Annotated[str, AfterValidator(_address)]
Bytes32 = Annotated[str, AfterValidator(bytes32_hex)]
Uint256 = Annotated[int, Field(ge=0, lt=2**256), PlainSerializer(str, return_type=str)]


def hex32(value: bytes) -> str:
    """A bytes32 as lowercase 0x hex."""
    return "0x" + bytes(value).hex()


def from_hex(text: str) -> bytes:
    """0x hex (or bare hex) as bytes; ValueError if it is not hex."""
    return bytes.fromhex(text.removeprefix("0x"))
