"""The registry's pause: it stops registrations, activations and custody events; reports, recalls,
verifier actions and the escrow's hooks go on."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.registry.helpers import ReportKind, Verdict, custody, h


@pytest.fixture
def paused(registry: Any, admin: Any) -> Any:
    tx = registry.pause(sender=admin)
    assert tx.events == [registry.Paused(account=admin.address)]
    assert registry.paused()
    return registry


def test_pause_stops_registrations_activations_and_custody(
    paused: Any,
    merchant: Any,
    oracle: Any,
    new_item_key: Any,
    make_batch: Any,
    register_item: Any,
    now: Any,
) -> None:
    registry = paused
    key = new_item_key().as_abi()
    tree = make_batch(2)

    with ape.reverts(registry.EnforcedPause):
        registry.registerItem(key, h("m"), "ipfs://x", sender=merchant)
    with ape.reverts(registry.EnforcedPause):
        registry.registerItems([(key, h("m"), "ipfs://x")], sender=merchant)
    with ape.reverts(registry.EnforcedPause):
        registry.registerBatch(tree.root, 2, h("manifest"), "ipfs://b", sender=merchant)
    with ape.reverts(registry.EnforcedPause):
        registry.recordCustody([custody(h("any item"), now())], sender=oracle)


def test_pause_leaves_reports_recalls_and_verifier_actions_working(
    registry: Any,
    admin: Any,
    verifier: Any,
    merchant: Any,
    other_merchant: Any,
    shopper: Any,
    register_item: Any,
) -> None:
    flagged, recalled = register_item(), register_item()
    registry.pause(sender=admin)

    report = registry.fileReport(flagged, ReportKind.COUNTERFEIT, h("photo"), sender=shopper)
    report_id = report.events.filter(registry.ReportFiled)[0].reportId
    registry.confirmReport(report_id, h("finding"), sender=verifier)
    registry.recallItem(recalled, h("recall"), sender=merchant)
    registry.suspendMerchant(other_merchant, h("reason"), sender=verifier)
    registry.grantGs1Prefix("9506000", merchant, sender=verifier)

    assert registry.verify(flagged) == Verdict.FLAGGED
    assert registry.verify(recalled) == Verdict.RECALLED
    assert registry.gs1PrefixHolder("9506000") == merchant.address


def test_unpause_lets_registrations_through_again(
    paused: Any, admin: Any, merchant: Any, new_item_key: Any
) -> None:
    registry = paused
    key = new_item_key()

    tx = registry.unpause(sender=admin)

    assert tx.events == [registry.Unpaused(account=admin.address)]
    registry.registerItem(key.as_abi(), h("m"), "ipfs://x", sender=merchant)
    assert registry.verify(key.item_id(merchant)) == Verdict.AUTHENTIC


@pytest.mark.parametrize("caller", ["verifier", "merchant", "oracle", "shopper"])
def test_only_the_admin_pauses_and_unpauses(
    registry: Any, admin: Any, request: Any, caller: str
) -> None:
    account = request.getfixturevalue(caller)
    role = registry.DEFAULT_ADMIN_ROLE()

    with ape.reverts(
        registry.AccessControlUnauthorizedAccount, account=account.address, neededRole=role
    ):
        registry.pause(sender=account)
    registry.pause(sender=admin)
    with ape.reverts(
        registry.AccessControlUnauthorizedAccount, account=account.address, neededRole=role
    ):
        registry.unpause(sender=account)
