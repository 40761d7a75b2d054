"""Single item registration: registerItem and the all-or-none registerItems (ids derived)."""

from __future__ import annotations

from typing import Any

import ape

from tests.contracts.registry.helpers import (
    ZERO32,
    ZERO_ADDRESS,
    CustodyAction,
    IdScheme,
    ItemKey,
    ItemState,
    Verdict,
    h,
    key_of,
    sku_key,
)


def test_register_item_stores_record_and_emits_event(
    registry: Any, merchant: Any, new_item_key: Any
) -> None:
    key = new_item_key()
    item_id = key.item_id(merchant)

    tx = registry.registerItem(key.as_abi(), h("metadata"), "ipfs://item-1", sender=merchant)

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
    assert item.held is False
    assert registry.verify(item_id) == Verdict.AUTHENTIC


def test_register_item_returns_the_id_derived_from_the_caller_and_key(
    registry: Any, merchant: Any, new_item_key: Any
) -> None:
    key = new_item_key()

    returned = registry.registerItem.call(key.as_abi(), h("m"), "ipfs://x", sender=merchant)

    assert returned == key.item_id(merchant) == registry.itemIdOf(merchant, key.code, key.serial)
    assert registry.itemIdOfKey(merchant, key.as_abi()) == returned


def test_register_item_accepts_empty_metadata_uri(
    registry: Any, merchant: Any, new_item_key: Any
) -> None:
    key = new_item_key()

    registry.registerItem(key.as_abi(), h("metadata"), "", sender=merchant)

    assert registry.itemOf(key.item_id(merchant)).merchant == merchant.address


def test_register_item_accepts_empty_sku_and_serial_as_a_key(registry: Any, merchant: Any) -> None:
    key = sku_key("", "")

    registry.registerItem(key.as_abi(), h("metadata"), "ipfs://x", sender=merchant)

    assert registry.verify(key.item_id(merchant)) == Verdict.AUTHENTIC


def test_register_item_reverts_for_zero_metadata_hash(
    registry: Any, merchant: Any, new_item_key: Any
) -> None:
    with ape.reverts(registry.RegistryZeroId):
        registry.registerItem(new_item_key().as_abi(), ZERO32, "ipfs://x", sender=merchant)


def test_register_item_reverts_for_duplicate_key(
    registry: Any, merchant: Any, register_item: Any, new_item_key: Any
) -> None:
    key = new_item_key()
    item_id = register_item(key=key)

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=item_id):
        registry.registerItem(key.as_abi(), h("other metadata"), "ipfs://y", sender=merchant)


def test_rival_registering_the_same_sku_key_gets_its_own_id(
    registry: Any, merchant: Any, other_merchant: Any, register_item: Any, new_item_key: Any
) -> None:
    """A rival cannot claim another merchant's SKU id: the id is derived from the caller."""
    key = new_item_key()
    mine = register_item(key=key)

    tx = registry.registerItem(key.as_abi(), h("copy"), "ipfs://copy", sender=other_merchant)

    [event] = tx.events.filter(registry.ItemRegistered)
    theirs = bytes(event.itemId)
    assert theirs == key.item_id(other_merchant) != mine
    assert registry.itemOf(mine).merchant == merchant.address
    assert registry.itemOf(theirs).merchant == other_merchant.address


def test_register_item_reverts_for_unapproved_caller(
    registry: Any, shopper: Any, new_item_key: Any
) -> None:
    with ape.reverts(registry.RegistryMerchantNotActive, merchant=shopper.address):
        registry.registerItem(new_item_key().as_abi(), h("metadata"), "ipfs://x", sender=shopper)


def test_register_item_reverts_for_unknown_id_scheme(registry: Any, merchant: Any) -> None:
    with ape.reverts():
        registry.registerItem((2, "SKU", "1"), h("metadata"), "ipfs://x", sender=merchant)


def test_register_item_reverts_for_id_of_batch_item_flagged_before_activation(
    registry: Any, merchant: Any, make_batch: Any, confirmed_flag: Any
) -> None:
    item_id = make_batch(1).leaves[0].item_id
    confirmed_flag(item_id)

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=item_id):
        registry.registerItem(key_of(item_id).as_abi(), h("metadata"), "ipfs://x", sender=merchant)


def test_register_items_registers_all_in_order(
    registry: Any, merchant: Any, new_item_key: Any
) -> None:
    keys = [new_item_key() for _ in range(3)]
    inputs = [(key.as_abi(), h(f"metadata {i}"), f"ipfs://{i}") for i, key in enumerate(keys)]

    tx = registry.registerItems(inputs, sender=merchant)

    assert tx.events == [
        registry.ItemRegistered(
            itemId=key.item_id(merchant),
            merchant=merchant,
            metadataHash=h(f"metadata {i}"),
            metadataURI=f"ipfs://{i}",
        )
        for i, key in enumerate(keys)
    ]
    for key in keys:
        assert registry.itemOf(key.item_id(merchant)).merchant == merchant.address
        assert registry.verify(key.item_id(merchant)) == Verdict.AUTHENTIC


def test_register_items_reverts_for_empty_input(registry: Any, merchant: Any) -> None:
    with ape.reverts(registry.RegistryEmptyInput):
        registry.registerItems([], sender=merchant)


def test_register_items_reverts_for_unapproved_caller(
    registry: Any, shopper: Any, new_item_key: Any
) -> None:
    with ape.reverts(registry.RegistryMerchantNotActive, merchant=shopper.address):
        registry.registerItems([(new_item_key().as_abi(), h("m"), "ipfs://x")], sender=shopper)


def test_register_items_is_all_or_none_on_duplicate_within_input(
    registry: Any, merchant: Any, new_item_key: Any
) -> None:
    first, second = new_item_key(), new_item_key()
    inputs = [
        (first.as_abi(), h("a"), "ipfs://a"),
        (second.as_abi(), h("b"), "ipfs://b"),
        (first.as_abi(), h("c"), "ipfs://c"),
    ]

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=first.item_id(merchant)):
        registry.registerItems(inputs, sender=merchant)

    assert registry.itemOf(first.item_id(merchant)).merchant == ZERO_ADDRESS
    assert registry.itemOf(second.item_id(merchant)).merchant == ZERO_ADDRESS


def test_register_items_is_all_or_none_on_already_registered_id(
    registry: Any, merchant: Any, new_item_key: Any, register_item: Any
) -> None:
    fresh, taken = new_item_key(), new_item_key()
    taken_id = register_item(key=taken)

    with ape.reverts(registry.RegistryItemAlreadyRegistered, itemId=taken_id):
        registry.registerItems(
            [(fresh.as_abi(), h("a"), "ipfs://a"), (taken.as_abi(), h("b"), "ipfs://b")],
            sender=merchant,
        )

    assert registry.itemOf(fresh.item_id(merchant)).merchant == ZERO_ADDRESS


def test_register_items_is_all_or_none_on_zero_hash(
    registry: Any, merchant: Any, new_item_key: Any
) -> None:
    fresh = new_item_key()

    with ape.reverts(registry.RegistryZeroId):
        registry.registerItems(
            [(fresh.as_abi(), h("a"), "ipfs://a"), (new_item_key().as_abi(), ZERO32, "ipfs://b")],
            sender=merchant,
        )

    assert registry.itemOf(fresh.item_id(merchant)).merchant == ZERO_ADDRESS


def test_register_items_is_all_or_none_on_a_gs1_key_without_a_granted_prefix(
    registry: Any, merchant: Any, new_item_key: Any
) -> None:
    fresh = new_item_key()
    gs1 = ItemKey(IdScheme.GS1, "9506000134352", "A1")

    with ape.reverts(
        registry.RegistryGs1PrefixNotGranted, merchant=merchant.address, gtin="9506000134352"
    ):
        registry.registerItems(
            [(fresh.as_abi(), h("a"), "ipfs://a"), (gs1.as_abi(), h("b"), "ipfs://b")],
            sender=merchant,
        )

    assert registry.itemOf(fresh.item_id(merchant)).merchant == ZERO_ADDRESS


def test_item_of_unknown_id_is_empty(registry: Any) -> None:
    item = registry.itemOf(h("never registered"))

    assert item.merchant == ZERO_ADDRESS
    assert item.updatedAt == 0
    assert item.lastAction == CustodyAction.NONE
    assert item.state == ItemState.ACTIVE
    assert item.inBatch is False
    assert item.held is False
