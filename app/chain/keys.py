"""The service's own signing keys (oracle, attester): an encrypted keystore, or in development
a raw key from the environment. Nothing here is ever logged."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr

from app.domain.errors import TrustMallError


class SigningKeyUnavailable(TrustMallError, RuntimeError):
    """A signing key the service needs is not configured or cannot be decrypted."""


def load_signing_account(
    role: str,
    keystore: Path | None,
    passphrase: SecretStr | None,
    private_key: SecretStr | None,
) -> LocalAccount:
    """The account for ``role`` ("oracle", "attester"), keystore first."""
    if keystore is not None:
        if passphrase is None:
            raise SigningKeyUnavailable(f"{role} keystore {keystore} needs its passphrase")
        try:
            encrypted = json.loads(keystore.read_text(encoding="utf-8"))
            key = Account.decrypt(encrypted, passphrase.get_secret_value())
        except (OSError, ValueError) as error:
            # The error text of a failed decryption says nothing secret.
            raise SigningKeyUnavailable(f"{role} keystore {keystore}: {error}") from None
        account: LocalAccount = Account.from_key(key)
        return account
    if private_key is not None:
        try:
            account = Account.from_key(private_key.get_secret_value())
        except (ValueError, TypeError):
            raise SigningKeyUnavailable(f"{role} private key is malformed") from None
        return account
    raise SigningKeyUnavailable(f"no {role} key configured (keystore or private key)")
