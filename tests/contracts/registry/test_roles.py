"""Deployment and access control: who holds which role, and what a missing role costs."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from ape.exceptions import ContractLogicError

from tests.contracts.registry.helpers import ZERO32, ZERO_ADDRESS, custody, h

DEFAULT_ADMIN_ROLE = ZERO32


def test_constructor_grants_admin_role_to_the_admin_argument_only(
    project: Any, admin: Any, verifier: Any
) -> None:
    registry = project.ProductRegistry.deploy(verifier, ZERO_ADDRESS, sender=admin)

    assert registry.hasRole(DEFAULT_ADMIN_ROLE, verifier)
    assert not registry.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert not registry.hasRole(registry.VERIFIER_ROLE(), verifier)
    assert not registry.hasRole(registry.ORACLE_ROLE(), verifier)
    assert not registry.hasRole(registry.ESCROW_ROLE(), verifier)
    assert registry.defaultAdmin() == verifier.address


def test_constructor_reverts_for_zero_admin(project: Any, admin: Any) -> None:
    # ape.reverts does not tell a constructor's custom errors apart: the type is checked here.
    with pytest.raises(ContractLogicError) as raised:
        project.ProductRegistry.deploy(ZERO_ADDRESS, ZERO_ADDRESS, sender=admin)

    assert type(raised.value).__name__ == "AccessControlInvalidDefaultAdmin"
    assert raised.value.inputs == {"defaultAdmin": ZERO_ADDRESS}


def test_role_ids_are_keccak_of_their_names(bare_registry: Any) -> None:
    assert bare_registry.VERIFIER_ROLE() == h("VERIFIER_ROLE")
    assert bare_registry.ORACLE_ROLE() == h("ORACLE_ROLE")
    assert bare_registry.ESCROW_ROLE() == h("ESCROW_ROLE")


def test_fresh_registry_has_no_reports_merchants_or_items(
    bare_registry: Any, merchant: Any
) -> None:
    assert bare_registry.reportCount() == 0
    assert bare_registry.merchantOf(merchant).status == 0
    assert bare_registry.itemOf(h("anything")).merchant == ZERO_ADDRESS
    assert bare_registry.batchOf(h("any root")).merchant == ZERO_ADDRESS


def test_admin_grants_and_revokes_roles_with_events(
    bare_registry: Any, admin: Any, verifier: Any
) -> None:
    role = bare_registry.VERIFIER_ROLE()

    tx = bare_registry.grantRole(role, verifier, sender=admin)

    assert tx.events == [bare_registry.RoleGranted(role=role, account=verifier, sender=admin)]
    assert bare_registry.hasRole(role, verifier)

    tx = bare_registry.revokeRole(role, verifier, sender=admin)

    assert tx.events == [bare_registry.RoleRevoked(role=role, account=verifier, sender=admin)]
    assert not bare_registry.hasRole(role, verifier)


def test_grant_role_reverts_for_non_admin(bare_registry: Any, verifier: Any, shopper: Any) -> None:
    with ape.reverts(
        bare_registry.AccessControlUnauthorizedAccount,
        account=verifier.address,
        neededRole=DEFAULT_ADMIN_ROLE,
    ):
        bare_registry.grantRole(bare_registry.VERIFIER_ROLE(), shopper, sender=verifier)


# Every verifier-only function, called with valid arguments for the `registry` fixture.
VERIFIER_CALLS = {
    "approveMerchant": lambda r, who: r.approveMerchant(who, "Shop", h("id"), sender=who),
    "suspendMerchant": lambda r, who: r.suspendMerchant(who, h("reason"), sender=who),
    "reinstateMerchant": lambda r, who: r.reinstateMerchant(who, sender=who),
    "confirmReport": lambda r, who: r.confirmReport(1, h("finding"), sender=who),
    "dismissReport": lambda r, who: r.dismissReport(1, h("finding"), sender=who),
    "grantGs1Prefix": lambda r, who: r.grantGs1Prefix("9506000", who, sender=who),
    "revokeGs1Prefix": lambda r, who: r.revokeGs1Prefix("9506000", sender=who),
    "reassignItem": lambda r, who: r.reassignItem(h("item"), who, h("finding"), sender=who),
}


@pytest.mark.parametrize("call", VERIFIER_CALLS.values(), ids=VERIFIER_CALLS.keys())
@pytest.mark.parametrize("caller", ["shopper", "admin", "merchant", "oracle"])
def test_verifier_functions_revert_for_accounts_without_verifier_role(
    registry: Any, register_item: Any, file_report: Any, request: Any, call: Any, caller: str
) -> None:
    file_report(register_item())
    account = request.getfixturevalue(caller)
    with ape.reverts(
        registry.AccessControlUnauthorizedAccount,
        account=account.address,
        neededRole=registry.VERIFIER_ROLE(),
    ):
        call(registry, account)


def test_revoked_verifier_loses_its_powers(
    registry: Any, admin: Any, verifier: Any, shopper: Any
) -> None:
    registry.revokeRole(registry.VERIFIER_ROLE(), verifier, sender=admin)

    with ape.reverts(
        registry.AccessControlUnauthorizedAccount,
        account=verifier.address,
        neededRole=registry.VERIFIER_ROLE(),
    ):
        registry.approveMerchant(shopper, "Shop", h("id"), sender=verifier)


def test_revoked_oracle_records_custody_only_as_a_merchant_would(
    registry: Any, admin: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()
    registry.revokeRole(registry.ORACLE_ROLE(), oracle, sender=admin)

    with ape.reverts(registry.RegistryMerchantNotActive, merchant=oracle.address):
        registry.recordCustody([custody(item_id, now())], sender=oracle)


def test_admin_role_administers_verifier_oracle_and_escrow_roles(bare_registry: Any) -> None:
    assert bare_registry.getRoleAdmin(bare_registry.VERIFIER_ROLE()) == DEFAULT_ADMIN_ROLE
    assert bare_registry.getRoleAdmin(bare_registry.ORACLE_ROLE()) == DEFAULT_ADMIN_ROLE
    assert bare_registry.getRoleAdmin(bare_registry.ESCROW_ROLE()) == DEFAULT_ADMIN_ROLE
    assert bare_registry.DEFAULT_ADMIN_ROLE() == DEFAULT_ADMIN_ROLE


def test_role_holder_may_renounce_its_own_role_only(
    registry: Any, verifier: Any, oracle: Any
) -> None:
    role = registry.VERIFIER_ROLE()
    with ape.reverts(registry.AccessControlBadConfirmation):
        registry.renounceRole(role, verifier, sender=oracle)

    tx = registry.renounceRole(role, verifier, sender=verifier)

    assert tx.events == [registry.RoleRevoked(role=role, account=verifier, sender=verifier)]
    assert not registry.hasRole(role, verifier)


def test_supports_erc165_and_access_control_interfaces(bare_registry: Any) -> None:
    assert bare_registry.supportsInterface("0x01ffc9a7")  # IERC165
    assert bare_registry.supportsInterface("0x7965db0b")  # IAccessControl
    assert not bare_registry.supportsInterface("0xffffffff")


@pytest.mark.parametrize(
    "call",
    [
        lambda r, who: r.holdItems(h("order"), who, [h("item")], sender=who),
        lambda r, who: r.freeItems(h("order"), [h("item")], 1, sender=who),
        lambda r, who: r.recordSales(who, [], sender=who),
    ],
    ids=["holdItems", "freeItems", "recordSales"],
)
@pytest.mark.parametrize("caller", ["admin", "verifier", "merchant", "oracle"])
def test_escrow_hooks_revert_for_accounts_without_escrow_role(
    registry: Any, request: Any, call: Any, caller: str
) -> None:
    account = request.getfixturevalue(caller)
    with ape.reverts(
        registry.AccessControlUnauthorizedAccount,
        account=account.address,
        neededRole=registry.ESCROW_ROLE(),
    ):
        call(registry, account)
