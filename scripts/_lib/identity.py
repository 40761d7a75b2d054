"""The platform's identity key for the scripts that commit to a legal identity: a verifier
approving a merchant (its owner's commitment) and a bureau attesting a borrower. Both must use
the service's key (``IDENTITY_KEY``), so that credit can tell a borrower's own shop.

The key comes from ``$TRUSTMALL_IDENTITY_KEY`` (0x-hex, at least 16 bytes); on a local network
the development key ``app.domain.identity.DEV_IDENTITY_KEY`` stands in, elsewhere it is required.
It never goes on chain nor on the command line.
"""

from __future__ import annotations

import os
from typing import Any

import click

from app.domain.identity import DEV_IDENTITY_KEY, identity_commitment, parse_identity_key

IDENTITY_KEY_ENV = "TRUSTMALL_IDENTITY_KEY"


def identity_key(network: Any) -> bytes:
    text = os.environ.get(IDENTITY_KEY_ENV)
    if text:
        try:
            return parse_identity_key(text)
        except ValueError as exc:
            raise click.UsageError(f"{IDENTITY_KEY_ENV}: {exc}") from None
    if network.is_local:
        return DEV_IDENTITY_KEY
    raise click.UsageError(
        f"set {IDENTITY_KEY_ENV} (the platform's identity key, 0x-hex) on {network.choice!r}: "
        "the development key is for local networks only"
    )


def commitment(identifier: str, network: Any, option: str = "--identity") -> bytes:
    """The identity commitment of a legal identifier (a national id, a registration number)."""
    key = identity_key(network)
    try:
        return identity_commitment(identifier, key)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None
