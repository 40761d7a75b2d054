"""app.domain.networks: each network's rules, and the service's settings that follow them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr, ValidationError

from app.domain.networks import (
    GWEI,
    PROFILES,
    UNKNOWN_DEPTH,
    AccountKind,
    NetworkRuleRefused,
    network_profile,
    profile_of_ape_network,
)
from app.settings import Environment, Settings

ROOT = Path(__file__).resolve().parents[2]
# Anvil's public test key 1: never real money.
RAW_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


def settings(**given: object) -> Settings:
    return Settings(_env_file=None, environment=Environment.PRODUCTION, **given)  # type: ignore[arg-type]


@pytest.mark.parametrize("chain_id", [84532, 8453])
def test_base_networks_are_public_with_depth_fees_and_keystores_only(chain_id: int) -> None:
    profile = network_profile(chain_id)

    assert profile.public and profile.confirmation_depth > 1
    assert profile.account_kinds == {AccountKind.KEYSTORE}
    fees = profile.fees_wei()
    assert 0 < fees["max_priority_fee"] < fees["max_fee"]
    assert profile.explorer_link("tx", "0xab") == f"{profile.explorer_url}/tx/0xab"


def test_a_local_devnet_takes_any_signer_and_final_receipts() -> None:
    local = network_profile(1337)

    assert not local.public and local.confirmation_depth == 0 and local.fees_wei() == {}
    for kind in AccountKind:
        local.check_signer(kind, "anyone")


def test_an_unknown_chain_is_public_at_the_strictest() -> None:
    unknown = network_profile(11155111)

    assert unknown.public and unknown.confirmation_depth == UNKNOWN_DEPTH
    with pytest.raises(NetworkRuleRefused, match="keystore accounts only"):
        unknown.check_signer(AccountKind.TEST, "TEST::0")


@pytest.mark.parametrize("kind", [AccountKind.TEST, AccountKind.RAW_KEY, AccountKind.OTHER])
def test_a_public_network_refuses_every_signer_but_a_keystore(kind: AccountKind) -> None:
    profile = network_profile(84532)

    with pytest.raises(NetworkRuleRefused) as refused:
        profile.check_signer(kind, "account 0xabc")

    assert str(refused.value).startswith(
        "chain 84532 (Base Sepolia) is a public network: it takes keystore accounts only, "
        f"not account 0xabc (a {kind})"
    )
    profile.check_signer(AccountKind.KEYSTORE, "account 0xabc")


def test_ape_network_choices_name_their_profiles_and_ape_config_reads_their_rpc_url() -> None:
    config = yaml.safe_load((ROOT / "ape-config.yaml").read_text())

    for profile in (p for p in PROFILES if p.public):
        assert profile.ape_network is not None
        assert profile_of_ape_network(f"{profile.ape_network}:node") == profile
        ecosystem, network = profile.ape_network.split(":")
        assert config["node"][ecosystem][network]["uri"] == f"${{{profile.rpc_url_env}}}"
    assert profile_of_ape_network("base:sepolia-fork:foundry") is None


def test_settings_on_a_public_chain_refuse_raw_keys_in_any_environment() -> None:
    for environment in Environment:
        with pytest.raises(ValidationError, match=r"keystore accounts only.*ORACLE_PRIVATE_KEY"):
            Settings(
                _env_file=None,
                environment=environment,
                chain_id=84532,
                oracle_private_key=SecretStr(RAW_KEY),
            )
    # Development without a chain id keeps its raw keys (a local devnet).
    assert Settings(_env_file=None, environment=Environment.DEVELOPMENT, oracle_private_key=RAW_KEY)


def test_settings_take_the_networks_depth_and_fees_unless_given() -> None:
    base = settings(chain_id=84532)

    assert base.confirmation_depth == 3
    assert base.relay_max_fee_gwei == 1.0 and base.relay_priority_fee_gwei == 0.001
    deeper = settings(chain_id=8453, confirmation_depth=20, relay_max_fee_gwei=0.2)
    assert deeper.confirmation_depth == 20 and deeper.relay_max_fee_gwei == 0.2
    assert (
        round(deeper.relay_priority_fee_gwei * GWEI)
        == network_profile(8453).fees_wei()["max_priority_fee"]
    )
    with pytest.raises(ValidationError, match="confirmation depth 1 is below the network's 10"):
        settings(chain_id=8453, confirmation_depth=1)
    assert settings().confirmation_depth == 2  # no chain named: the service's own default


def test_the_base_sepolia_example_env_file_gives_the_networks_rules_once_filled_in() -> None:
    example = ROOT / ".env.base-sepolia.example"
    filled = {
        "report_encryption_key": "k" * 44,
        "webhook_encryption_key": "w" * 44,
        "identity_key": "0x" + "ab" * 32,
        "oracle_keystore_passphrase": "p",
        "logistics_oracle_keystore_passphrase": "p",
    }

    found = Settings(_env_file=example, **filled)  # type: ignore[arg-type]

    assert found.chain_id == 84532 and found.environment is Environment.PRODUCTION
    assert found.confirmation_depth == network_profile(84532).confirmation_depth
    assert found.oracle_keystore is not None and found.oracle_private_key is None
    with pytest.raises(ValidationError, match="keystore accounts only"):
        Settings(_env_file=example, **filled, keeper_private_key=RAW_KEY)  # type: ignore[arg-type]
