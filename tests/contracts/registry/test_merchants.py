"""Merchants: approval, suspension, reinstatement, and what suspension does to a merchant."""

from __future__ import annotations

from typing import Any

import ape

from tests.contracts.registry.helpers import (
    ZERO32,
    ZERO_ADDRESS,
    MerchantStatus,
    Verdict,
    custody,
    h,
)


def test_approve_merchant_stores_record_and_emits_event(
    registry: Any, verifier: Any, shopper: Any
) -> None:
    tx = registry.approveMerchant(shopper, "Corner Store", h("corner identity"), sender=verifier)

    assert tx.events == [
        registry.MerchantApproved(
            merchant=shopper,
            name="Corner Store",
            identityHash=h("corner identity"),
            verifier=verifier,
        )
    ]
    record = registry.merchantOf(shopper)
    assert record.status == MerchantStatus.ACTIVE
    assert record.approvedAt == tx.timestamp
    assert record.identityHash == h("corner identity")
    assert record.name == "Corner Store"


def test_approve_merchant_reverts_for_zero_address(registry: Any, verifier: Any) -> None:
    with ape.reverts(registry.RegistryZeroAddress):
        registry.approveMerchant(ZERO_ADDRESS, "Nobody", h("id"), sender=verifier)


def test_approve_merchant_reverts_for_zero_identity_hash(
    registry: Any, verifier: Any, shopper: Any
) -> None:
    with ape.reverts(registry.RegistryZeroId):
        registry.approveMerchant(shopper, "Corner Store", ZERO32, sender=verifier)


def test_approve_merchant_reverts_for_approved_merchant(
    registry: Any, verifier: Any, merchant: Any
) -> None:
    with ape.reverts(registry.RegistryMerchantAlreadyApproved, merchant=merchant.address):
        registry.approveMerchant(merchant, "Again", h("id"), sender=verifier)


def test_approve_merchant_reverts_for_suspended_merchant(
    registry: Any, verifier: Any, merchant: Any
) -> None:
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    with ape.reverts(registry.RegistryMerchantAlreadyApproved, merchant=merchant.address):
        registry.approveMerchant(merchant, "Fresh start", h("new id"), sender=verifier)


def test_merchant_of_unknown_address_has_status_none(registry: Any, shopper: Any) -> None:
    record = registry.merchantOf(shopper)

    assert record.status == MerchantStatus.NONE
    assert record.approvedAt == 0
    assert record.identityHash == ZERO32
    assert record.name == ""


def test_suspend_merchant_sets_status_and_emits_event(
    registry: Any, verifier: Any, merchant: Any
) -> None:
    tx = registry.suspendMerchant(merchant, h("fraud"), sender=verifier)

    assert tx.events == [
        registry.MerchantSuspended(merchant=merchant, reasonHash=h("fraud"), verifier=verifier)
    ]
    record = registry.merchantOf(merchant)
    assert record.status == MerchantStatus.SUSPENDED
    assert record.name == "Acme Goods"
    assert record.identityHash == h("acme identity")


def test_suspend_merchant_reverts_for_unknown_merchant(
    registry: Any, verifier: Any, shopper: Any
) -> None:
    with ape.reverts(registry.RegistryMerchantUnknown, merchant=shopper.address):
        registry.suspendMerchant(shopper, h("reason"), sender=verifier)


def test_suspend_merchant_reverts_for_suspended_merchant(
    registry: Any, verifier: Any, merchant: Any
) -> None:
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    with ape.reverts(
        registry.RegistryMerchantStatusUnchanged,
        merchant=merchant.address,
        status=MerchantStatus.SUSPENDED,
    ):
        registry.suspendMerchant(merchant, h("reason"), sender=verifier)


def test_reinstate_merchant_restores_active_status_and_emits_event(
    registry: Any, verifier: Any, merchant: Any
) -> None:
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    tx = registry.reinstateMerchant(merchant, sender=verifier)

    assert tx.events == [registry.MerchantReinstated(merchant=merchant, verifier=verifier)]
    assert registry.merchantOf(merchant).status == MerchantStatus.ACTIVE


def test_reinstate_merchant_reverts_for_unknown_merchant(
    registry: Any, verifier: Any, shopper: Any
) -> None:
    with ape.reverts(registry.RegistryMerchantUnknown, merchant=shopper.address):
        registry.reinstateMerchant(shopper, sender=verifier)


def test_reinstate_merchant_reverts_for_active_merchant(
    registry: Any, verifier: Any, merchant: Any
) -> None:
    with ape.reverts(
        registry.RegistryMerchantStatusUnchanged,
        merchant=merchant.address,
        status=MerchantStatus.ACTIVE,
    ):
        registry.reinstateMerchant(merchant, sender=verifier)


# ------------------------------------------------------------------ effects of suspension


def test_suspended_merchant_cannot_register_items(
    registry: Any, verifier: Any, merchant: Any, new_item_key: Any, make_batch: Any
) -> None:
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)
    batch = make_batch(3)
    key = new_item_key().as_abi()

    with ape.reverts(registry.RegistryMerchantNotActive, merchant=merchant.address):
        registry.registerItem(key, h("m"), "ipfs://x", sender=merchant)
    with ape.reverts(registry.RegistryMerchantNotActive, merchant=merchant.address):
        registry.registerItems([(key, h("m"), "ipfs://x")], sender=merchant)
    with ape.reverts(registry.RegistryMerchantNotActive, merchant=merchant.address):
        registry.registerBatch(batch.root, 3, h("manifest"), "ipfs://b", sender=merchant)


def test_suspended_merchant_cannot_record_custody_but_oracle_still_can(
    registry: Any, verifier: Any, merchant: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    with ape.reverts(registry.RegistryMerchantNotActive, merchant=merchant.address):
        registry.recordCustody([custody(item_id, now())], sender=merchant)
    registry.recordCustody([custody(item_id, now())], sender=oracle)


def test_suspension_turns_items_and_batches_to_merchant_suspended(
    registry: Any, verifier: Any, merchant: Any, register_item: Any, register_batch: Any
) -> None:
    item_id = register_item()
    batch = register_batch(4)
    leaf = batch.leaf(2)

    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    assert registry.verify(item_id) == Verdict.MERCHANT_SUSPENDED
    assert (
        registry.verifyBatchItem(
            batch.root, batch.key(2).as_abi(), leaf.metadata_hash, batch.proof(2)
        )
        == Verdict.MERCHANT_SUSPENDED
    )


def test_suspension_leaves_other_merchants_items_authentic(
    registry: Any, verifier: Any, merchant: Any, other_merchant: Any, register_item: Any
) -> None:
    other_item = register_item(sender=other_merchant)

    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    assert registry.verify(other_item) == Verdict.AUTHENTIC


def test_reinstatement_makes_items_authentic_and_registration_possible_again(
    registry: Any,
    verifier: Any,
    merchant: Any,
    register_item: Any,
    register_batch: Any,
    activate: Any,
) -> None:
    item_id = register_item()
    batch = register_batch(2)
    activate(batch, 0)
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    registry.reinstateMerchant(merchant, sender=verifier)

    assert registry.verify(item_id) == Verdict.AUTHENTIC
    assert registry.verify(batch.leaf(0).item_id) == Verdict.AUTHENTIC
    assert registry.verify(register_item()) == Verdict.AUTHENTIC
