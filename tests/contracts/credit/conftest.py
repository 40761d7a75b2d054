"""Fixtures for the credit tests on Ape's in-process EVM: the attestation verifier (`attestations`),
the vault, the lines, the order escrow they pay and the product registry whose items the orders
hold, deployed once per session (Ape snapshots and reverts the chain around each test).

Every fixture the credit tests use is defined here, accounts included, so that these tests do not
depend on the registry and escrow suites' fixtures (whose API follows their own contracts).
Attesters are generated test accounts: they only sign (eth_account, from `account.private_key`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from eth_utils import keccak

from app.domain.ids import item_id_of_key, item_key
from app.domain.orders import ZERO_ADDRESS
from app.domain.vocab import IdScheme, LogisticsKind
from tests.contracts.credit.helpers import (
    DAY,
    DEFAULT_TIERS,
    USD,
    Attestation,
    Domain,
    Rules,
    Signed,
    identity_of,
)
from tests.contracts.escrow.helpers import Terms, h

MAX_UINT256 = 2**256 - 1
POOL_DEPOSIT = 1_000_000 * USD
MODEL_ID = keccak(text="trustmall-score-v3")
CARRIER = 1
MERCHANT_IDENTITY = identity_of("CN-91310000-ACME-GOODS")
OTHER_MERCHANT_IDENTITY = identity_of("CN-91310000-OTHER-SHOP")


def borrower_identity(account: Any) -> bytes:
    """Each test account's own identity commitment (a national id made up from its address)."""
    return identity_of(f"NID-{getattr(account, 'address', account)}")


# ------------------------------------------------------------------ accounts by role


@pytest.fixture(scope="session")
def admin(accounts: Any) -> Any:
    return accounts[0]


@pytest.fixture(scope="session")
def registry_verifier(accounts: Any) -> Any:
    """Holds the registry's VERIFIER_ROLE: approves and suspends merchants."""
    return accounts[1]


@pytest.fixture(scope="session")
def merchant(accounts: Any) -> Any:
    return accounts[2]


@pytest.fixture(scope="session")
def other_merchant(accounts: Any) -> Any:
    return accounts[3]


@pytest.fixture(scope="session")
def logistics_oracle(accounts: Any) -> Any:
    """Holds the escrow's ORACLE_ROLE: reports pickups and deliveries of the carriers."""
    return accounts[4]


@pytest.fixture(scope="session")
def shopper(accounts: Any) -> Any:
    """Holds no role, no line and no shop: the stranger of every access check."""
    return accounts[5]


@pytest.fixture(scope="session")
def borrower(accounts: Any) -> Any:
    return accounts[6]


@pytest.fixture(scope="session")
def other_borrower(accounts: Any) -> Any:
    return accounts[7]


@pytest.fixture(scope="session")
def lender(accounts: Any) -> Any:
    return accounts[8]


@pytest.fixture(scope="session")
def other_lender(accounts: Any) -> Any:
    return accounts[9]


@pytest.fixture(scope="session")
def fee_recipient(accounts: Any) -> Any:
    """Only receives fees: a generated account, apart from every party of an order."""
    return accounts.generate_test_account()


@pytest.fixture(scope="session")
def attesters(accounts: Any) -> list[Any]:
    """Five signing-only accounts, sorted by address (verifiers want signers ascending)."""
    generated = [accounts.generate_test_account() for _ in range(5)]
    return sorted(generated, key=lambda a: int(a.address, 16))


@pytest.fixture(scope="session")
def attester(attesters: list[Any]) -> Any:
    """The one attester the default verifier authorises."""
    return attesters[0]


@pytest.fixture(scope="session")
def outsider_signer(accounts: Any) -> Any:
    """Has a key but is no attester."""
    return accounts.generate_test_account()


# ------------------------------------------------------------------ contracts


@pytest.fixture(scope="session")
def stable(project: Any, admin: Any) -> Any:
    return project.MockStable6.deploy(sender=admin)


@pytest.fixture(scope="session")
def registry(
    project: Any, admin: Any, registry_verifier: Any, merchant: Any, other_merchant: Any
) -> Any:
    """A registry with a verifier and two approved merchants, each named by its owner's identity
    commitment."""
    contract = project.ProductRegistry.deploy(admin, ZERO_ADDRESS, sender=admin)
    contract.grantRole(contract.VERIFIER_ROLE(), registry_verifier, sender=admin)
    contract.approveMerchant(merchant, "Acme Goods", MERCHANT_IDENTITY, sender=registry_verifier)
    contract.approveMerchant(
        other_merchant, "Other Shop", OTHER_MERCHANT_IDENTITY, sender=registry_verifier
    )
    return contract


@pytest.fixture(scope="session")
def escrow(
    project: Any,
    admin: Any,
    registry: Any,
    fee_recipient: Any,
    logistics_oracle: Any,
    stable: Any,
) -> Any:
    """The escrow: 2.5% fee, the stablecoin allowed, the logistics oracle's role granted, and the
    registry's ESCROW_ROLE held (it holds and frees the orders' items)."""
    contract = project.OrderEscrow.deploy(admin, registry, fee_recipient, sender=admin)
    contract.setFee(250, sender=admin)
    contract.setTokenAllowed(stable, True, sender=admin)
    contract.grantRole(contract.ORACLE_ROLE(), logistics_oracle, sender=admin)
    registry.grantRole(registry.ESCROW_ROLE(), contract, sender=admin)
    return contract


@pytest.fixture(scope="session")
def attestations(project: Any, admin: Any, attester: Any) -> Any:
    return project.AttestationVerifier.deploy(admin, [attester.address], 1, sender=admin)


@pytest.fixture(scope="session")
def vault(project: Any, admin: Any, stable: Any) -> Any:
    return project.CreditVault.deploy(stable, admin, sender=admin)


def wire_lines(project: Any, admin: Any, verifier: Any, vault: Any, escrow: Any) -> Any:
    """Deploys credit lines and grants what they need: CONSUMER_ROLE on the verifier, LINE_ROLE on
    the vault, FUNDER_ROLE on the escrow; the admin takes POLICY_ROLE and RISK_ROLE."""
    lines = project.CreditLines.deploy(admin, verifier, vault, escrow, sender=admin)
    verifier.grantRole(verifier.CONSUMER_ROLE(), lines, sender=admin)
    vault.grantRole(vault.LINE_ROLE(), lines, sender=admin)
    escrow.grantRole(escrow.FUNDER_ROLE(), lines, sender=admin)
    lines.grantRole(lines.POLICY_ROLE(), admin, sender=admin)
    lines.grantRole(lines.RISK_ROLE(), admin, sender=admin)
    return lines


@pytest.fixture(scope="session")
def lines(
    project: Any,
    admin: Any,
    attestations: Any,
    vault: Any,
    escrow: Any,
    stable: Any,
    lender: Any,
    borrower: Any,
    other_borrower: Any,
) -> Any:
    """Credit lines wired to the verifier, vault and escrow; policy v1 published (DEFAULT_TIERS,
    Rules()); the lender has deposited POOL_DEPOSIT; the borrowers hold stablecoins approved to
    the lines for repayments."""
    contract = wire_lines(project, admin, attestations, vault, escrow)
    contract.publishPolicy(Rules().as_abi(), [t.as_abi() for t in DEFAULT_TIERS], sender=admin)
    stable.mint(lender, 10 * POOL_DEPOSIT, sender=lender)
    stable.approve(vault, MAX_UINT256, sender=lender)
    vault.deposit(POOL_DEPOSIT, lender, sender=lender)
    for account in (borrower, other_borrower):
        stable.mint(account, 100_000 * USD, sender=account)
        stable.approve(contract, MAX_UINT256, sender=account)
    return contract


# ------------------------------------------------------------------ attestations

_nonces = itertools.count(1)


@pytest.fixture(scope="session")
def domain(attestations: Any, chain: Any) -> Domain:
    return Domain(chain.chain_id, attestations.address)


@pytest.fixture
def now(chain: Any) -> Callable[[], int]:
    """The latest block's time: an `issuedAt` never in the future of the next transaction."""
    return lambda: int(chain.blocks.head.timestamp)


@pytest.fixture
def attest(
    attestations: Any, domain: Domain, attester: Any, borrower: Any, now: Callable[[], int]
) -> Callable[..., Signed]:
    """Builds and signs an attestation (band 2 for the borrower, with its own identity, by
    default), signers ascending."""

    def make(
        who: Any = None,
        band: int = 2,
        signers: Sequence[Any] | None = None,
        issued_at: int | None = None,
        valid_for: int = 7 * DAY,
        nonce: int | None = None,
        report_hash: bytes | None = None,
        set_version: int | None = None,
        sort: bool = True,
        identity: bytes | None = None,
    ) -> Signed:
        issued = now() if issued_at is None else issued_at
        account = who or borrower
        attestation = Attestation(
            borrower=account.address,
            identity_hash=borrower_identity(account) if identity is None else identity,
            band=band,
            model_id=MODEL_ID,
            report_hash=report_hash or h(f"report {next(_nonces)}"),
            issued_at=issued,
            expires_at=issued + valid_for,
            nonce=next(_nonces) if nonce is None else nonce,
            attester_set_version=(
                int(attestations.attesterSetVersion()) if set_version is None else set_version
            ),
        )
        keys = list(signers if signers is not None else [attester])
        if sort:
            keys.sort(key=lambda a: int(a.address, 16))
        return Signed(attestation, [domain.sign(attestation, k.private_key) for k in keys])

    return make


@pytest.fixture
def open_line(lines: Any, attest: Callable[..., Signed], borrower: Any) -> Callable[..., Any]:
    """Applies with a fresh attestation (band 2 by default) and returns the receipt."""

    def run(who: Any = None, band: int = 2, **kwargs: Any) -> Any:
        signed = attest(who=who, band=band, **kwargs)
        return lines.applyForCredit(*signed.args, sender=who or borrower)

    return run


# ------------------------------------------------------------------ items and orders

_serials = itertools.count(1)
_salts = itertools.count(1)


@pytest.fixture(scope="session")
def register_items(registry: Any, merchant: Any) -> Callable[..., tuple[bytes, ...]]:
    """Registers `count` fresh SKU items of a merchant (one transaction); returns their ids."""

    def register(count: int = 1, owner: Any = None) -> tuple[bytes, ...]:
        shop = owner or merchant
        keys = [item_key(IdScheme.SKU, "TM-42", f"S{next(_serials)}") for _ in range(count)]
        registry.registerItems([(key, h("metadata"), "ipfs://item") for key in keys], sender=shop)
        return tuple(item_id_of_key(shop.address, IdScheme.SKU, k[1], k[2]) for k in keys)

    return register


@pytest.fixture
def credit_terms(
    lines: Any,
    escrow: Any,
    stable: Any,
    borrower: Any,
    merchant: Any,
    chain: Any,
    register_items: Callable[..., tuple[bytes, ...]],
) -> Callable[..., Terms]:
    """Terms of an escrow order paid with credit (payer = lines) of `items` fresh items of the
    merchant (registered here unless `item_ids` is given), any field overridden."""

    def make(amount: int = 250 * USD, who: Any = None, items: int = 1, **overrides: Any) -> Terms:
        if "item_ids" not in overrides:
            overrides["item_ids"] = register_items(items)
        now = chain.pending_timestamp
        values: dict[str, Any] = {
            "buyer": (who or borrower).address,
            "merchant": merchant.address,
            "payer": lines.address,
            "token": stable.address,
            "amount": amount,
            "ship_by": now + 3 * DAY,
            "deliver_by": now + 10 * DAY,
            "dispute_window": 2 * DAY,
            "fee_bps": int(escrow.feeBps()),
            "order_ref": h("SKU TM-42 x1"),
            "salt": next(_salts),
        }
        values.update(overrides)
        return Terms(**values)

    return make


@pytest.fixture
def draw_order(
    lines: Any, borrower: Any, credit_terms: Callable[..., Terms]
) -> Callable[..., tuple[Terms, Any]]:
    """Draws on the borrower's line into a fresh escrow order; returns (terms, receipt)."""

    def run(amount: int = 250 * USD, who: Any = None, **overrides: Any) -> tuple[Terms, Any]:
        terms = credit_terms(amount=amount, who=who, **overrides)
        tx = lines.drawToOrder(terms.as_abi(), sender=who or borrower)
        return terms, tx

    return run


@pytest.fixture
def deliver(escrow: Any, merchant: Any, logistics_oracle: Any) -> Callable[..., Any]:
    """The merchant hands the order to carrier CARRIER (unless already shipped) and the logistics
    oracle reports `items` (0: all not yet delivered) delivered: what a funder-paid order needs
    before the merchant can be paid. Returns the report's receipt."""

    def run(terms: Terms, items: int = 0, shop: Any = None, shipped: bool = False) -> Any:
        if not shipped:
            escrow.ship(terms.as_abi(), CARRIER, h("tracking"), sender=shop or merchant)
        update = (terms.order_id, int(LogisticsKind.DELIVERED), CARRIER, items, h("pod"))
        return escrow.reportLogistics([update], sender=logistics_oracle)

    return run


@pytest.fixture
def travel(chain: Any) -> Callable[[int], None]:
    """Moves the next block's time forward by `seconds`."""

    def run(seconds: int) -> None:
        chain.pending_timestamp += seconds

    return run
