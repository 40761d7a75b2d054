"""The platform's identity key: IDENTITY_KEY when set (hex); the public development key only in
development, where it is also the fallback; outside development no key is a 503 for reports."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from app.api.errors import ApiError
from app.credit.service import identity_key
from app.domain.identity import DEV_IDENTITY_KEY
from app.settings import Environment, Settings

KEY = bytes(range(32))


def _settings(environment: Environment, key: str | None) -> Settings:
    return Settings(
        _env_file=None,
        environment=environment,
        identity_key=SecretStr(key) if key is not None else None,
    )


@pytest.mark.parametrize("environment", list(Environment))
def test_a_set_identity_key_is_used_in_every_environment(environment: Environment) -> None:
    assert identity_key(_settings(environment, "0x" + KEY.hex())) == KEY


def test_the_development_key_is_the_fallback_in_development_only() -> None:
    assert identity_key(_settings(Environment.DEVELOPMENT, None)) == DEV_IDENTITY_KEY
    with pytest.raises(ApiError) as refused:
        identity_key(_settings(Environment.TEST, None))
    assert (refused.value.status_code, refused.value.code) == (503, "identity_key_unavailable")


@pytest.mark.parametrize("environment", [Environment.TEST, Environment.PRODUCTION])
def test_the_development_key_is_refused_outside_development(environment: Environment) -> None:
    with pytest.raises(ValidationError, match="development identity key"):
        _settings(environment, DEV_IDENTITY_KEY.hex())
    assert identity_key(_settings(Environment.DEVELOPMENT, DEV_IDENTITY_KEY.hex())) == (
        DEV_IDENTITY_KEY
    )


@pytest.mark.parametrize("key", ["0xnothex", "0x" + "ab" * 8])
def test_a_malformed_or_short_identity_key_is_refused_at_start(key: str) -> None:
    with pytest.raises(ValidationError):
        _settings(Environment.DEVELOPMENT, key)
