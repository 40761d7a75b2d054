"""ERC-2771 forward requests as OpenZeppelin 5.4's ERC2771Forwarder (TrustMallForwarder) takes
them: built here, signed (EIP-712) with a key through eth_account, and sent by a relayer.

Written from the forwarder's documented struct and type hash, not from the service's code, so a
mistake in one is not repeated in the other.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address

# ERC2771Forwarder._FORWARD_REQUEST_TYPEHASH's type, field for field.
FORWARD_REQUEST_FIELDS = [
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "gas", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint48"},
    {"name": "data", "type": "bytes"},
]
DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
# Ample for any single call the tests forward (a 100-item registerItems needs about 3.5M); the
# forwarder passes exactly this much to the target or reverts, so it is also what the relayer's
# transaction must leave room for.
DEFAULT_GAS = 1_000_000


@dataclass(frozen=True)
class Domain:
    """The forwarder's EIP-712 domain, as `eip712Domain()` (ERC-5267) reports it."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str

    @classmethod
    def of(cls, forwarder: Any) -> Domain:
        reported = forwarder.eip712Domain()
        return cls(
            reported.name,
            reported.version,
            int(reported.chainId),
            to_checksum_address(reported.verifyingContract),
        )

    def as_typed_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


@dataclass(frozen=True)
class ForwardRequest:
    """What the signer signs. The nonce is not sent: the forwarder reads the signer's current one
    (`nonces(from)`), so a request signed for any other nonce recovers another signer."""

    sender: str  # the struct's `from`
    to: str
    data: bytes
    nonce: int
    deadline: int
    gas: int = DEFAULT_GAS
    value: int = 0

    def typed_data(self, domain: Domain) -> dict[str, Any]:
        return {
            "types": {"EIP712Domain": DOMAIN_FIELDS, "ForwardRequest": FORWARD_REQUEST_FIELDS},
            "primaryType": "ForwardRequest",
            "domain": domain.as_typed_data(),
            "message": {
                "from": self.sender,
                "to": self.to,
                "value": self.value,
                "gas": self.gas,
                "nonce": self.nonce,
                "deadline": self.deadline,
                "data": self.data,
            },
        }

    def signed(self, private_key: str | bytes, domain: Domain) -> SignedRequest:
        message = encode_typed_data(full_message=self.typed_data(domain))
        signature = Account.sign_message(message, private_key).signature
        return SignedRequest(self, bytes(signature))


@dataclass(frozen=True)
class SignedRequest:
    """A request and its signature: ERC2771Forwarder.ForwardRequestData once `as_abi()`."""

    request: ForwardRequest
    signature: bytes

    def as_abi(self) -> tuple[str, str, int, int, int, bytes, bytes]:
        r = self.request
        return (r.sender, r.to, r.value, r.gas, r.deadline, r.data, self.signature)

    def altered(self, **changes: Any) -> SignedRequest:
        """The same signature over a request changed after signing (what a rival relayer would
        try): the forwarder recovers another signer from it."""
        return SignedRequest(replace(self.request, **changes), self.signature)

    def forwarded_calldata(self) -> bytes:
        """The calldata the forwarder sends the target: the request's data, then its signer's
        20 bytes (ERC-2771)."""
        return self.request.data + bytes.fromhex(self.request.sender[2:])

    def recovered_signer(self, domain: Domain) -> str:
        """Whom the forwarder recovers from this signature for the request as it now reads."""
        message = encode_typed_data(full_message=self.request.typed_data(domain))
        return to_checksum_address(Account.recover_message(message, signature=self.signature))
