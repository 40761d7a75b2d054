"""Recalls of items and of whole batches: only by their merchant, and final."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.registry.helpers import ItemState, Verdict, h, key_of


def test_recall_item_marks_it_recalled_and_emits_event(
    registry: Any, merchant: Any, register_item: Any
) -> None:
    item_id = register_item()
    updated_at = registry.itemOf(item_id).updatedAt

    tx = registry.recallItem(item_id, h("recall notice"), sender=merchant)

    assert tx.events == [
        registry.ItemRecalled(itemId=item_id, merchant=merchant, reasonHash=h("recall notice"))
    ]
    item = registry.itemOf(item_id)
    assert item.state == ItemState.RECALLED
    assert item.updatedAt == updated_at
    assert registry.verify(item_id) == Verdict.RECALLED


def test_recall_item_outranks_a_flag(
    registry: Any, merchant: Any, register_item: Any, confirmed_flag: Any
) -> None:
    item_id = register_item()
    confirmed_flag(item_id)

    registry.recallItem(item_id, h("recall"), sender=merchant)

    assert registry.verify(item_id) == Verdict.RECALLED


def test_recall_item_reverts_for_unregistered_item(registry: Any, merchant: Any) -> None:
    with ape.reverts(registry.RegistryItemNotRegistered, itemId=h("nothing")):
        registry.recallItem(h("nothing"), h("recall"), sender=merchant)


@pytest.mark.parametrize("caller", ["other_merchant", "oracle", "verifier", "shopper"])
def test_recall_item_reverts_for_anyone_but_its_merchant(
    registry: Any, register_item: Any, request: Any, caller: str
) -> None:
    item_id = register_item()
    account = request.getfixturevalue(caller)

    with ape.reverts(registry.RegistryNotItemCustodian, caller=account.address, itemId=item_id):
        registry.recallItem(item_id, h("recall"), sender=account)


def test_recall_item_reverts_for_recalled_item(
    registry: Any, merchant: Any, register_item: Any
) -> None:
    item_id = register_item()
    registry.recallItem(item_id, h("recall"), sender=merchant)

    with ape.reverts(registry.RegistryItemAlreadyRecalled, itemId=item_id):
        registry.recallItem(item_id, h("again"), sender=merchant)


def test_suspended_merchant_can_still_recall(
    registry: Any, verifier: Any, merchant: Any, register_item: Any, register_batch: Any
) -> None:
    item_id, batch = register_item(), register_batch(2)
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    registry.recallItem(item_id, h("recall"), sender=merchant)
    registry.recallBatch(batch.root, h("recall"), sender=merchant)

    assert registry.verify(item_id) == Verdict.RECALLED
    assert registry.batchOf(batch.root).recalled is True


def test_recall_is_final_through_reinstatement_and_reports(
    registry: Any, verifier: Any, merchant: Any, register_item: Any, file_report: Any
) -> None:
    item_id = register_item()
    registry.recallItem(item_id, h("recall"), sender=merchant)
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)
    registry.reinstateMerchant(merchant, sender=verifier)
    registry.dismissReport(file_report(item_id), h("finding"), sender=verifier)
    registry.confirmReport(file_report(item_id), h("finding"), sender=verifier)

    assert registry.itemOf(item_id).state == ItemState.RECALLED
    assert registry.verify(item_id) == Verdict.RECALLED
    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=item_id):
        registry.registerItem(key_of(item_id).as_abi(), h("metadata"), "ipfs://x", sender=merchant)


def test_recall_batch_marks_it_recalled_and_emits_event(
    registry: Any, merchant: Any, register_batch: Any
) -> None:
    batch = register_batch(4)

    tx = registry.recallBatch(batch.root, h("batch recall"), sender=merchant)

    assert tx.events == [
        registry.BatchRecalled(root=batch.root, merchant=merchant, reasonHash=h("batch recall"))
    ]
    assert registry.batchOf(batch.root).recalled is True
    for index, leaf in enumerate(batch.tree.leaves):
        verdict = registry.verifyBatchItem(
            batch.root, batch.key(index).as_abi(), leaf.metadata_hash, batch.proof(index)
        )
        assert verdict == Verdict.RECALLED


def test_recall_batch_reaches_items_activated_before_it(
    registry: Any, merchant: Any, register_batch: Any, activate: Any
) -> None:
    batch = register_batch(3)
    activate(batch, 0)
    item_id = batch.leaf(0).item_id

    registry.recallBatch(batch.root, h("batch recall"), sender=merchant)

    assert registry.verify(item_id) == Verdict.RECALLED
    with ape.reverts(registry.RegistryItemAlreadyRecalled, itemId=item_id):
        registry.recallItem(item_id, h("again"), sender=merchant)


def test_recall_batch_outranks_a_flag_on_an_activated_item(
    registry: Any,
    verifier: Any,
    merchant: Any,
    register_batch: Any,
    activate: Any,
    file_report: Any,
) -> None:
    batch = register_batch(3)
    activate(batch, 1)
    item_id = batch.leaf(1).item_id
    report_id = file_report(item_id)
    registry.recallBatch(batch.root, h("batch recall"), sender=merchant)

    tx = registry.confirmReport(report_id, h("finding"), sender=verifier)

    assert tx.events == [
        registry.ReportConfirmed(
            reportId=report_id, itemId=item_id, findingHash=h("finding"), verifier=verifier
        )
    ]
    assert registry.verify(item_id) == Verdict.RECALLED


def test_recalling_one_batch_item_leaves_its_siblings_authentic(
    registry: Any, merchant: Any, register_batch: Any, activate: Any
) -> None:
    batch = register_batch(3)
    activate(batch, 0)

    registry.recallItem(batch.leaf(0).item_id, h("recall"), sender=merchant)

    assert registry.verify(batch.leaf(0).item_id) == Verdict.RECALLED
    leaf = batch.leaf(1)
    assert (
        registry.verifyBatchItem(
            batch.root, batch.key(1).as_abi(), leaf.metadata_hash, batch.proof(1)
        )
        == Verdict.AUTHENTIC
    )


def test_recall_batch_reverts_for_unregistered_batch(registry: Any, merchant: Any) -> None:
    with ape.reverts(registry.RegistryBatchNotRegistered, root=h("no root")):
        registry.recallBatch(h("no root"), h("recall"), sender=merchant)


@pytest.mark.parametrize("caller", ["other_merchant", "oracle", "verifier", "shopper"])
def test_recall_batch_reverts_for_anyone_but_its_merchant(
    registry: Any, register_batch: Any, request: Any, caller: str
) -> None:
    batch = register_batch(2)
    account = request.getfixturevalue(caller)

    with ape.reverts(registry.RegistryNotBatchMerchant, caller=account.address, root=batch.root):
        registry.recallBatch(batch.root, h("recall"), sender=account)


def test_recall_batch_reverts_for_recalled_batch(
    registry: Any, merchant: Any, register_batch: Any
) -> None:
    batch = register_batch(2)
    registry.recallBatch(batch.root, h("recall"), sender=merchant)

    with ape.reverts(registry.RegistryBatchAlreadyRecalled, root=batch.root):
        registry.recallBatch(batch.root, h("again"), sender=merchant)
