"""EIP-2612 permits as a token holder's wallet signs them (the dev stablecoin's domain)."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

DEV_DOLLAR_NAME = "TrustMall Dev Dollar"


def sign_permit(
    owner: LocalAccount,
    *,
    token: str,
    chain_id: int,
    spender: str,
    value: int,
    nonce: int,
    deadline: int,
    name: str = DEV_DOLLAR_NAME,
) -> bytes:
    """The 65-byte signature (r, s, v) of ``Permit(owner, spender, value, nonce, deadline)``."""
    message = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": name, "version": "1", "chainId": chain_id, "verifyingContract": token},
        "message": {
            "owner": owner.address,
            "spender": spender,
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    }
    signed = Account.sign_message(encode_typed_data(full_message=message), owner.key)
    return bytes(signed.signature)


def vrs(signature: bytes) -> tuple[int, bytes, bytes]:
    """(v, r, s) as ``permit`` takes them."""
    return signature[64], signature[:32], signature[32:64]
