"""A verifier moves an id registered in error to its rightful merchant, or revokes it."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from app.domain.merkle import BatchLeaf, ItemBatch
from tests.contracts.registry.helpers import (
    ZERO_ADDRESS,
    CustodyAction,
    ItemState,
    Verdict,
    custody,
    gs1_key,
    h,
)

GTIN = "9506000134352"
PREFIX = "9506000"
ORDER = h("order 1")


@pytest.fixture
def squatted(registry: Any, verifier: Any, merchant: Any) -> bytes:
    """A GS1 id `merchant` registered under a prefix granted in error, then moved to
    `other_merchant`, its rightful owner."""
    registry.grantGs1Prefix(PREFIX, merchant, sender=verifier)
    key = gs1_key(GTIN, "A1")
    registry.registerItem(key.as_abi(), h("m"), "ipfs://squat", sender=merchant)
    return key.item_id(merchant)


def test_reassign_moves_the_item_to_another_merchant(
    registry: Any, verifier: Any, merchant: Any, other_merchant: Any, squatted: bytes
) -> None:
    tx = registry.reassignItem(squatted, other_merchant, h("finding"), sender=verifier)

    assert tx.events == [
        registry.ItemReassigned(
            itemId=squatted,
            **{"from": merchant.address},
            to=other_merchant.address,
            reasonHash=h("finding"),
        )
    ]
    item = registry.itemOf(squatted)
    assert (item.merchant, item.inBatch) == (other_merchant.address, False)
    assert registry.verify(squatted) == Verdict.AUTHENTIC


def test_reassigned_item_answers_to_its_new_merchant_only(
    registry: Any,
    verifier: Any,
    merchant: Any,
    other_merchant: Any,
    squatted: bytes,
    now: Any,
) -> None:
    registry.reassignItem(squatted, other_merchant, h("finding"), sender=verifier)

    with ape.reverts(registry.RegistryNotItemCustodian, caller=merchant.address, itemId=squatted):
        registry.recordCustody([custody(squatted, now())], sender=merchant)
    with ape.reverts(registry.RegistryNotItemCustodian, caller=merchant.address, itemId=squatted):
        registry.recallItem(squatted, h("recall"), sender=merchant)
    registry.recallItem(squatted, h("recall"), sender=other_merchant)
    assert registry.itemOf(squatted).state == ItemState.RECALLED


def test_revoked_item_reads_unknown_and_its_rightful_owner_registers_it(
    registry: Any, verifier: Any, merchant: Any, other_merchant: Any, squatted: bytes
) -> None:
    tx = registry.reassignItem(squatted, ZERO_ADDRESS, h("squatting"), sender=verifier)

    assert tx.events == [
        registry.ItemReassigned(
            itemId=squatted,
            **{"from": merchant.address},
            to=ZERO_ADDRESS,
            reasonHash=h("squatting"),
        )
    ]
    assert registry.itemOf(squatted).merchant == ZERO_ADDRESS
    assert registry.verify(squatted) == Verdict.UNKNOWN

    registry.revokeGs1Prefix(PREFIX, sender=verifier)
    registry.grantGs1Prefix(PREFIX, other_merchant, sender=verifier)
    registry.registerItem(
        gs1_key(GTIN, "A1").as_abi(), h("m"), "ipfs://real", sender=other_merchant
    )

    assert registry.itemOf(squatted).merchant == other_merchant.address
    assert registry.verify(squatted) == Verdict.AUTHENTIC


def test_reassign_reverts_for_unknown_item_same_merchant_or_unapproved_target(
    registry: Any, verifier: Any, merchant: Any, shopper: Any, register_item: Any
) -> None:
    item = register_item()
    unknown = h("never registered")

    with ape.reverts(registry.RegistryItemNotRegistered, itemId=unknown):
        registry.reassignItem(unknown, merchant, h("f"), sender=verifier)
    for target in (merchant, shopper):
        with ape.reverts(registry.RegistryReassignTarget, itemId=item, to=target.address):
            registry.reassignItem(item, target, h("f"), sender=verifier)


def test_verify_batch_item_reads_unknown_for_a_reassigned_id(
    registry: Any,
    verifier: Any,
    merchant: Any,
    other_merchant: Any,
    register_batch: Any,
    activate: Any,
) -> None:
    batch = register_batch(3)
    activate(batch, 1)
    leaf, key = batch.leaf(1), batch.key(1)

    registry.reassignItem(leaf.item_id, other_merchant, h("finding"), sender=verifier)

    verdict = registry.verifyBatchItem(batch.root, key.as_abi(), leaf.metadata_hash, batch.proof(1))
    assert verdict == Verdict.UNKNOWN
    assert registry.itemOf(leaf.item_id).inBatch is False
    # The batch's recall no longer reaches an id it does not speak for.
    registry.recallBatch(batch.root, h("recall"), sender=merchant)
    assert registry.verify(leaf.item_id) == Verdict.AUTHENTIC
    sibling = registry.verifyBatchItem(
        batch.root, batch.key(0).as_abi(), batch.leaf(0).metadata_hash, batch.proof(0)
    )
    assert sibling == Verdict.RECALLED


def test_verify_batch_item_reads_unknown_for_a_gtin_outside_the_batch_merchants_prefixes(
    registry: Any, verifier: Any, merchant: Any, other_merchant: Any, register_batch: Any
) -> None:
    registry.grantGs1Prefix(PREFIX, merchant, sender=verifier)
    key = gs1_key(GTIN, "B7")
    item_id = key.item_id(merchant)
    tree = ItemBatch([BatchLeaf(item_id, h("m")), BatchLeaf(h("another item"), h("m2"))])
    batch = register_batch(tree=tree)

    def verdict() -> Verdict:
        return Verdict(
            registry.verifyBatchItem(batch.root, key.as_abi(), h("m"), tree.proof(item_id))
        )

    assert verdict() == Verdict.AUTHENTIC
    registry.revokeGs1Prefix(PREFIX, sender=verifier)
    assert verdict() == Verdict.UNKNOWN
    registry.grantGs1Prefix(PREFIX, other_merchant, sender=verifier)
    assert verdict() == Verdict.UNKNOWN


# ------------------------------------------------------------------ holds survive a revocation


@pytest.fixture
def escrow_role(accounts: Any, registry: Any, admin: Any) -> Any:
    """Stands in for the order escrow: holds the registry's ESCROW_ROLE."""
    account = accounts[9]
    registry.grantRole(registry.ESCROW_ROLE(), account, sender=admin)
    return account


def test_revocation_keeps_an_open_orders_hold_so_the_item_is_never_in_two_orders(
    registry: Any,
    verifier: Any,
    merchant: Any,
    other_merchant: Any,
    escrow_role: Any,
    squatted: bytes,
) -> None:
    """An order holding a revoked id keeps holding it: the rightful owner registers the id afresh,
    but no second order can hold it until the first lets go (else the first order's refund
    would free the item while the second still held it)."""
    registry.holdItems(ORDER, merchant, [squatted], sender=escrow_role)
    registry.reassignItem(squatted, ZERO_ADDRESS, h("squatting"), sender=verifier)
    registry.revokeGs1Prefix(PREFIX, sender=verifier)
    registry.grantGs1Prefix(PREFIX, other_merchant, sender=verifier)
    registry.registerItem(
        gs1_key(GTIN, "A1").as_abi(), h("m"), "ipfs://real", sender=other_merchant
    )

    with ape.reverts(registry.RegistryItemHeld, itemId=squatted):
        registry.holdItems(h("order 2"), other_merchant, [squatted], sender=escrow_role)

    registry.freeItems(ORDER, [squatted], 1, sender=escrow_role)
    registry.holdItems(h("order 2"), other_merchant, [squatted], sender=escrow_role)
    assert registry.itemOf(squatted).held


def test_sale_of_a_reassigned_item_under_its_old_merchant_is_refused(
    registry: Any,
    verifier: Any,
    merchant: Any,
    other_merchant: Any,
    escrow_role: Any,
    squatted: bytes,
    now: Any,
) -> None:
    registry.holdItems(ORDER, merchant, [squatted], sender=escrow_role)
    registry.reassignItem(squatted, other_merchant, h("finding"), sender=verifier)

    with ape.reverts(registry.RegistryNotItemCustodian, caller=merchant.address, itemId=squatted):
        registry.recordSales(
            merchant, [custody(squatted, now(), CustodyAction.SOLD, event_id=0)], sender=escrow_role
        )
    assert registry.itemOf(squatted).held


def test_reassigning_an_item_of_a_recalled_batch_keeps_it_recalled(
    registry: Any,
    verifier: Any,
    merchant: Any,
    other_merchant: Any,
    register_batch: Any,
    activate: Any,
) -> None:
    """The recall went out with the goods made under the batch: moving the id to another merchant
    does not make it read Authentic again."""
    batch = register_batch(2)
    activate(batch, 0)
    item_id = batch.leaf(0).item_id
    registry.recallBatch(batch.root, h("recall"), sender=merchant)
    assert registry.verify(item_id) == Verdict.RECALLED

    registry.reassignItem(item_id, other_merchant, h("finding"), sender=verifier)

    assert registry.verify(item_id) == Verdict.RECALLED
    assert registry.itemOf(item_id).merchant == other_merchant.address
