"""Role escalation: no account grants itself a role, a role holder cannot hand out roles (only
DEFAULT_ADMIN_ROLE administers them), nobody renounces a role for someone else, and each
role-gated entry point refuses the accounts without its role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape

from tests.attacks.conftest import Actors, Suite
from tests.contracts.escrow.helpers import h

ADMIN_ROLE = b"\x00" * 32


def test_a_stranger_cannot_grant_itself_any_role_on_any_contract(
    suite: Suite, actors: Actors
) -> None:
    stranger = actors.stranger
    gated = [
        (suite.registry, ["VERIFIER_ROLE", "ORACLE_ROLE"]),
        (suite.escrow, ["ARBITER_ROLE", "ORACLE_ROLE", "FUNDER_ROLE"]),
        (suite.verifier, ["CONSUMER_ROLE"]),
        (suite.vault, ["LINE_ROLE"]),
        (suite.lines, ["POLICY_ROLE", "RISK_ROLE"]),
        (suite.stablecoin, ["MINTER_ROLE"]),
    ]
    for contract, roles in gated:
        for name in [*roles, None]:
            role = getattr(contract, name)() if name else ADMIN_ROLE
            with ape.reverts(
                contract.AccessControlUnauthorizedAccount,
                account=stranger.address,
                neededRole=ADMIN_ROLE,
            ):
                contract.grantRole(role, stranger.address, sender=stranger)
            assert not contract.hasRole(role, stranger.address)


def test_role_holders_cannot_hand_out_roles(suite: Suite, actors: Actors) -> None:
    registry, escrow = suite.registry, suite.escrow
    holders = [
        (registry, actors.verifier, "VERIFIER_ROLE"),
        (registry, actors.oracle, "ORACLE_ROLE"),
        (escrow, actors.oracle, "ORACLE_ROLE"),
        (escrow, actors.arbiter, "ARBITER_ROLE"),
    ]
    for contract, holder, name in holders:
        role = getattr(contract, name)()
        assert contract.hasRole(role, holder.address)
        assert contract.getRoleAdmin(role) == ADMIN_ROLE
        for granted in (role, ADMIN_ROLE):
            with ape.reverts(
                contract.AccessControlUnauthorizedAccount,
                account=holder.address,
                neededRole=ADMIN_ROLE,
            ):
                contract.grantRole(granted, actors.stranger.address, sender=holder)


def test_nobody_renounces_or_revokes_a_role_for_someone_else(suite: Suite, actors: Actors) -> None:
    escrow = suite.escrow
    arbiter_role = escrow.ARBITER_ROLE()

    with ape.reverts(escrow.AccessControlBadConfirmation):
        escrow.renounceRole(arbiter_role, actors.arbiter.address, sender=actors.stranger)
    with ape.reverts(escrow.AccessControlBadConfirmation):
        escrow.renounceRole(ADMIN_ROLE, actors.admin.address, sender=actors.arbiter)
    with ape.reverts(escrow.AccessControlUnauthorizedAccount, account=actors.arbiter.address):
        escrow.revokeRole(ADMIN_ROLE, actors.admin.address, sender=actors.arbiter)
    assert escrow.hasRole(arbiter_role, actors.arbiter.address)
    assert escrow.hasRole(ADMIN_ROLE, actors.admin.address)


def test_role_gated_entry_points_refuse_accounts_without_the_role(
    suite: Suite, actors: Actors, terms_for: Any
) -> None:
    stranger = actors.stranger
    terms = terms_for()
    calls: list[tuple[Any, str, Callable[[], Any]]] = [
        (
            suite.escrow,
            "FUNDER_ROLE",
            lambda: suite.escrow.openFor(terms.as_abi(), sender=stranger),
        ),
        (
            suite.escrow,
            "ORACLE_ROLE",
            lambda: suite.escrow.reportLogistics([(terms.order_id, 0, 0, h("x"))], sender=stranger),
        ),
        (
            suite.escrow,
            "ARBITER_ROLE",
            lambda: suite.escrow.resolveDispute(terms.as_abi(), 0, h("r"), sender=stranger),
        ),
        (suite.vault, "LINE_ROLE", lambda: suite.vault.lend(stranger.address, 1, sender=stranger)),
        (suite.vault, "LINE_ROLE", lambda: suite.vault.recordLoss(0, sender=stranger)),
        (
            suite.stablecoin,
            "MINTER_ROLE",
            lambda: suite.stablecoin.mint(stranger.address, 1, sender=stranger),
        ),
        (
            suite.registry,
            "VERIFIER_ROLE",
            lambda: suite.registry.approveMerchant(
                stranger.address, "Me", h("id"), sender=stranger
            ),
        ),
    ]
    for contract, name, call in calls:
        with ape.reverts(
            contract.AccessControlUnauthorizedAccount,
            account=stranger.address,
            neededRole=getattr(contract, name)(),
        ):
            call()


def test_an_arbiter_is_not_an_oracle_nor_a_merchant_another_merchants_custodian(
    suite: Suite, actors: Actors
) -> None:
    registry = suite.registry
    item = h("rival's item")
    registry.registerItem(item, h("metadata"), "ipfs://rival", sender=actors.rival)
    event = (item, 1, 1, 0, h("where"), h("why"))  # CustodyAction 1 (the first real action)

    with ape.reverts(
        registry.RegistryNotItemCustodian, caller=actors.merchant.address, itemId=item
    ):
        registry.recordCustody([event], sender=actors.merchant)
    with ape.reverts(registry.RegistryMerchantNotActive, merchant=actors.arbiter.address):
        registry.recordCustody([event], sender=actors.arbiter)
    with ape.reverts(
        registry.RegistryNotItemCustodian, caller=actors.merchant.address, itemId=item
    ):
        registry.recallItem(item, h("recall"), sender=actors.merchant)

    registry.recordCustody([event], sender=actors.oracle)
    assert registry.isEventRecorded(actors.oracle.address, 1)
