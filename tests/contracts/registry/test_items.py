"""Single item registration: registerItem and the all-or-none registerItems."""

from __future__ import annotations

from typing import Any

import ape

from tests.contracts.registry.helpers import (
    ZERO32,
    ZERO_ADDRESS,
    CustodyAction,
    ItemState,
    Verdict,
    h,
)


def test_register_item_stores_record_and_emits_event(
    registry: Any, merchant: Any, new_item_id: Any
) -> None:
    item_id = new_item_id()

    tx = registry.registerItem(item_id, h("metadata"), "ipfs://item-1", sender=merchant)

    assert tx.events == [
        registry.ItemRegistered(
            itemId=item_id,
            merchant=merchant,
            metadataHash=h("metadata"),
            metadataURI="ipfs://item-1",
        )
    ]
    item = registry.itemOf(item_id)
    assert item.merchant == merchant.address
    assert item.updatedAt == tx.timestamp
    assert item.lastAction == CustodyAction.NONE
    assert item.state == ItemState.ACTIVE
    assert item.inBatch is False
    assert registry.verify(item_id) == Verdict.AUTHENTIC


def test_register_item_accepts_empty_metadata_uri(
    registry: Any, merchant: Any, new_item_id: Any
) -> None:
    item_id = new_item_id()

    registry.registerItem(item_id, h("metadata"), "", sender=merchant)

    assert registry.itemOf(item_id).merchant == merchant.address


def test_register_item_reverts_for_zero_item_id(registry: Any, merchant: Any) -> None:
    with ape.reverts(registry.RegistryZeroId):
        registry.registerItem(ZERO32, h("metadata"), "ipfs://x", sender=merchant)


def test_register_item_reverts_for_zero_metadata_hash(
    registry: Any, merchant: Any, new_item_id: Any
) -> None:
    with ape.reverts(registry.RegistryZeroId):
        registry.registerItem(new_item_id(), ZERO32, "ipfs://x", sender=merchant)


def test_register_item_reverts_for_duplicate_id(
    registry: Any, merchant: Any, register_item: Any
) -> None:
    item_id = register_item()

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=item_id):
        registry.registerItem(item_id, h("other metadata"), "ipfs://y", sender=merchant)


def test_register_item_reverts_for_id_taken_by_another_merchant(
    registry: Any, merchant: Any, other_merchant: Any, register_item: Any
) -> None:
    item_id = register_item(sender=merchant)

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=item_id):
        registry.registerItem(item_id, h("metadata"), "ipfs://y", sender=other_merchant)
    assert registry.itemOf(item_id).merchant == merchant.address


def test_register_item_reverts_for_unapproved_caller(
    registry: Any, shopper: Any, new_item_id: Any
) -> None:
    with ape.reverts(registry.RegistryMerchantNotActive, merchant=shopper.address):
        registry.registerItem(new_item_id(), h("metadata"), "ipfs://x", sender=shopper)


def test_register_item_reverts_for_id_of_batch_item_flagged_before_activation(
    registry: Any, merchant: Any, make_batch: Any, confirmed_flag: Any
) -> None:
    item_id = make_batch(1).leaves[0].item_id
    confirmed_flag(item_id)

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=item_id):
        registry.registerItem(item_id, h("metadata"), "ipfs://x", sender=merchant)


def test_register_items_registers_all_in_order(
    registry: Any, merchant: Any, new_item_id: Any
) -> None:
    ids = [new_item_id() for _ in range(3)]
    inputs = [(item_id, h(f"metadata {i}"), f"ipfs://{i}") for i, item_id in enumerate(ids)]

    tx = registry.registerItems(inputs, sender=merchant)

    assert tx.events == [
        registry.ItemRegistered(
            itemId=item_id,
            merchant=merchant,
            metadataHash=h(f"metadata {i}"),
            metadataURI=f"ipfs://{i}",
        )
        for i, item_id in enumerate(ids)
    ]
    for item_id in ids:
        assert registry.itemOf(item_id).merchant == merchant.address
        assert registry.verify(item_id) == Verdict.AUTHENTIC


def test_register_items_reverts_for_empty_input(registry: Any, merchant: Any) -> None:
    with ape.reverts(registry.RegistryEmptyInput):
        registry.registerItems([], sender=merchant)


def test_register_items_reverts_for_unapproved_caller(
    registry: Any, shopper: Any, new_item_id: Any
) -> None:
    with ape.reverts(registry.RegistryMerchantNotActive, merchant=shopper.address):
        registry.registerItems([(new_item_id(), h("m"), "ipfs://x")], sender=shopper)


def test_register_items_is_all_or_none_on_duplicate_within_input(
    registry: Any, merchant: Any, new_item_id: Any
) -> None:
    first, second = new_item_id(), new_item_id()
    inputs = [
        (first, h("a"), "ipfs://a"),
        (second, h("b"), "ipfs://b"),
        (first, h("c"), "ipfs://c"),
    ]

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=first):
        registry.registerItems(inputs, sender=merchant)

    assert registry.itemOf(first).merchant == ZERO_ADDRESS
    assert registry.itemOf(second).merchant == ZERO_ADDRESS


def test_register_items_is_all_or_none_on_already_registered_id(
    registry: Any, merchant: Any, new_item_id: Any, register_item: Any
) -> None:
    fresh, taken = new_item_id(), register_item()

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=taken):
        registry.registerItems(
            [(fresh, h("a"), "ipfs://a"), (taken, h("b"), "ipfs://b")], sender=merchant
        )

    assert registry.itemOf(fresh).merchant == ZERO_ADDRESS


def test_register_items_is_all_or_none_on_zero_hash(
    registry: Any, merchant: Any, new_item_id: Any
) -> None:
    fresh = new_item_id()

    with ape.reverts(registry.RegistryZeroId):
        registry.registerItems(
            [(fresh, h("a"), "ipfs://a"), (new_item_id(), ZERO32, "ipfs://b")], sender=merchant
        )

    assert registry.itemOf(fresh).merchant == ZERO_ADDRESS


def test_register_items_is_all_or_none_on_zero_item_id(
    registry: Any, merchant: Any, new_item_id: Any
) -> None:
    fresh = new_item_id()

    with ape.reverts(registry.RegistryZeroId):
        registry.registerItems(
            [(fresh, h("a"), "ipfs://a"), (ZERO32, h("b"), "ipfs://b")], sender=merchant
        )

    assert registry.itemOf(fresh).merchant == ZERO_ADDRESS


def test_item_of_unknown_id_is_empty(registry: Any) -> None:
    item = registry.itemOf(h("never registered"))

    assert item.merchant == ZERO_ADDRESS
    assert item.updatedAt == 0
    assert item.lastAction == CustodyAction.NONE
    assert item.state == ItemState.ACTIVE
    assert item.inBatch is False
