"""Identity commitments for a verifier approving a merchant's owner and a bureau attesting a
borrower, under the service's key (``IDENTITY_KEY``), so that credit can tell a borrower's own
shop: ``$TRUSTMALL_IDENTITY_KEY`` (0x-hex), or on a local network the development key. The key
never goes on chain nor on the command line."""

from __future__ import annotations

import os
from typing import Any

from app.domain.identity import DEV_IDENTITY_KEY, identity_commitment, parse_identity_key
from scripts._lib.chain import Stop, parsed

IDENTITY_KEY_ENV = "TRUSTMALL_IDENTITY_KEY"


def commitment(identifier: str, network: Any) -> bytes:
    """The commitment to a legal identifier (a national id, a registration number)."""
    text = os.environ.get(IDENTITY_KEY_ENV)
    if not text and not network.is_local:
        raise Stop(
            f"set {IDENTITY_KEY_ENV} (the platform's identity key, 0x-hex) on {network.choice!r}: "
            "the development key is for local networks only"
        )
    key = parsed(parse_identity_key, text, IDENTITY_KEY_ENV) if text else DEV_IDENTITY_KEY
    return bytes(parsed(lambda given: identity_commitment(given, key), identifier, "--identity"))
