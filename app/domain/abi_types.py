"""Pydantic types for the values contracts take, as JSON carries them: checksummed addresses,
0x-hex bytes32 and signatures, and uint256 as decimal strings (JSON readers without big integers
keep them exact). Shared by the order files of the scripts, the credit attestations and the
service's API.

Each type's rule is a pattern pydantic checks and the JSON Schema (so the OpenAPI document)
states, plus, where a pattern cannot say it all, a check the schema names by its ``format``
(an address's EIP-55 checksum): what a client reads is what the service enforces."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from eth_utils.address import to_checksum_address
from pydantic import (
    AfterValidator,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
BYTES32_PATTERN = r"^0x[0-9a-fA-F]{64}$"
# An ECDSA signature as eth_sign and EIP-712 signers give it: r, s and v, 65 bytes.
SIGNATURE_PATTERN = r"^0x[0-9a-fA-F]{130}$"
# The JSON Schema ``format`` of an address: 0x and 40 hex digits, EIP-55 checksummed if mixed case.
ADDRESS_FORMAT = "eth-address"
# The context key of a refusal made by ``coded``: the code it answers with.
CODE_CONTEXT = "answer_code"
_BYTES32 = re.compile(BYTES32_PATTERN)


@dataclass(frozen=True)
class Format:
    """A JSON Schema ``format`` naming a rule the type checks beyond its pattern (a checksum,
    a check digit), so that a client, or a generator of test data, knows of it."""

    name: str

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["format"] = self.name
        return json_schema


def coded(code: str, message: str) -> WrapValidator:
    """Refusals of the type before it, as one error of type ``code``: the code the API has always
    answered for this value (``invalid_item_id``, ``invalid_gtin``...), and ``message``
    (``{input}`` in it: the value refused). A refusal that already has this code keeps its own
    message (it says more, e.g. which check digit was expected)."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as error:
            first = error.errors()[0]
            own = first["type"] == code
            template = "{refusal}" if own else message  # a message is not a template twice
            context = {CODE_CONTEXT: code, "input": repr(value), "refusal": first["msg"]}
            raise PydanticCustomError(code, template, context) from None

    return WrapValidator(validate)


def _checksummed(value: str) -> str:
    """The address as its EIP-55 checksum; a mixed-case one must be it already (a typo in one
    digit changes the checksum, so it is caught rather than sent money)."""
    checksum = str(to_checksum_address(value))
    mixed_case = value != value.lower() and value[2:] != value[2:].upper()
    if mixed_case and value != checksum:
        raise ValueError(f"{value!r} is mixed case but not its EIP-55 checksum")
    return checksum


def bytes32_hex(value: str) -> str:
    """``value`` as lowercase 0x hex if it is 32 bytes of 0x hex; else ValueError."""
    if not _BYTES32.fullmatch(value):
        raise ValueError(f"{value!r} is not 0x followed by 64 hex digits")
    return value.lower()


Address = Annotated[
    str,
    StringConstraints(pattern=ADDRESS_PATTERN),
    AfterValidator(_checksummed),
    Format(ADDRESS_FORMAT),
]
Bytes32 = Annotated[str, StringConstraints(pattern=BYTES32_PATTERN), AfterValidator(str.lower)]
Signature = Annotated[str, StringConstraints(pattern=SIGNATURE_PATTERN), AfterValidator(str.lower)]
Uint256 = Annotated[int, Field(ge=0, lt=2**256), PlainSerializer(str, return_type=str)]


def hex32(value: bytes) -> str:
    """A bytes32 as lowercase 0x hex."""
    return "0x" + bytes(value).hex()


def from_hex(text: str) -> bytes:
    """0x hex (or bare hex) as bytes; ValueError if it is not hex."""
    return bytes.fromhex(text.removeprefix("0x"))


def address_topic(address: str) -> str:
    """An indexed address parameter as a log topic: the address left-padded to 32 bytes."""
    return "0x" + bytes(12).hex() + address.removeprefix("0x").lower()
