"""Merkle batches: registerBatch, activateBatchItem (by the item's key), batchLeaf."""

from __future__ import annotations

from typing import Any

import ape
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from app.domain.merkle import BatchLeaf, ItemBatch
from tests.contracts.registry.helpers import (
    ZERO32,
    ZERO_ADDRESS,
    CustodyAction,
    ItemState,
    Verdict,
    gs1_key,
    h,
    key_of,
)


def test_register_batch_stores_record_and_emits_event(
    registry: Any, merchant: Any, make_batch: Any
) -> None:
    batch = make_batch(7)

    tx = registry.registerBatch(batch.root, 7, h("manifest"), "ipfs://batch-7", sender=merchant)

    assert tx.events == [
        registry.BatchRegistered(
            root=batch.root,
            merchant=merchant,
            itemCount=7,
            metadataHash=h("manifest"),
            metadataURI="ipfs://batch-7",
        )
    ]
    record = registry.batchOf(batch.root)
    assert record.merchant == merchant.address
    assert record.registeredAt == tx.timestamp
    assert record.itemCount == 7
    assert record.recalled is False


def test_register_batch_does_not_create_item_records(registry: Any, register_batch: Any) -> None:
    batch = register_batch(3)

    for leaf in batch.tree.leaves:
        assert registry.itemOf(leaf.item_id).merchant == ZERO_ADDRESS
        assert registry.verify(leaf.item_id) == Verdict.UNKNOWN


def test_register_batch_reverts_for_zero_root(registry: Any, merchant: Any) -> None:
    with ape.reverts(registry.RegistryZeroId):
        registry.registerBatch(ZERO32, 3, h("manifest"), "ipfs://b", sender=merchant)


def test_register_batch_reverts_for_zero_metadata_hash(
    registry: Any, merchant: Any, make_batch: Any
) -> None:
    with ape.reverts(registry.RegistryZeroId):
        registry.registerBatch(make_batch(2).root, 2, ZERO32, "ipfs://b", sender=merchant)


def test_register_batch_reverts_for_zero_item_count(
    registry: Any, merchant: Any, make_batch: Any
) -> None:
    root = make_batch(2).root

    with ape.reverts(registry.RegistryBatchEmpty, root=root):
        registry.registerBatch(root, 0, h("manifest"), "ipfs://b", sender=merchant)


def test_register_batch_reverts_for_duplicate_root(
    registry: Any, merchant: Any, other_merchant: Any, register_batch: Any
) -> None:
    batch = register_batch(2)

    with ape.reverts(registry.RegistryBatchAlreadyRegistered, root=batch.root):
        registry.registerBatch(batch.root, 2, h("manifest"), "ipfs://b", sender=merchant)
    with ape.reverts(registry.RegistryBatchAlreadyRegistered, root=batch.root):
        registry.registerBatch(batch.root, 2, h("manifest"), "ipfs://b", sender=other_merchant)


def test_register_batch_reverts_for_unapproved_caller(
    registry: Any, shopper: Any, make_batch: Any
) -> None:
    with ape.reverts(registry.RegistryMerchantNotActive, merchant=shopper.address):
        registry.registerBatch(make_batch(2).root, 2, h("manifest"), "ipfs://b", sender=shopper)


def test_batch_of_unknown_root_is_empty(registry: Any) -> None:
    record = registry.batchOf(h("no such root"))

    assert record.merchant == ZERO_ADDRESS
    assert record.registeredAt == 0
    assert record.itemCount == 0
    assert record.recalled is False


# ------------------------------------------------------------------ activation


def test_activate_batch_item_creates_record_for_batch_merchant_and_emits_event(
    registry: Any, merchant: Any, shopper: Any, register_batch: Any
) -> None:
    batch = register_batch(5)
    leaf = batch.leaf(3)

    tx = registry.activateBatchItem(
        batch.root, batch.key(3).as_abi(), leaf.metadata_hash, batch.proof(3), sender=shopper
    )

    assert tx.events == [
        registry.BatchItemActivated(
            itemId=leaf.item_id, root=batch.root, metadataHash=leaf.metadata_hash
        )
    ]
    item = registry.itemOf(leaf.item_id)
    assert item.merchant == merchant.address
    assert item.updatedAt == tx.timestamp
    assert item.lastAction == CustodyAction.NONE
    assert item.state == ItemState.ACTIVE
    assert item.inBatch is True
    assert registry.verify(leaf.item_id) == Verdict.AUTHENTIC


def test_activate_batch_item_works_for_single_item_batch_with_empty_proof(
    registry: Any, register_batch: Any, activate: Any
) -> None:
    batch = register_batch(1)
    assert batch.proof(0) == []

    activate(batch, 0)

    assert registry.verify(batch.leaf(0).item_id) == Verdict.AUTHENTIC


def test_activate_batch_item_reverts_for_unregistered_batch(
    registry: Any, shopper: Any, make_batch: Any
) -> None:
    tree = make_batch(3)
    leaf = tree.leaves[0]

    with ape.reverts(registry.RegistryBatchNotRegistered, root=tree.root):
        registry.activateBatchItem(
            tree.root,
            key_of(leaf.item_id).as_abi(),
            leaf.metadata_hash,
            tree.proof(leaf.item_id),
            sender=shopper,
        )


def test_activate_batch_item_reverts_for_invalid_proof(
    registry: Any, shopper: Any, register_batch: Any
) -> None:
    batch = register_batch(4)
    leaf = batch.leaf(1)
    wrong_proof = batch.proof(2)

    with ape.reverts(registry.RegistryInvalidProof, root=batch.root, itemId=leaf.item_id):
        registry.activateBatchItem(
            batch.root, batch.key(1).as_abi(), leaf.metadata_hash, wrong_proof, sender=shopper
        )


def test_activate_batch_item_reverts_for_wrong_metadata_hash(
    registry: Any, shopper: Any, register_batch: Any
) -> None:
    batch = register_batch(4)
    leaf = batch.leaf(1)

    with ape.reverts(registry.RegistryInvalidProof, root=batch.root, itemId=leaf.item_id):
        registry.activateBatchItem(
            batch.root, batch.key(1).as_abi(), h("forged metadata"), batch.proof(1), sender=shopper
        )


def test_activate_batch_item_reverts_for_item_of_another_batch(
    registry: Any, shopper: Any, register_batch: Any
) -> None:
    batch, other = register_batch(4), register_batch(4)
    leaf = other.leaf(0)

    with ape.reverts(registry.RegistryInvalidProof, root=batch.root, itemId=leaf.item_id):
        registry.activateBatchItem(
            batch.root, other.key(0).as_abi(), leaf.metadata_hash, other.proof(0), sender=shopper
        )


def test_activate_batch_item_reverts_for_already_activated_item(
    registry: Any, shopper: Any, register_batch: Any, activate: Any
) -> None:
    batch = register_batch(3)
    activate(batch, 0)
    leaf = batch.leaf(0)

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=leaf.item_id):
        registry.activateBatchItem(
            batch.root, batch.key(0).as_abi(), leaf.metadata_hash, batch.proof(0), sender=shopper
        )


def test_activate_batch_item_reverts_for_item_registered_singly(
    registry: Any, shopper: Any, merchant: Any, register_item: Any, register_batch: Any
) -> None:
    item_id = register_item()
    tree = ItemBatch([BatchLeaf(item_id, h("m")), BatchLeaf(h("another item"), h("m2"))])
    batch = register_batch(tree=tree)

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=item_id):
        registry.activateBatchItem(
            batch.root, key_of(item_id).as_abi(), h("m"), tree.proof(item_id), sender=shopper
        )


def test_batch_cannot_activate_another_merchants_sku_id(
    registry: Any, shopper: Any, other_merchant: Any, new_item_id: Any, register_batch: Any
) -> None:
    """A leaf naming a rival's id proves nothing: keys are read under the batch's merchant."""
    rivals = new_item_id(other_merchant)
    key = key_of(rivals)
    tree = ItemBatch([BatchLeaf(rivals, h("m")), BatchLeaf(h("another item"), h("m2"))])
    batch = register_batch(tree=tree)

    with ape.reverts(
        registry.RegistryInvalidProof, root=batch.root, itemId=key.item_id(batch.merchant)
    ):
        registry.activateBatchItem(
            batch.root, key.as_abi(), h("m"), tree.proof(rivals), sender=shopper
        )
    assert registry.itemOf(rivals).merchant == ZERO_ADDRESS


def test_batch_cannot_activate_a_gs1_id_outside_its_merchants_prefixes(
    registry: Any, shopper: Any, register_batch: Any
) -> None:
    key = gs1_key("9506000134352", "A1")
    item_id = key.item_id(ZERO_ADDRESS)
    tree = ItemBatch([BatchLeaf(item_id, h("m")), BatchLeaf(h("another item"), h("m2"))])
    batch = register_batch(tree=tree)

    with ape.reverts(
        registry.RegistryGs1PrefixNotGranted, merchant=batch.merchant.address, gtin=key.code
    ):
        registry.activateBatchItem(
            batch.root, key.as_abi(), h("m"), tree.proof(item_id), sender=shopper
        )


def test_activate_batch_item_reverts_while_paused(
    registry: Any, admin: Any, shopper: Any, register_batch: Any, activate: Any
) -> None:
    batch = register_batch(2)
    registry.pause(sender=admin)

    with ape.reverts(registry.EnforcedPause):
        activate(batch, 0)
    registry.unpause(sender=admin)
    activate(batch, 0)
    assert registry.verify(batch.leaf(0).item_id) == Verdict.AUTHENTIC


def test_activate_batch_item_of_recalled_batch_records_it_recalled(
    registry: Any, merchant: Any, register_batch: Any, activate: Any
) -> None:
    batch = register_batch(3)
    registry.recallBatch(batch.root, h("recall"), sender=merchant)

    activate(batch, 1)

    item = registry.itemOf(batch.leaf(1).item_id)
    assert item.state == ItemState.RECALLED
    assert item.merchant == merchant.address
    assert registry.verify(batch.leaf(1).item_id) == Verdict.RECALLED


def test_activate_batch_item_flagged_before_activation_keeps_its_flag(
    registry: Any, merchant: Any, register_batch: Any, activate: Any, confirmed_flag: Any
) -> None:
    batch = register_batch(3)
    item_id = batch.leaf(2).item_id
    confirmed_flag(item_id)
    assert registry.itemOf(item_id).merchant == ZERO_ADDRESS
    assert registry.itemOf(item_id).state == ItemState.FLAGGED

    activate(batch, 2)

    item = registry.itemOf(item_id)
    assert item.merchant == merchant.address
    assert item.state == ItemState.FLAGGED
    assert item.inBatch is True
    assert registry.verify(item_id) == Verdict.FLAGGED


def test_activate_batch_item_works_while_merchant_is_suspended(
    registry: Any, verifier: Any, merchant: Any, register_batch: Any, activate: Any
) -> None:
    batch = register_batch(2)
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    activate(batch, 0)

    assert registry.itemOf(batch.leaf(0).item_id).merchant == merchant.address
    assert registry.verify(batch.leaf(0).item_id) == Verdict.MERCHANT_SUSPENDED


def test_batch_leaf_is_double_keccak_of_abi_encoded_pair(registry: Any) -> None:
    item_id, metadata_hash = h("item"), h("metadata")
    expected = keccak(keccak(encode(["bytes32", "bytes32"], [item_id, metadata_hash])))

    assert registry.batchLeaf(item_id, metadata_hash) == expected


def test_batch_leaf_of_single_item_batch_is_the_root(registry: Any, make_batch: Any) -> None:
    tree = make_batch(1)
    leaf = tree.leaves[0]

    assert registry.batchLeaf(leaf.item_id, leaf.metadata_hash) == tree.root


# ------------------------------------------------------------------ activation in chunks


def proofs(batch: Any, indices: list[int]) -> list[tuple[Any, bytes, list[bytes]]]:
    return [(batch.key(i).as_abi(), batch.leaf(i).metadata_hash, batch.proof(i)) for i in indices]


def test_activate_batch_items_activates_a_chunk_and_skips_items_already_activated(
    registry: Any, merchant: Any, shopper: Any, register_batch: Any, activate: Any
) -> None:
    batch = register_batch(6)
    activate(batch, 2)

    tx = registry.activateBatchItems(batch.root, proofs(batch, [1, 2, 3, 5]), sender=shopper)

    activated = [batch.leaf(i) for i in (1, 3, 5)]
    assert tx.events == [
        registry.BatchItemActivated(itemId=leaf.item_id, root=batch.root,
                                    metadataHash=leaf.metadata_hash)
        for leaf in activated
    ]  # fmt: skip
    for index in (1, 2, 3, 5):
        item = registry.itemOf(batch.leaf(index).item_id)
        assert (item.merchant, item.inBatch) == (merchant.address, True)
    assert registry.itemOf(batch.leaf(0).item_id).merchant == ZERO_ADDRESS


def test_activate_batch_items_is_all_or_none_on_a_bad_proof(
    registry: Any, shopper: Any, register_batch: Any
) -> None:
    batch = register_batch(4)
    items = proofs(batch, [0, 1])
    key, _, proof = items[1]
    items[1] = (key, h("not the committed metadata"), proof)
    wrong = batch.leaf(1).item_id

    with ape.reverts(registry.RegistryInvalidProof, root=batch.root, itemId=wrong):
        registry.activateBatchItems(batch.root, items, sender=shopper)

    assert registry.itemOf(batch.leaf(0).item_id).merchant == ZERO_ADDRESS


def test_activate_batch_items_refuses_an_item_registered_singly_and_an_empty_chunk(
    registry: Any, shopper: Any, register_item: Any, register_batch: Any
) -> None:
    item_id = register_item()
    tree = ItemBatch([BatchLeaf(item_id, h("m")), BatchLeaf(h("another item"), h("m2"))])
    batch = register_batch(tree=tree)

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=item_id):
        registry.activateBatchItems(batch.root, proofs(batch, [0]), sender=shopper)
    with ape.reverts(registry.RegistryEmptyInput):
        registry.activateBatchItems(batch.root, [], sender=shopper)
    other = register_batch(2)
    with ape.reverts(registry.RegistryBatchNotRegistered, root=h("no such root")):
        registry.activateBatchItems(h("no such root"), proofs(other, [1]), sender=shopper)


def test_activate_batch_items_reverts_while_paused(
    registry: Any, admin: Any, shopper: Any, register_batch: Any
) -> None:
    batch = register_batch(2)
    registry.pause(sender=admin)

    with ape.reverts(registry.EnforcedPause):
        registry.activateBatchItems(batch.root, proofs(batch, [0, 1]), sender=shopper)
