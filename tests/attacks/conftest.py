"""Attacks on the suite deployed to a real Anvil node, through Ape.

The package starts its own Anvil (chain id 1337, cancun) rather than the session's shared one:
these tests move the clock and switch automining off, which the other Anvil tests must not see.
Ape's test accounts are Anvil's (same mnemonic); every contract is deployed here, none mocked.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from tests.contracts.escrow.helpers import DAY, ETH, Terms, h
from tests.support.nodes import ChainNode, anvil_command, free_port, running

AMOUNT = 10**18
USD = 10**6
WINDOW = 2 * DAY
# Attesters and permit owners only sign: plain keys, no Ape account needed.
ATTESTER: LocalAccount = Account.from_key(keccak(text="trustmall attacks: attester"))


@pytest.fixture(scope="package")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainNode]:
    port = free_port()
    log: Path = tmp_path_factory.mktemp("attacks-anvil") / "anvil.log"
    with running(anvil_command(port), port, log) as started:
        yield started


@pytest.fixture(scope="package")
def provider(node: ChainNode, request: pytest.FixtureRequest) -> Iterator[Any]:
    from ape import networks

    with networks.parse_network_choice(
        f"ethereum:local:{node.rpc_url}", disconnect_after=True
    ) as connected:
        assert connected.chain_id == 1337
        assert connected.web3.client_version.startswith("anvil/"), connected.web3.client_version
        yield connected
    # Ape's node provider cannot snapshot this Anvil, and Ape then turns test isolation off for
    # the rest of the session: the in-process EVM tests that run later would share their state.
    # Back on the test provider, snapshots work again.
    request.config.pluginmanager.get_plugin("ape-fixtures").isolation_manager.supported = True


@dataclass(frozen=True)
class Actors:
    admin: Any
    verifier: Any
    merchant: Any
    oracle: Any
    buyer: Any
    stranger: Any
    arbiter: Any
    fee_recipient: Any
    rival: Any


@pytest.fixture(scope="package")
def actors(provider: Any) -> Actors:
    from ape import accounts

    test = accounts.test_accounts
    return Actors(*(test[i] for i in range(9)))


@dataclass(frozen=True)
class Suite:
    registry: Any
    escrow: Any
    stablecoin: Any
    verifier: Any
    vault: Any
    lines: Any


@pytest.fixture(scope="package")
def project_() -> Any:
    from ape import project

    return project


@pytest.fixture(scope="package")
def suite(provider: Any, actors: Actors, project_: Any) -> Suite:
    """The suite as `ape run deploy` wires it: roles granted, the stablecoin allowed."""
    admin = actors.admin
    registry = project_.ProductRegistry.deploy(admin.address, sender=admin)
    escrow = project_.OrderEscrow.deploy(
        admin.address, registry.address, actors.fee_recipient.address, sender=admin
    )
    stablecoin = project_.DevStablecoin.deploy(admin.address, sender=admin)
    verifier = project_.AttestationVerifier.deploy(
        admin.address, [ATTESTER.address], 1, sender=admin
    )
    vault = project_.CreditVault.deploy(stablecoin.address, admin.address, sender=admin)
    lines = project_.CreditLines.deploy(
        admin.address, verifier.address, vault.address, escrow.address, sender=admin
    )
    registry.grantRole(registry.VERIFIER_ROLE(), actors.verifier, sender=admin)
    registry.grantRole(registry.ORACLE_ROLE(), actors.oracle, sender=admin)
    registry.grantRole(registry.ORACLE_ROLE(), escrow.address, sender=admin)
    escrow.grantRole(escrow.ORACLE_ROLE(), actors.oracle, sender=admin)
    escrow.grantRole(escrow.ARBITER_ROLE(), actors.arbiter, sender=admin)
    escrow.grantRole(escrow.FUNDER_ROLE(), lines.address, sender=admin)
    escrow.setTokenAllowed(stablecoin.address, True, sender=admin)
    escrow.setFee(100, sender=admin)  # 1%, so fees are credited and withdrawn too
    verifier.grantRole(verifier.CONSUMER_ROLE(), lines.address, sender=admin)
    vault.grantRole(vault.LINE_ROLE(), lines.address, sender=admin)
    for merchant in (actors.merchant, actors.rival):
        registry.approveMerchant(
            merchant.address, "Shop", h(f"identity {merchant.address}"), sender=actors.verifier
        )
    return Suite(registry, escrow, stablecoin, verifier, vault, lines)


_salts = itertools.count(1)


@pytest.fixture(scope="package")
def terms_for(provider: Any, suite: Suite, actors: Actors) -> Callable[..., Terms]:
    """Order terms valid now: ETH by default, shipped within a day, delivered within three."""

    def make(**changes: Any) -> Terms:
        now = now_of(provider)
        values: dict[str, Any] = {
            "buyer": actors.buyer.address,
            "merchant": actors.merchant.address,
            "payer": actors.buyer.address,
            "token": ETH,
            "amount": AMOUNT,
            "ship_by": now + DAY,
            "deliver_by": now + 3 * DAY,
            "dispute_window": WINDOW,
            "fee_bps": int(suite.escrow.feeBps()),
            "order_ref": h("order"),
            "salt": next(_salts),
            "item_ids": (),
        }
        values.update(changes)
        return Terms(**values)

    return make


def now_of(provider: Any) -> int:
    return int(provider.web3.eth.get_block("latest")["timestamp"])


def error_data(contract: Any, error: str, *arguments: Any) -> bytes:
    """A custom error's revert data: its selector and ABI-encoded arguments."""
    [abi] = [item for item in contract.contract_type.errors if item.name == error]
    types = [argument.canonical_type for argument in abi.inputs]
    return keccak(text=abi.selector)[:4] + encode(types, list(arguments))
