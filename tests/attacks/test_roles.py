"""Role escalation: no account grants itself a role, a role holder cannot hand out roles (only
DEFAULT_ADMIN_ROLE administers them), DEFAULT_ADMIN_ROLE itself is never granted or revoked in one
step (OpenZeppelin's AccessControlDefaultAdminRules: a handover is begun by the admin and accepted
by the newcomer after a delay), nobody renounces a role for someone else, and each role-gated
entry point refuses the accounts without its role: one key, one job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape

from app.domain.vocab import LogisticsKind
from tests.attacks.conftest import Actors, Suite, logistics, register, sku_key
from tests.contracts.escrow.helpers import h

ADMIN_ROLE = b"\x00" * 32
SOLD = 5  # IProductRegistry.CustodyAction.Sold
ROLES = {
    "registry": ["VERIFIER_ROLE", "ORACLE_ROLE", "ESCROW_ROLE"],
    "escrow": ["ARBITER_ROLE", "ORACLE_ROLE", "FUNDER_ROLE"],
    "verifier": ["CONSUMER_ROLE"],
    "vault": ["LINE_ROLE"],
    "lines": ["POLICY_ROLE", "RISK_ROLE"],
}


def _admin_rules_contracts(suite: Suite) -> list[tuple[Any, list[str]]]:
    return [(getattr(suite, name), roles) for name, roles in ROLES.items()]


def test_a_stranger_cannot_grant_itself_any_role_on_any_contract(
    suite: Suite, actors: Actors
) -> None:
    stranger = actors.stranger
    gated = [*_admin_rules_contracts(suite), (suite.stablecoin, ["MINTER_ROLE"])]
    for contract, roles in gated:
        for name in roles:
            role = getattr(contract, name)()
            with ape.reverts(
                contract.AccessControlUnauthorizedAccount,
                account=stranger.address,
                neededRole=ADMIN_ROLE,
            ):
                contract.grantRole(role, stranger.address, sender=stranger)
            assert not contract.hasRole(role, stranger.address)
    # The admin role itself is never granted, not even by the admin (two steps and a delay).
    for contract, _ in _admin_rules_contracts(suite):
        for sender in (stranger, actors.admin):
            with ape.reverts(contract.AccessControlEnforcedDefaultAdminRules):
                contract.grantRole(ADMIN_ROLE, stranger.address, sender=sender)
        with ape.reverts(
            contract.AccessControlUnauthorizedAccount,
            account=stranger.address,
            neededRole=ADMIN_ROLE,
        ):
            contract.beginDefaultAdminTransfer(stranger.address, sender=stranger)
        with ape.reverts(contract.AccessControlInvalidDefaultAdmin, defaultAdmin=stranger.address):
            contract.acceptDefaultAdminTransfer(sender=stranger)
        assert contract.defaultAdmin() == actors.admin.address


def test_role_holders_cannot_hand_out_roles(suite: Suite, actors: Actors) -> None:
    registry, escrow = suite.registry, suite.escrow
    holders = [
        (registry, actors.verifier, "VERIFIER_ROLE"),
        (registry, actors.oracle, "ORACLE_ROLE"),
        (escrow, actors.logistics, "ORACLE_ROLE"),
        (escrow, actors.arbiter, "ARBITER_ROLE"),
    ]
    for contract, holder, name in holders:
        role = getattr(contract, name)()
        assert contract.hasRole(role, holder.address)
        assert contract.getRoleAdmin(role) == ADMIN_ROLE
        with ape.reverts(
            contract.AccessControlUnauthorizedAccount,
            account=holder.address,
            neededRole=ADMIN_ROLE,
        ):
            contract.grantRole(role, actors.stranger.address, sender=holder)
        with ape.reverts(contract.AccessControlEnforcedDefaultAdminRules):
            contract.grantRole(ADMIN_ROLE, actors.stranger.address, sender=holder)


def test_nobody_renounces_or_revokes_a_role_for_someone_else(suite: Suite, actors: Actors) -> None:
    escrow = suite.escrow
    arbiter_role = escrow.ARBITER_ROLE()

    with ape.reverts(escrow.AccessControlBadConfirmation):
        escrow.renounceRole(arbiter_role, actors.arbiter.address, sender=actors.stranger)
    # The admin's own renunciation needs a finished two-step handover to nobody: refused here.
    with ape.reverts(escrow.AccessControlEnforcedDefaultAdminDelay, schedule=0):
        escrow.renounceRole(ADMIN_ROLE, actors.admin.address, sender=actors.arbiter)
    for sender in (actors.arbiter, actors.admin):
        with ape.reverts(escrow.AccessControlEnforcedDefaultAdminRules):
            escrow.revokeRole(ADMIN_ROLE, actors.admin.address, sender=sender)
    with ape.reverts(escrow.AccessControlUnauthorizedAccount, account=actors.stranger.address):
        escrow.revokeRole(arbiter_role, actors.arbiter.address, sender=actors.stranger)
    assert escrow.hasRole(arbiter_role, actors.arbiter.address)
    assert escrow.hasRole(ADMIN_ROLE, actors.admin.address)


def test_role_gated_entry_points_refuse_accounts_without_the_role(
    suite: Suite, actors: Actors, terms_for: Any
) -> None:
    stranger = actors.stranger
    terms = terms_for()
    registry, escrow, vault, lines = suite.registry, suite.escrow, suite.vault, suite.lines
    sale = (h("item"), 1, SOLD, 0, h("buyer"), h("order"))
    calls: list[tuple[Any, str, Callable[[], Any]]] = [
        (escrow, "FUNDER_ROLE", lambda: escrow.openFor(terms.as_abi(), sender=stranger)),
        (
            escrow,
            "ORACLE_ROLE",
            lambda: escrow.reportLogistics(
                [logistics(terms.order_id, LogisticsKind.DELIVERED)], sender=stranger
            ),
        ),
        (
            escrow,
            "ARBITER_ROLE",
            lambda: escrow.resolveDispute(terms.as_abi(), 0, h("r"), sender=stranger),
        ),
        (vault, "LINE_ROLE", lambda: vault.lend(stranger.address, 1, sender=stranger)),
        (vault, "LINE_ROLE", lambda: vault.recordLoss(0, sender=stranger)),
        (vault, "LINE_ROLE", lambda: vault.recordImpairment(0, sender=stranger)),
        (vault, "LINE_ROLE", lambda: vault.recordRepayment(0, 0, 0, sender=stranger)),
        (lines, "RISK_ROLE", lambda: lines.writeOff(stranger.address, sender=stranger)),
        (
            suite.stablecoin,
            "MINTER_ROLE",
            lambda: suite.stablecoin.mint(stranger.address, 1, sender=stranger),
        ),
        (
            registry,
            "VERIFIER_ROLE",
            lambda: registry.approveMerchant(stranger.address, "Me", h("id"), sender=stranger),
        ),
        (
            registry,
            "VERIFIER_ROLE",
            lambda: registry.grantGs1Prefix("4006381", stranger.address, sender=stranger),
        ),
        (
            registry,
            "VERIFIER_ROLE",
            lambda: registry.reassignItem(h("item"), stranger.address, h("r"), sender=stranger),
        ),
        (
            registry,
            "ESCROW_ROLE",
            lambda: registry.holdItems(h("order"), stranger.address, [h("i")], sender=stranger),
        ),
        (
            registry,
            "ESCROW_ROLE",
            lambda: registry.freeItems(h("order"), [h("i")], 1, sender=stranger),
        ),
        (
            registry,
            "ESCROW_ROLE",
            lambda: registry.recordSales(stranger.address, [sale], sender=stranger),
        ),
    ]
    for contract, name, call in calls:
        with ape.reverts(
            contract.AccessControlUnauthorizedAccount,
            account=stranger.address,
            neededRole=getattr(contract, name)(),
        ):
            call()


def test_each_oracle_key_does_one_job_and_a_merchant_keeps_to_its_own_items(
    suite: Suite, actors: Actors, terms_for: Any
) -> None:
    """The custody oracle appends custody events but records no sale and reports no logistics;
    the logistics oracle writes no custody; an arbiter is neither; a merchant records custody of
    and recalls only its own items."""
    registry, escrow = suite.registry, suite.escrow
    item = register(registry, actors.rival, sku_key(f"rival's item {registry.address}"))
    event = (item, 1, 1, 0, h("where"), h("why"))  # CustodyAction 1 (the first real action)
    sale = (item, 2, SOLD, 0, h("buyer"), h("order"))

    with ape.reverts(
        registry.RegistryNotItemCustodian, caller=actors.merchant.address, itemId=item
    ):
        registry.recordCustody([event], sender=actors.merchant)
    for outsider in (actors.arbiter, actors.logistics):
        with ape.reverts(registry.RegistryMerchantNotActive, merchant=outsider.address):
            registry.recordCustody([event], sender=outsider)
    with ape.reverts(
        registry.RegistryNotItemCustodian, caller=actors.merchant.address, itemId=item
    ):
        registry.recallItem(item, h("recall"), sender=actors.merchant)
    with ape.reverts(registry.RegistryActionNotAllowed, eventId=2, action=SOLD):
        registry.recordCustody([sale], sender=actors.oracle)
    terms = terms_for()
    update = logistics(terms.order_id, LogisticsKind.DELIVERED)
    with ape.reverts(
        escrow.AccessControlUnauthorizedAccount,
        account=actors.oracle.address,
        neededRole=escrow.ORACLE_ROLE(),
    ):
        escrow.reportLogistics([update], sender=actors.oracle)

    registry.recordCustody([event], sender=actors.oracle)
    assert registry.isEventRecorded(actors.oracle.address, 1)
    assert not registry.isEventRecorded(actors.oracle.address, 2)
