"""The merchant's signature publishing a batch manifest: EIP-191 (``personal_sign``) over a short
text naming the batch root and the manifest's content hash, so a wallet shows what it signs::

    TrustMall batch manifest
    root: 0x<batch root>
    content: 0x<keccak256 of the manifest's canonical JSON>

The content hash is ``app.domain.metadata.metadata_hash(manifest)``: for a manifest written by
``ape run merchant register --batch`` it equals the batch's on-chain ``metadataHash``. The
merchant's key signs locally (``ape run merchant publish``); the service only recovers the signer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_defunct
from eth_account.signers.base import BaseAccount
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError

from app.domain.errors import TrustMallError
from app.domain.metadata import metadata_hash

HEADER = "TrustMall batch manifest"


class InvalidManifestSignature(TrustMallError, ValueError):
    """A manifest signature is malformed or recovers no address."""


def manifest_content_hash(manifest: Mapping[str, Any]) -> bytes:
    """keccak256 of the manifest's canonical (RFC 8785) JSON."""
    return metadata_hash(manifest)


def manifest_message(root: bytes, content_hash: bytes) -> SignableMessage:
    """The EIP-191 message a merchant signs to publish a manifest."""
    if len(root) != 32 or len(content_hash) != 32:
        raise ValueError("root and content hash are 32 bytes each")
    return encode_defunct(text=f"{HEADER}\nroot: 0x{root.hex()}\ncontent: 0x{content_hash.hex()}")


def sign_manifest(account: BaseAccount, root: bytes, manifest: Mapping[str, Any]) -> str:
    """The merchant's signature over a manifest, as 0x hex (65 bytes)."""
    signed = account.sign_message(manifest_message(root, manifest_content_hash(manifest)))
    return "0x" + bytes(signed.signature).hex()


def recover_manifest_signer(root: bytes, content_hash: bytes, signature: str) -> str:
    """The address that signed the manifest message (checksummed)."""
    try:
        return str(
            Account.recover_message(manifest_message(root, content_hash), signature=signature)
        )
    except (ValueError, TypeError, BadSignature, ValidationError) as error:
        raise InvalidManifestSignature(f"the signature recovers no address: {error}") from error
