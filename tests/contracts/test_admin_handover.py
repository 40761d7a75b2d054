"""DEFAULT_ADMIN_ROLE of the registry and the escrow changes hands only in two steps, two days
apart (OpenZeppelin's AccessControlDefaultAdminRules): a stolen admin key must wait in public,
and the current admin can cancel meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest

from app.domain.orders import ZERO_ADDRESS

DAY = 86_400
DELAY = 2 * DAY
DEFAULT_ADMIN_ROLE = b"\x00" * 32


@pytest.fixture(params=["ProductRegistry", "OrderEscrow"])
def contract(request: pytest.FixtureRequest, project: Any, admin: Any, registry: Any) -> Any:
    if request.param == "ProductRegistry":
        return project.ProductRegistry.deploy(admin, ZERO_ADDRESS, sender=admin)
    return project.OrderEscrow.deploy(admin, registry, admin, sender=admin)


@pytest.fixture
def successor(accounts: Any) -> Any:
    return accounts[9]


@pytest.fixture
def begin(contract: Any, admin: Any, successor: Any) -> Callable[[], int]:
    """Starts a handover to the successor; returns the first second after which it may accept."""

    def run() -> int:
        tx = contract.beginDefaultAdminTransfer(successor, sender=admin)
        [event] = tx.events.filter(contract.DefaultAdminTransferScheduled)
        assert event.newAdmin == successor.address
        assert event.acceptSchedule == tx.timestamp + DELAY
        return int(event.acceptSchedule)

    return run


def test_the_delay_is_two_days_and_the_admin_is_the_deployers_choice(
    contract: Any, admin: Any
) -> None:
    assert contract.defaultAdminDelay() == DELAY
    assert contract.defaultAdmin() == admin.address
    assert contract.hasRole(DEFAULT_ADMIN_ROLE, admin)


def test_admin_role_cannot_be_granted_in_one_step(
    contract: Any, admin: Any, successor: Any
) -> None:
    with ape.reverts(contract.AccessControlEnforcedDefaultAdminRules):
        contract.grantRole(DEFAULT_ADMIN_ROLE, successor, sender=admin)
    with ape.reverts(contract.AccessControlEnforcedDefaultAdminRules):
        contract.revokeRole(DEFAULT_ADMIN_ROLE, admin, sender=admin)
    assert not contract.hasRole(DEFAULT_ADMIN_ROLE, successor)


def test_successor_accepts_only_after_two_days(
    contract: Any, admin: Any, successor: Any, chain: Any, begin: Callable[[], int]
) -> None:
    schedule = begin()
    assert contract.pendingDefaultAdmin() == (successor.address, schedule)

    chain.pending_timestamp = schedule
    with ape.reverts(contract.AccessControlEnforcedDefaultAdminDelay, schedule=schedule):
        contract.acceptDefaultAdminTransfer(sender=successor)

    chain.pending_timestamp = schedule + 1
    contract.acceptDefaultAdminTransfer(sender=successor)

    assert contract.defaultAdmin() == successor.address
    assert contract.hasRole(DEFAULT_ADMIN_ROLE, successor)
    assert not contract.hasRole(DEFAULT_ADMIN_ROLE, admin)
    with ape.reverts(
        contract.AccessControlUnauthorizedAccount,
        account=admin.address,
        neededRole=DEFAULT_ADMIN_ROLE,
    ):
        contract.pause(sender=admin)
    contract.pause(sender=successor)


def test_nobody_but_the_named_successor_accepts(
    contract: Any, shopper: Any, chain: Any, begin: Callable[[], int]
) -> None:
    chain.pending_timestamp = begin() + 1

    with ape.reverts(contract.AccessControlInvalidDefaultAdmin, defaultAdmin=shopper.address):
        contract.acceptDefaultAdminTransfer(sender=shopper)


def test_admin_cancels_a_pending_handover(
    contract: Any, admin: Any, successor: Any, chain: Any, begin: Callable[[], int]
) -> None:
    schedule = begin()

    tx = contract.cancelDefaultAdminTransfer(sender=admin)

    assert tx.events == [contract.DefaultAdminTransferCanceled()]
    assert contract.pendingDefaultAdmin() == (ZERO_ADDRESS, 0)
    chain.pending_timestamp = schedule + 1
    with ape.reverts(contract.AccessControlInvalidDefaultAdmin, defaultAdmin=successor.address):
        contract.acceptDefaultAdminTransfer(sender=successor)
    assert contract.defaultAdmin() == admin.address


def test_only_the_admin_begins_a_handover(contract: Any, successor: Any) -> None:
    with ape.reverts(
        contract.AccessControlUnauthorizedAccount,
        account=successor.address,
        neededRole=DEFAULT_ADMIN_ROLE,
    ):
        contract.beginDefaultAdminTransfer(successor, sender=successor)
