"""Attacks on the suite deployed to a real Anvil node, through Ape.

The package starts its own Anvil (chain id 1337, cancun) rather than the session's shared one:
these tests move the clock and switch automining off, which the other Anvil tests must not see.
Ape's test accounts are Anvil's (same mnemonic); every contract is deployed here, none mocked,
and wired as `ape run deploy` wires them: the registry behind the suite's ERC-2771 forwarder,
one key per job (a custody oracle on the registry, a logistics oracle on the escrow), the escrow
holding the registry's ESCROW_ROLE, two attesters with a quorum of 2, the seller-record floors.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ape.exceptions import ContractLogicError, CustomError
from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from app.domain.abi_types import hex32
from app.domain.attestations import Attestation, Domain, sign
from app.domain.identity import DEV_IDENTITY_KEY, identity_commitment
from app.domain.vocab import IdScheme, LogisticsKind
from harness.nodes import ChainNode, anvil_command, free_port, running
from tests.contracts.escrow.helpers import DAY, ETH, Terms, h

AMOUNT = 10**18
USD = 10**6
WINDOW = 2 * DAY
CARRIER = 1  # the carrier number the demo and the tests use
ETH_FLOOR = 10**15  # the deployment's seller-record floors: 0.001 ETH, one stablecoin
USD_FLOOR = 1 * USD
# Attesters and permit owners only sign: plain keys, no Ape account needed. Quorum 2: the
# service's attester and the bureau's cosigner, as the default deployment has it.
ATTESTER: LocalAccount = Account.from_key(keccak(text="trustmall attacks: attester"))
COSIGNER: LocalAccount = Account.from_key(keccak(text="trustmall attacks: cosigner"))
QUORUM = 2


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
    """The custody oracle: the registry's ORACLE_ROLE."""
    buyer: Any
    stranger: Any
    arbiter: Any
    fee_recipient: Any
    rival: Any
    logistics: Any
    """The logistics oracle: the escrow's ORACLE_ROLE, a key apart from the custody oracle's."""


@pytest.fixture(scope="package")
def actors(provider: Any) -> Actors:
    from ape import accounts

    test = accounts.test_accounts
    return Actors(*(test[i] for i in range(10)))


@dataclass(frozen=True)
class Suite:
    registry: Any
    escrow: Any
    stablecoin: Any
    verifier: Any
    vault: Any
    lines: Any
    forwarder: Any
    """The suite's ERC-2771 forwarder, which the registry (and so the escrow) trusts."""


@pytest.fixture(scope="package")
def project_() -> Any:
    from ape import project

    return project


@pytest.fixture(scope="package")
def suite(provider: Any, actors: Actors, project_: Any) -> Suite:
    """The suite as `ape run deploy` wires it: roles granted, the stablecoin allowed."""
    admin = actors.admin
    # Merchants' signed requests reach the registry and the escrow through it (ERC-2771).
    forwarder = project_.TrustMallForwarder.deploy(sender=admin)
    registry = project_.ProductRegistry.deploy(admin.address, forwarder.address, sender=admin)
    escrow = project_.OrderEscrow.deploy(
        admin.address, registry.address, actors.fee_recipient.address, sender=admin
    )
    stablecoin = project_.DevStablecoin.deploy(admin.address, sender=admin)
    attesters = [ATTESTER.address, COSIGNER.address]
    verifier = project_.AttestationVerifier.deploy(admin.address, attesters, QUORUM, sender=admin)
    vault = project_.CreditVault.deploy(stablecoin.address, admin.address, sender=admin)
    lines = project_.CreditLines.deploy(
        admin.address, verifier.address, vault.address, escrow.address, sender=admin
    )
    registry.grantRole(registry.VERIFIER_ROLE(), actors.verifier, sender=admin)
    registry.grantRole(registry.ORACLE_ROLE(), actors.oracle, sender=admin)
    registry.grantRole(registry.ESCROW_ROLE(), escrow.address, sender=admin)
    escrow.grantRole(escrow.ORACLE_ROLE(), actors.logistics, sender=admin)
    escrow.grantRole(escrow.ARBITER_ROLE(), actors.arbiter, sender=admin)
    escrow.grantRole(escrow.FUNDER_ROLE(), lines.address, sender=admin)
    escrow.setTokenAllowed(stablecoin.address, True, sender=admin)
    escrow.setFee(100, sender=admin)  # 1%, so fees are credited and withdrawn too
    escrow.setSellerRecordFloor(ETH, ETH_FLOOR, sender=admin)
    escrow.setSellerRecordFloor(stablecoin.address, USD_FLOOR, sender=admin)
    verifier.grantRole(verifier.CONSUMER_ROLE(), lines.address, sender=admin)
    vault.grantRole(vault.LINE_ROLE(), lines.address, sender=admin)
    for merchant in (actors.merchant, actors.rival):
        registry.approveMerchant(
            merchant.address,
            "Shop",
            identity_of(f"owner of {merchant.address}"),
            sender=actors.verifier,
        )
    return Suite(registry, escrow, stablecoin, verifier, vault, lines, forwarder)


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


# ------------------------------------------------------------------ the contracts' vocabulary


def identity_of(legal_identifier: str) -> bytes:
    """An identity commitment (a merchant's owner, a borrower) under the devnet identity key."""
    return identity_commitment(legal_identifier, DEV_IDENTITY_KEY)


def sku_key(sku: str, serial: str = "S1") -> tuple[int, str, str]:
    """IProductRegistry.ItemKey of a SKU and serial: the registry derives the id under whoever
    registers (or, for a batch, under the batch's merchant)."""
    return (int(IdScheme.SKU), sku, serial)


def gs1_key(gtin: str, serial: str) -> tuple[int, str, str]:
    return (int(IdScheme.GS1), gtin, serial)


def register(registry: Any, merchant: Any, key: tuple[int, str, str], meta: str = "meta") -> bytes:
    """`merchant` registers the item `key` names; returns the id the registry derived."""
    receipt = registry.registerItem(key, h(meta), f"ipfs://{key[1]}", sender=merchant)
    [event] = receipt.events.filter(registry.ItemRegistered)
    return bytes(event.itemId)


def logistics(
    order_id: bytes,
    kind: LogisticsKind,
    carrier: int = CARRIER,
    items: int = 0,
    evidence: str = "scan",
) -> tuple[Any, ...]:
    """One IOrderEscrow.LogisticsUpdate: the report names the order's carrier."""
    return (order_id, int(kind), carrier, items, h(evidence))


def attest(
    suite: Suite,
    provider: Any,
    borrower: str,
    *,
    band: int = 2,
    identity: bytes | None = None,
    signers: tuple[LocalAccount, ...] = (ATTESTER, COSIGNER),
    label: str = "",
) -> tuple[tuple[Any, ...], list[bytes]]:
    """An attestation of `borrower`'s band and identity, signed by `signers` (ascending, as the
    verifier wants them): the arguments of applyForCredit."""
    now = now_of(provider)
    text = f"{borrower} {label} {next(_salts)}"
    attestation = Attestation(
        borrower=borrower,
        identity_hash=hex32(identity or identity_of(f"borrower {borrower}")),
        band=band,
        model_id=hex32(keccak(text="model v3")),
        report_hash=hex32(keccak(text=f"report {text}")),
        issued_at=now - 60,
        expires_at=now + 30 * DAY,
        nonce=int.from_bytes(keccak(text=f"nonce {text}")),
        attester_set_version=int(suite.verifier.attesterSetVersion()),
    )
    domain = Domain(chain_id=1337, verifying_contract=suite.verifier.address)
    ordered = sorted(signers, key=lambda account: int(account.address, 16))
    signatures = [bytes.fromhex(sign(attestation, domain, a).removeprefix("0x")) for a in ordered]
    return attestation.as_abi(), signatures


# ------------------------------------------------------------------ revert data


def error_data(contract: Any, error: str, *arguments: Any) -> bytes:
    """A custom error's revert data: its selector and ABI-encoded arguments."""
    [abi] = [item for item in contract.contract_type.errors if item.name == error]
    types = [argument.canonical_type for argument in abi.inputs]
    return keccak(text=abi.selector)[:4] + encode(types, list(arguments))


def refusal(step: Callable[[], Any]) -> bytes | None:
    """Runs a transaction; None when it succeeds, else the revert data it was refused with.

    Ape decodes errors of the called contract's own ABI (then the data is re-encoded from the
    decoded inputs) and leaves others (a registry error through the escrow) as hex text."""
    try:
        step()
    except CustomError as error:
        types = [argument.canonical_type for argument in error.abi.inputs]
        values = [error.inputs[argument.name] for argument in error.abi.inputs]
        return keccak(text=error.abi.selector)[:4] + encode(types, values)
    except ContractLogicError as error:
        text = str(error.revert_message or "")
        if text.startswith("0x"):
            return bytes.fromhex(text[2:])
        raise
    return None
