"""Admin handover of the attestation verifier, the vault and the lines: OpenZeppelin's
AccessControlDefaultAdminRules with a 2-day delay. DEFAULT_ADMIN_ROLE is never granted in one step;
a handover is begun by the admin, waits two days in public, and is accepted by the new admin."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.credit.conftest import wire_lines
from tests.contracts.credit.helpers import DAY, reverts

DELAY = 2 * DAY
ZERO = "0x0000000000000000000000000000000000000000"
CONTRACTS = ("attestations", "vault", "lines")


@pytest.fixture(params=CONTRACTS)
def governed(request: pytest.FixtureRequest, lines: Any) -> Any:
    """Each credit contract in turn (all deployed: the lines hold roles on the others)."""
    return request.getfixturevalue(request.param)


def test_admin_rules_are_in_force_with_a_two_day_delay(governed: Any, admin: Any) -> None:
    assert governed.defaultAdmin() == admin.address
    assert governed.defaultAdminDelay() == DELAY
    assert governed.hasRole(governed.DEFAULT_ADMIN_ROLE(), admin)


def test_one_step_grant_of_the_admin_role_is_refused(
    governed: Any, admin: Any, shopper: Any
) -> None:
    role = governed.DEFAULT_ADMIN_ROLE()
    with ape.reverts(governed.AccessControlEnforcedDefaultAdminRules):
        governed.grantRole(role, shopper, sender=admin)
    with ape.reverts(governed.AccessControlEnforcedDefaultAdminRules):
        governed.revokeRole(role, admin, sender=admin)
    assert not governed.hasRole(role, shopper)
    assert governed.hasRole(role, admin)


def test_two_step_handover_waits_two_days_then_moves_the_role(
    governed: Any, admin: Any, shopper: Any, chain: Any
) -> None:
    role = governed.DEFAULT_ADMIN_ROLE()
    begun = governed.beginDefaultAdminTransfer(shopper, sender=admin)
    schedule = begun.timestamp + DELAY
    assert tuple(governed.pendingDefaultAdmin()) == (shopper.address, schedule)
    chain.pending_timestamp = schedule - 1
    with ape.reverts(governed.AccessControlEnforcedDefaultAdminDelay, schedule=schedule):
        governed.acceptDefaultAdminTransfer(sender=shopper)
    chain.pending_timestamp = schedule + 1
    governed.acceptDefaultAdminTransfer(sender=shopper)
    assert governed.defaultAdmin() == shopper.address
    assert governed.hasRole(role, shopper)
    assert not governed.hasRole(role, admin)
    # The new admin grants roles; the old one no longer can.
    some_role = _a_role_of(governed)
    with ape.reverts(governed.AccessControlUnauthorizedAccount, account=admin.address):
        governed.grantRole(some_role, admin, sender=admin)
    governed.grantRole(some_role, admin, sender=shopper)
    assert governed.hasRole(some_role, admin)


def _a_role_of(contract: Any) -> bytes:
    """A role the admin grants on this contract."""
    for name in ("CONSUMER_ROLE", "LINE_ROLE", "RISK_ROLE"):
        if hasattr(contract, name):
            return bytes(getattr(contract, name)())
    raise AssertionError(f"{contract} has none of the expected roles")


def test_handover_is_only_begun_by_the_admin_and_accepted_by_the_named_account(
    governed: Any, admin: Any, shopper: Any, lender: Any, chain: Any
) -> None:
    with ape.reverts(
        governed.AccessControlUnauthorizedAccount,
        account=shopper.address,
        neededRole=governed.DEFAULT_ADMIN_ROLE(),
    ):
        governed.beginDefaultAdminTransfer(shopper, sender=shopper)
    governed.beginDefaultAdminTransfer(shopper, sender=admin)
    chain.pending_timestamp += DELAY + 1
    with ape.reverts(governed.AccessControlInvalidDefaultAdmin, defaultAdmin=lender.address):
        governed.acceptDefaultAdminTransfer(sender=lender)
    # The admin may still cancel a handover it began.
    governed.cancelDefaultAdminTransfer(sender=admin)
    with ape.reverts(governed.AccessControlInvalidDefaultAdmin, defaultAdmin=shopper.address):
        governed.acceptDefaultAdminTransfer(sender=shopper)
    assert governed.defaultAdmin() == admin.address


def test_deployment_with_a_zero_admin_reverts(
    project: Any,
    admin: Any,
    stable: Any,
    attester: Any,
    attestations: Any,
    vault: Any,
    escrow: Any,
) -> None:
    error = vault.AccessControlInvalidDefaultAdmin
    with reverts(error, defaultAdmin=ZERO):
        project.CreditVault.deploy(stable, ZERO, sender=admin)
    with reverts(error, defaultAdmin=ZERO):
        project.AttestationVerifier.deploy(ZERO, [attester.address], 1, sender=admin)
    with reverts(error, defaultAdmin=ZERO):
        project.CreditLines.deploy(ZERO, attestations, vault, escrow, sender=admin)
    # The same arguments with an admin deploy.
    assert wire_lines(project, admin, attestations, vault, escrow).defaultAdmin() == admin.address
