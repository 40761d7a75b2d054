"""The service's keys are decrypted once, when the app is made: a keystore's scrypt is meant to
be slow and memory-hungry, and decrypting one per request (as the attester's once was, per credit
report) let any caller of a signing endpoint spend the service's CPU and memory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from pydantic import SecretStr

import app.chain.keys as keys_module
from app.chain.keys import ServiceKeys, SigningKeyUnavailable
from app.main import create_app
from app.outbox.relayer import Relayer
from app.settings import Settings
from tests.app.conftest import ATTESTER_KEY, LOGISTICS_ORACLE_KEY, ORACLE_KEY

PASSPHRASE = "correct horse battery staple"


def _keystore(directory: Path, name: str, private_key: str) -> Path:
    # A light scrypt (n = 2**4): the test counts decryptions, it does not need their cost.
    encrypted = Account.encrypt(private_key, PASSPHRASE, kdf="scrypt", iterations=2**4)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(encrypted))
    return path


@pytest.fixture
def keystore_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The test settings with every key in an encrypted keystore instead of a raw key."""
    passphrase = SecretStr(PASSPHRASE)
    return settings.model_copy(
        update={
            "oracle_private_key": None,
            "logistics_oracle_private_key": None,
            "attester_private_key": None,
            "oracle_keystore": _keystore(tmp_path, "oracle", ORACLE_KEY),
            "oracle_keystore_passphrase": passphrase,
            "logistics_oracle_keystore": _keystore(tmp_path, "logistics", LOGISTICS_ORACLE_KEY),
            "logistics_oracle_keystore_passphrase": passphrase,
            "attester_keystore": _keystore(tmp_path, "attester", ATTESTER_KEY),
            "attester_keystore_passphrase": passphrase,
        }
    )


@pytest.fixture
def decryptions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every keystore decryption, by the keystore's address."""
    seen: list[str] = []
    decrypt = Account.decrypt

    def counted(keyfile: Any, password: str) -> Any:
        seen.append(keyfile["address"])
        return decrypt(keyfile, password)

    monkeypatch.setattr(keys_module.Account, "decrypt", counted)
    return seen


def test_every_keystore_is_decrypted_once_when_the_app_is_made(
    keystore_settings: Settings, decryptions: list[str]
) -> None:
    app = create_app(keystore_settings)
    services = app.state.services
    assert len(decryptions) == 3

    for _ in range(5):
        [attester] = services.keys.attesters()
        Relayer.from_services(services)

    assert len(decryptions) == 3
    assert attester.address == Account.from_key(ATTESTER_KEY).address
    assert services.keys.oracle().address == Account.from_key(ORACLE_KEY).address
    logistics = services.keys.logistics_oracle()
    assert logistics.address == Account.from_key(LOGISTICS_ORACLE_KEY).address


def test_a_keystore_that_cannot_be_decrypted_stops_the_app_from_starting(
    keystore_settings: Settings,
) -> None:
    wrong = keystore_settings.model_copy(
        update={"logistics_oracle_keystore_passphrase": SecretStr("not the passphrase")}
    )
    with pytest.raises(SigningKeyUnavailable, match="logistics oracle keystore"):
        create_app(wrong)


def test_a_key_not_configured_is_named_when_asked_for(settings: Settings) -> None:
    keys = ServiceKeys.load(settings.model_copy(update={"attester_private_key": None}))
    with pytest.raises(SigningKeyUnavailable, match="TRUSTMALL_ATTESTER_KEYSTORE"):
        keys.attesters()
    assert keys.oracle().address == Account.from_key(ORACLE_KEY).address
