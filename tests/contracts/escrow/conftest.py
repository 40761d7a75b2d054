"""Fixtures for the order escrow tests on Ape's in-process EVM.

Contracts are deployed once per session; Ape's pytest plugin snapshots the chain before every test
and reverts it afterwards. The `asset` fixture runs a test twice: paid in ETH, and in a 6-decimals
stablecoin.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from tests.contracts.escrow.helpers import CARRIER, DAY, ETH, LogisticsKind, Terms, h, update

FEE_BPS = 250
MAX_UINT256 = 2**256 - 1


@dataclass(frozen=True)
class Asset:
    """What an order is paid in, and how to read balances of it."""

    name: str
    token: str
    amount: int
    contract: Any | None
    chain: Any

    def balance_of(self, account: Any) -> int:
        address = getattr(account, "address", account)
        if self.contract is None:
            return int(self.chain.get_balance(address))
        return int(self.contract.balanceOf(address))


@dataclass(frozen=True)
class OpenedOrder:
    """An order opened on chain: its terms (passed to every later call), id and receipt."""

    terms: Terms
    tx: Any

    @property
    def id(self) -> bytes:
        return self.terms.order_id

    @property
    def abi(self) -> tuple[Any, ...]:
        return self.terms.as_abi()


# ------------------------------------------------------------------ accounts by role


@pytest.fixture(scope="session")
def buyer(accounts: Any) -> Any:
    return accounts[6]


@pytest.fixture(scope="session")
def arbiter(accounts: Any) -> Any:
    return accounts[7]


@pytest.fixture(scope="session")
def fee_recipient(accounts: Any) -> Any:
    return accounts[8]


@pytest.fixture(scope="session")
def funder(accounts: Any) -> Any:
    """Holds FUNDER_ROLE: stands in for a credit-line contract paying for a buyer's order."""
    return accounts[9]


# ------------------------------------------------------------------ contracts


@pytest.fixture(scope="session")
def stable(project: Any, admin: Any) -> Any:
    return project.MockStable6.deploy(sender=admin)


@pytest.fixture(scope="session")
def bare_escrow(project: Any, admin: Any, registry: Any, fee_recipient: Any) -> Any:
    """A freshly deployed escrow: only the admin role is held, default settings."""
    return project.OrderEscrow.deploy(admin, registry, fee_recipient, sender=admin)


@pytest.fixture(scope="session")
def escrow(
    project: Any,
    admin: Any,
    registry: Any,
    fee_recipient: Any,
    arbiter: Any,
    oracle: Any,
    funder: Any,
    buyer: Any,
    stable: Any,
) -> Any:
    """The escrow with its roles granted (the `oracle` account is its logistics oracle), a 2.5%
    fee, the stablecoin allow-listed, and the registry's ESCROW_ROLE granted to it so it can hold,
    free and sell items. The buyer and funder hold stablecoins and have approved the escrow."""
    contract = project.OrderEscrow.deploy(admin, registry, fee_recipient, sender=admin)
    contract.grantRole(contract.ARBITER_ROLE(), arbiter, sender=admin)
    contract.grantRole(contract.ORACLE_ROLE(), oracle, sender=admin)
    contract.grantRole(contract.FUNDER_ROLE(), funder, sender=admin)
    contract.setFee(FEE_BPS, sender=admin)
    contract.setTokenAllowed(stable, True, sender=admin)
    registry.grantRole(registry.ESCROW_ROLE(), contract, sender=admin)
    for payer in (buyer, funder):
        stable.mint(payer, 10**15, sender=payer)
        stable.approve(contract, MAX_UINT256, sender=payer)
    return contract


@pytest.fixture(params=["eth", "stable6"])
def asset(request: pytest.FixtureRequest, stable: Any, chain: Any) -> Asset:
    """Runs a test once for ETH and once for the 6-decimals stablecoin."""
    if request.param == "eth":
        return Asset("eth", ETH, 10**18, None, chain)
    return Asset("stable6", str(stable.address), 250 * 10**6, stable, chain)


@pytest.fixture
def eth_asset(chain: Any) -> Asset:
    """ETH only, for modules that need no second run (override `asset` with it)."""
    return Asset("eth", ETH, 10**18, None, chain)


# ------------------------------------------------------------------ factories

_salts = itertools.count(1)


@pytest.fixture
def make_terms(
    escrow: Any, buyer: Any, merchant: Any, asset: Asset, chain: Any
) -> Callable[..., Terms]:
    """Terms of a fresh order (a SKU order by default), with any field overridden."""

    def make(**overrides: Any) -> Terms:
        now = chain.pending_timestamp
        terms = Terms(
            buyer=buyer.address,
            merchant=merchant.address,
            payer=buyer.address,
            token=asset.token,
            amount=asset.amount,
            ship_by=now + 3 * DAY,
            deliver_by=now + 10 * DAY,
            dispute_window=2 * DAY,
            fee_bps=int(escrow.feeBps()),
            order_ref=h("SKU TM-42 x1"),
            salt=next(_salts),
        )
        return replace(terms, **overrides)

    return make


@pytest.fixture
def open_order(
    escrow: Any, buyer: Any, funder: Any, make_terms: Callable[..., Terms]
) -> Callable[..., OpenedOrder]:
    """Opens and pays an order (`open`, or `openFor` when the payer is the funder)."""

    def run(terms: Terms | None = None, sender: Any = None, **overrides: Any) -> OpenedOrder:
        terms = terms or make_terms(**overrides)
        value = terms.amount if terms.is_eth else 0
        if terms.payer == funder.address and terms.buyer != funder.address:
            tx = escrow.openFor(terms.as_abi(), value=value, sender=sender or funder)
        else:
            tx = escrow.open(terms.as_abi(), value=value, sender=sender or buyer)
        return OpenedOrder(terms, tx)

    return run


@pytest.fixture
def ship(escrow: Any, merchant: Any) -> Callable[..., Any]:
    """The merchant hands an order to `carrier` (the tests' carrier) and marks it shipped."""

    def run(order: OpenedOrder, carrier: int = CARRIER, tracking: str = "track") -> Any:
        return escrow.ship(order.abi, carrier, h(tracking), sender=merchant)

    return run


@pytest.fixture
def delivered_order(
    escrow: Any, open_order: Any, oracle: Any, ship: Callable[..., Any]
) -> OpenedOrder:
    """A SKU order shipped with the tests' carrier and reported delivered."""
    order = open_order()
    ship(order)
    escrow.reportLogistics([update(order.id, LogisticsKind.DELIVERED)], sender=oracle)
    return order


@pytest.fixture
def disputed_order(escrow: Any, delivered_order: OpenedOrder, buyer: Any) -> OpenedOrder:
    escrow.dispute(delivered_order.abi, h("parcel empty"), sender=buyer)
    return delivered_order


@pytest.fixture
def travel(chain: Any) -> Callable[[int], None]:
    """Moves the next block's time forward by `seconds`."""

    def run(seconds: int) -> None:
        chain.pending_timestamp += seconds

    return run
