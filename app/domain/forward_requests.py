"""A merchant's signed request: an ERC-2771 ``ForwardRequest`` (OpenZeppelin's
``ERC2771Forwarder``, deployed as ``TrustMallForwarder``) signed with EIP-712 by the merchant's own
key, which the service relays and pays for. The forwarder checks it again on chain: signer, nonce
(sequential per signer) and deadline; the target contract applies every rule to the signer as to
a direct caller.

One home for what a request is, how it is signed and what a merchant may ask through the service:
the service checks requests with it, ``ape run merchant register --via-service`` signs with it,
and the examples' clients follow the same typed data.

Checking a request is on the service's hot path: its EIP-712 hash is computed here from the fields
(the domain's separator once per domain), as the forwarder computes it, not through the generic
typed-data encoder (which signing keeps using); the signature is accepted as the forwarder's
ECDSA accepts it (OpenZeppelin's: 65 bytes, v 27 or 28, s in the lower half of the order), so
that a signature the forwarder would refuse is refused before the service promises to relay it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_abi.grammar import parse
from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_keys.datatypes import Signature
from eth_keys.exceptions import BadSignature
from eth_utils.abi import collapse_if_tuple
from eth_utils.address import to_canonical_address, to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError
from pydantic import StringConstraints

# The forwarder's EIP-712 name (contracts/common/TrustMallForwarder.sol) and OpenZeppelin's version.
DOMAIN_NAME = "TrustMall"
DOMAIN_VERSION = "1"
FORWARDER = "TrustMallForwarder"
PRIMARY_TYPE = "ForwardRequest"
TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    PRIMARY_TYPE: [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "gas", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint48"},
        {"name": "data", "type": "bytes"},
    ],
}
# ERC2771Forwarder.executeBatch's element: ForwardRequestData (the nonce is the forwarder's own).
REQUEST_DATA_TYPE = "(address,address,uint256,uint256,uint48,bytes,bytes)"


def _type_hash(name: str) -> bytes:
    fields = ",".join(f"{field['type']} {field['name']}" for field in TYPES[name])
    return keccak(text=f"{name}({fields})")


DOMAIN_TYPE_HASH = _type_hash("EIP712Domain")
REQUEST_TYPE_HASH = _type_hash(PRIMARY_TYPE)
# secp256k1's group order: OpenZeppelin's ECDSA refuses s above half of it (the malleable twin of a
# signature), as EIP-2 does for transactions.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# What a merchant may ask the service to relay, by contract: its own catalogue, trail and
# shipments. Every other function stays a direct call (the service pays gas only for a merchant's
# own work). Signatures and selectors come from each contract's ABI.
RELAYED_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "ProductRegistry": (
        "registerItem",
        "registerItems",
        "registerBatch",
        "activateBatchItems",
        "recordCustody",
        "recallItem",
        "recallBatch",
    ),
    "OrderEscrow": ("assignCarrier", "ship"),
}


@dataclass(frozen=True)
class Domain:
    """The forwarder's EIP-712 domain on one chain."""

    chain_id: int
    forwarder: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.forwarder),
        }

    @cached_property
    def separator(self) -> bytes:
        """The EIP-712 domain separator (the forwarder's ``_domainSeparatorV4()``)."""
        return keccak(
            DOMAIN_TYPE_HASH
            + keccak(text=DOMAIN_NAME)
            + keccak(text=DOMAIN_VERSION)
            + self.chain_id.to_bytes(32, "big")
            + _word(self.forwarder)
        )


@dataclass(frozen=True)
class ForwardRequest:
    """What the merchant signs; ``data`` is the target's calldata (selector and arguments)."""

    sender: str
    to: str
    value: int
    gas: int
    nonce: int
    deadline: int
    data: bytes

    @property
    def charged_gas(self) -> int:
        """What relaying it costs the service beyond the forwarder's own work: the gas signed
        for the call and its calldata's, which the relayer pays whatever the call does with it."""
        return self.gas + calldata_gas(self.data)

    def message(self) -> dict[str, Any]:
        return {
            "from": to_checksum_address(self.sender),
            "to": to_checksum_address(self.to),
            "value": self.value,
            "gas": self.gas,
            "nonce": self.nonce,
            "deadline": self.deadline,
            "data": self.data,
        }

    def typed_data(self, domain: Domain) -> dict[str, Any]:
        """The EIP-712 typed data (``eth_signTypedData_v4``'s argument)."""
        return {
            "types": TYPES,
            "primaryType": PRIMARY_TYPE,
            "domain": domain.as_dict(),
            "message": self.message(),
        }

    def signable(self, domain: Domain) -> SignableMessage:
        return encode_typed_data(full_message=self.typed_data(domain))

    def struct_hash(self) -> bytes:
        """``hashStruct(ForwardRequest)`` of EIP-712."""
        return keccak(
            REQUEST_TYPE_HASH
            + _word(self.sender)
            + _word(self.to)
            + self.value.to_bytes(32, "big")
            + self.gas.to_bytes(32, "big")
            + self.nonce.to_bytes(32, "big")
            + self.deadline.to_bytes(32, "big")
            + keccak(self.data)
        )

    def digest(self, domain: Domain) -> bytes:
        """The EIP-712 hash the signature covers: unique per signer, nonce and content."""
        return keccak(b"\x19\x01" + domain.separator + self.struct_hash())

    def signer(self, domain: Domain, signature: bytes) -> str | None:
        """The address that signed this request under ``domain``, or None if the forwarder would
        not accept the signature (see the module). A signature over other fields or another
        domain recovers another address."""
        return recover(self.digest(domain), signature)

    def signed_by(self, key: Any, domain: Domain) -> bytes:
        """The signature of ``key`` (a private key, or an eth_account local account) over this
        request."""
        private_key = getattr(key, "key", key)
        return bytes(Account.sign_message(self.signable(domain), private_key).signature)

    def request_data(self, signature: bytes) -> tuple[Any, ...]:
        """``ERC2771Forwarder.ForwardRequestData`` for ``execute`` and ``executeBatch``."""
        return (
            to_checksum_address(self.sender),
            to_checksum_address(self.to),
            self.value,
            self.gas,
            self.deadline,
            self.data,
            signature,
        )

    def as_json(self, chain_id: int, signature: bytes) -> dict[str, Any]:
        """The body of ``POST /v1/merchant/requests``."""
        return {
            "chainId": chain_id,
            "from": to_checksum_address(self.sender),
            "to": to_checksum_address(self.to),
            "value": str(self.value),
            "gas": str(self.gas),
            "nonce": str(self.nonce),
            "deadline": self.deadline,
            "data": "0x" + self.data.hex(),
            "signature": "0x" + signature.hex(),
        }


def recover(digest: bytes, signature: bytes) -> str | None:
    """The signer of ``digest`` as OpenZeppelin's ``ECDSA.tryRecover`` finds it, or None where it
    reports an error (length, s in the upper half, v not 27 or 28, no key recovered)."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        return None
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
    if s > SECP256K1_N // 2:
        return None
    try:
        found = Signature(vrs=(signature[64] - 27, r, s))
        return str(found.recover_public_key_from_msg_hash(digest).to_checksum_address())
    except (BadSignature, ValidationError):
        return None


# The calldata a relayed request may carry: registerItems of 100 items with URIs of up to ~590
# characters (what ``ape run merchant register --via-service`` sends at most). A batch of requests
# must fit one transaction under the 128 KiB that geth and the clients built on it take into their
# pools (a larger one is refused before it is mined, and the relayer's later transactions wait
# behind its nonce): the relay bounds a batch's bytes (``MAX_BATCH_DATA``), one such request alone.
MAX_REQUEST_DATA = 96 * 1024
MAX_BATCH_DATA = 120_000
# Bytes of ``executeBatch``'s calldata a request takes beyond its own data: its struct's words,
# the offsets to it and to its data, and its signature (65 bytes padded to 96, with its length).
BATCH_BYTES_PER_REQUEST = 12 * 32


def calldata_gas(data: bytes) -> int:
    """What ``data`` costs as calldata of a transaction (EIP-2028: 16 gas a non-zero byte, 4 a
    zero one)."""
    zeros = data.count(0)
    return 16 * (len(data) - zeros) + 4 * zeros


def is_canonical_call(signature: str, data: bytes) -> bool:
    """Whether ``data`` is the selector of ``signature`` (``name(types)``) and the standard ABI
    encoding of arguments, and nothing more. The target decodes what it needs and ignores the
    rest: bytes after the arguments, or arguments laid out unusually, cost the relayer gas for
    nothing (and can make a batch too large to send)."""
    if data[:4] != keccak(text=signature)[:4]:
        return False
    listed = signature.split("(", 1)[1].removesuffix(")")
    types = [part.to_type_str() for part in parse(f"({listed})").components] if listed else []
    try:
        arguments = decode(types, data[4:])
    except (DecodingError, ValueError, OverflowError):
        return False
    return bool(encode(types, arguments) == data[4:])


def _word(address: str) -> bytes:
    return bytes(12) + to_canonical_address(address)


def relayed_selectors(
    contracts: Mapping[str, tuple[str, list[dict[str, Any]]]],
) -> dict[tuple[str, bytes], str]:
    """(target address, selector) -> function signature, for the deployed targets given as
    name -> (address, ABI)."""
    found: dict[tuple[str, bytes], str] = {}
    for name, functions in RELAYED_FUNCTIONS.items():
        if name not in contracts:
            continue
        address, abi = contracts[name]
        for entry in abi:
            if entry.get("type") == "function" and entry["name"] in functions:
                inputs = ",".join(collapse_if_tuple(dict(i)) for i in entry["inputs"])
                signature = f"{entry['name']}({inputs})"
                found[(to_checksum_address(address), keccak(text=signature)[:4])] = signature
    return found


REQUEST_ID_DIGITS = 32
# A request's id, as ``request_id`` makes it: how the API documents and checks one.
REQUEST_ID_PATTERN = f"^req_[0-9a-f]{{{REQUEST_ID_DIGITS}}}$"
RequestId = Annotated[str, StringConstraints(pattern=REQUEST_ID_PATTERN)]


def request_id(digest: bytes) -> str:
    """The id the service answers for a request: ``req_`` and its digest's first 32 hex digits
    (a client can compute it before posting)."""
    return "req_" + digest.hex()[:REQUEST_ID_DIGITS]
