"""The service's own signing keys (custody oracle, logistics oracle, attesters, keeper): an
encrypted keystore, or in development a raw key from the environment. Nothing here is ever logged.

Keystores are decrypted once, when the app is made (``ServiceKeys.load``): a keystore's scrypt
costs a fraction of a second and tens of MiB on purpose, so decrypting one per request would let
any caller of an endpoint that signs spend the service's memory and CPU. A key that is configured
but cannot be loaded (a wrong passphrase, a missing file) stops the app from starting; a key that
is not configured leaves the work that needs it undone (``SigningKeyUnavailable`` when asked).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr

from app.domain.errors import TrustMallError
from app.settings import Settings

log = structlog.get_logger(__name__)

ORACLE = "oracle"
LOGISTICS_ORACLE = "logistics oracle"
ATTESTER = "attester"
KEEPER = "keeper"


class SigningKeyUnavailable(TrustMallError, RuntimeError):
    """A signing key the service needs is not configured or cannot be decrypted."""


@dataclass(frozen=True)
class KeySource:
    """Where one key comes from: a keystore and its passphrase, or a raw key."""

    role: str
    keystore: Path | None = None
    passphrase: SecretStr | None = None
    private_key: SecretStr | None = None

    @property
    def configured(self) -> bool:
        return self.keystore is not None or self.private_key is not None

    def load(self) -> LocalAccount:
        return load_signing_account(self.role, self.keystore, self.passphrase, self.private_key)


def load_signing_account(
    role: str,
    keystore: Path | None,
    passphrase: SecretStr | None,
    private_key: SecretStr | None,
) -> LocalAccount:
    """The account for ``role`` ("oracle", "attester"), keystore first. Decrypts a keystore on
    every call: the app calls it once per key, through ``ServiceKeys``."""
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


def oracle_source(settings: Settings) -> KeySource:
    return KeySource(
        ORACLE,
        settings.oracle_keystore,
        settings.oracle_keystore_passphrase,
        settings.oracle_private_key,
    )


def logistics_oracle_source(settings: Settings) -> KeySource:
    return KeySource(
        LOGISTICS_ORACLE,
        settings.logistics_oracle_keystore,
        settings.logistics_oracle_keystore_passphrase,
        settings.logistics_oracle_private_key,
    )


def keeper_source(settings: Settings) -> KeySource:
    return KeySource(
        KEEPER,
        settings.keeper_keystore,
        settings.keeper_keystore_passphrase,
        settings.keeper_private_key,
    )


def attester_sources(settings: Settings) -> list[KeySource]:
    """Every attester key the settings name (the service signs with all of them)."""
    return [
        KeySource(
            ATTESTER,
            settings.attester_keystore,
            settings.attester_keystore_passphrase,
            settings.attester_private_key,
        )
    ]


@dataclass(frozen=True)
class ServiceKeys:
    """The accounts the service signs with, each decrypted once."""

    oracle_account: LocalAccount | None = None
    logistics_oracle_account: LocalAccount | None = None
    attester_accounts: tuple[LocalAccount, ...] = field(default_factory=tuple)
    keeper_account: LocalAccount | None = None

    @classmethod
    def load(cls, settings: Settings) -> ServiceKeys:
        """Every configured key, decrypted now; raises ``SigningKeyUnavailable`` for one that is
        configured and cannot be loaded."""
        sources = attester_sources(settings)
        attesters = [source.load() for source in sources if source.configured]
        keys = cls(
            oracle_account=_load_if_configured(oracle_source(settings)),
            logistics_oracle_account=_load_if_configured(logistics_oracle_source(settings)),
            # One account per address: the same key named twice signs once.
            attester_accounts=tuple({a.address: a for a in attesters}.values()),
            keeper_account=_load_if_configured(keeper_source(settings)),
        )
        log.info(
            "signing_keys_loaded",
            oracle=keys.oracle_account.address if keys.oracle_account else None,
            logistics_oracle=(
                keys.logistics_oracle_account.address if keys.logistics_oracle_account else None
            ),
            attesters=[account.address for account in keys.attester_accounts],
            keeper=keys.keeper_account.address if keys.keeper_account else None,
        )
        return keys

    def oracle(self) -> LocalAccount:
        """The custody oracle (registry custody events, credit applications)."""
        return _required(self.oracle_account, ORACLE, "ORACLE")

    def logistics_oracle(self) -> LocalAccount:
        """The logistics oracle (the escrow's carrier reports)."""
        return _required(self.logistics_oracle_account, LOGISTICS_ORACLE, "LOGISTICS_ORACLE")

    def keeper(self) -> LocalAccount:
        """The keeper (the escrow's permissionless moves: releases, refunds, default rulings)."""
        return _required(self.keeper_account, KEEPER, "KEEPER")

    def attesters(self) -> list[LocalAccount]:
        """Every attester key the service holds (at least one)."""
        if not self.attester_accounts:
            raise SigningKeyUnavailable(
                "no attester key configured (TRUSTMALL_ATTESTER_KEYSTORE or, in development, "
                "TRUSTMALL_ATTESTER_PRIVATE_KEY)"
            )
        return list(self.attester_accounts)


def _load_if_configured(source: KeySource) -> LocalAccount | None:
    return source.load() if source.configured else None


def _required(account: LocalAccount | None, role: str, setting: str) -> LocalAccount:
    if account is None:
        raise SigningKeyUnavailable(
            f"no {role} key configured (TRUSTMALL_{setting}_KEYSTORE or, in development, "
            f"TRUSTMALL_{setting}_PRIVATE_KEY)"
        )
    return account
