"""The settings' own rules: the service is in production unless told otherwise (so its secret
checks cannot be switched off by forgetting a variable), raw keys are refused there, and each
carrier has an id of its own that its order reports carry."""

from __future__ import annotations

import os
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from app.settings import (
    DEVELOPMENT_SECRET,
    Environment,
    Settings,
    SourceCredentials,
    SourceKind,
)
from harness.ape_run import TEST_PRIVATE_KEYS


@pytest.fixture(autouse=True)
def _no_service_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test passes counts: no TRUSTMALL_* variable of the caller's shell."""
    for name in [name for name in os.environ if name.upper().startswith("TRUSTMALL_")]:
        monkeypatch.delenv(name)


# A merchant's address, checksummed (test account 2).
MOVED = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def _settings(**fields: Any) -> Settings:
    return Settings(_env_file=None, **fields)  # type: ignore[call-arg]


def _carrier(carrier_id: int | None, secret: str = "a-real-secret") -> dict[str, Any]:
    return {
        "kind": "carrier",
        "api_key": secret,
        "hmac_secret": secret,
        **({} if carrier_id is None else {"carrier_id": carrier_id}),
    }


def test_the_environment_is_production_unless_set() -> None:
    assert _settings().environment is Environment.PRODUCTION


def test_a_default_secret_is_refused_unless_development_is_asked_for() -> None:
    sources = {"acme": _carrier(1, DEVELOPMENT_SECRET)}
    with pytest.raises(ValidationError, match=r"default secrets refused in production"):
        _settings(sources=sources)
    assert _settings(environment="development", sources=sources).sources["acme"].carrier_id == 1


@pytest.mark.parametrize(
    "name", ["oracle_private_key", "logistics_oracle_private_key", "attester_private_key"]
)
def test_raw_private_keys_are_refused_in_production(name: str) -> None:
    with pytest.raises(ValidationError, match=f"raw private keys are for development \\({name}"):
        _settings(**{name: SecretStr(TEST_PRIVATE_KEYS[8])})
    assert getattr(_settings(environment="test", **{name: TEST_PRIVATE_KEYS[8]}), name)


def test_a_carrier_needs_a_carrier_id_in_the_uint16_range() -> None:
    with pytest.raises(ValidationError, match="a carrier needs its carrier_id"):
        _settings(sources={"acme": _carrier(None)})
    for wrong in (0, 2**16):
        with pytest.raises(ValidationError, match="carrier_id"):
            _settings(sources={"acme": _carrier(wrong)})
    assert _settings(sources={"acme": _carrier(2**16 - 1)}).sources["acme"].carrier_id == 65_535


def test_carrier_ids_are_unique_and_for_carriers_only() -> None:
    with pytest.raises(ValidationError, match="sources acme and rival have the same carrier_id 7"):
        _settings(sources={"acme": _carrier(7), "rival": _carrier(7, "another-secret")})
    with pytest.raises(ValidationError, match="carrier_id is for carriers, not a bureau"):
        SourceCredentials(
            kind=SourceKind.BUREAU,
            api_key=SecretStr("key"),
            hmac_secret=SecretStr("secret"),
            carrier_id=3,
        )


def test_only_a_carrier_moves_merchants_goods_and_a_mistyped_address_is_refused() -> None:
    with pytest.raises(ValidationError, match="merchants are for carriers, not a bureau"):
        SourceCredentials(
            kind=SourceKind.BUREAU,
            api_key=SecretStr("key"),
            hmac_secret=SecretStr("secret"),
            merchants=frozenset({MOVED}),
        )
    typo = MOVED[:-1] + ("d" if MOVED[-1] != "d" else "D")  # a checksum no longer matching
    with pytest.raises(ValidationError):
        _settings(sources={"acme": {**_carrier(1), "merchants": [typo]}})
    assert _settings(sources={"acme": _carrier(1)}).sources["acme"].merchants == frozenset()


def test_carrier_ids_come_from_the_environment_as_make_api_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRUSTMALL_ENVIRONMENT", "development")
    monkeypatch.setenv("TRUSTMALL_SOURCES__ACME__KIND", "carrier")
    monkeypatch.setenv("TRUSTMALL_SOURCES__ACME__API_KEY", DEVELOPMENT_SECRET)
    monkeypatch.setenv("TRUSTMALL_SOURCES__ACME__HMAC_SECRET", DEVELOPMENT_SECRET)
    monkeypatch.setenv("TRUSTMALL_SOURCES__ACME__CARRIER_ID", "1")
    monkeypatch.setenv("TRUSTMALL_SOURCES__ACME__MERCHANTS", f'["{MOVED.lower()}"]')
    monkeypatch.setenv("TRUSTMALL_LOGISTICS_ORACLE_PRIVATE_KEY", TEST_PRIVATE_KEYS[8])
    settings = _settings()
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.sources["acme"].carrier_id == 1
    # Checksummed as the index writes addresses, so a lowercase setting still matches.
    assert settings.sources["acme"].merchants == {MOVED}
    assert settings.logistics_oracle_private_key is not None
