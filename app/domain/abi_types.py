"""Pydantic types for the values contracts take, as JSON carries them: checksummed addresses,
0x-hex bytes32 and uint256 as decimal strings (JSON readers without big integers keep them exact).
Shared by the order files of the scripts and the credit attestations of the service."""

from __future__ import annotations

from typing import Annotated

from eth_utils.address import is_address, to_checksum_address
from pydantic import AfterValidator, Field, PlainSerializer


def _address(value: str) -> str:
    if not is_address(value):
        raise ValueError(f"{value!r} is not an address")
    return str(to_checksum_address(value))


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
