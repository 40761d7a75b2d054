"""The threat model's economic attacks (SECURITY.md §4: decoys, forged sales, squatting) sent
through the forwarder fail exactly as they fail sent directly; and a rival holding a merchant's
signed request can relay it, but only as signed."""

from __future__ import annotations

from typing import Any

import ape

from tests.contracts.escrow.helpers import OrderStatus
from tests.contracts.forwarder.calls import error_data
from tests.contracts.forwarder.conftest import item_inputs
from tests.contracts.forwarder.forward_requests import Domain, SignedRequest
from tests.contracts.registry.helpers import ZERO_ADDRESS, ItemState, gs1_key, h, sku_key

GS1_PREFIX = "9506000"
GTIN = "9506000134352"  # GS1's example GTIN-13, under GS1_PREFIX


def test_attack1_a_forwarded_open_cannot_list_a_rivals_recalled_item_as_a_decoy(
    registry: Any,
    escrow: Any,
    buyer: Any,
    merchant: Any,
    other_merchant: Any,
    sign: Any,
    make_terms: Any,
    register_item: Any,
    expect_refused_alike: Any,
) -> None:
    """The buyer lists the merchant's real item beside a rival's recalled one, to claim a
    recall refund for the decoy after delivery: the order never opens."""
    decoy = register_item(sender=other_merchant)
    registry.recallItem(decoy, h("recall"), sender=other_merchant)
    real = register_item()
    terms = make_terms(item_ids=(real, decoy))

    expect_refused_alike(
        sign(buyer, escrow, escrow.open.encode_input(terms.as_abi())),
        error_data(registry, "RegistryItemNotOfMerchant", decoy, merchant.address),
    )
    assert escrow.orderOf(terms.order_id).status == OrderStatus.NONE
    assert not registry.itemOf(real).held


def test_attack3_a_forwarded_open_cannot_stamp_a_sale_of_a_genuine_item_for_an_accomplice(
    registry: Any,
    escrow: Any,
    buyer: Any,
    other_merchant: Any,
    sign: Any,
    make_terms: Any,
    register_item: Any,
    expect_refused_alike: Any,
) -> None:
    """Self-dealing: the buyer opens an order of the merchant's genuine item naming its
    accomplice as the order's merchant, to record a sale of the serial to itself."""
    genuine = register_item()
    terms = make_terms(merchant=other_merchant.address, item_ids=(genuine,))

    expect_refused_alike(
        sign(buyer, escrow, escrow.open.encode_input(terms.as_abi())),
        error_data(registry, "RegistryItemNotOfMerchant", genuine, other_merchant.address),
    )
    assert not registry.itemOf(genuine).held


def test_attack4_a_forwarded_registration_cannot_squat_another_merchants_gs1_key(
    forwarder: Any,
    registry: Any,
    verifier: Any,
    merchant: Any,
    other_merchant: Any,
    relayer: Any,
    sign: Any,
    expect_refused_alike: Any,
) -> None:
    """The rival slips the brand's GTIN into a request of its own items: the whole request is
    refused, and the brand then registers its GTIN through the forwarder as its own."""
    registry.grantGs1Prefix(GS1_PREFIX, merchant, sender=verifier)
    squat = gs1_key(GTIN, "A1")
    own = sku_key("SKU-RIVAL", "R1")
    request = registry.registerItems.encode_input(item_inputs([own, squat]))

    expect_refused_alike(
        sign(other_merchant, registry, request),
        error_data(registry, "RegistryGs1PrefixNotGranted", other_merchant.address, GTIN),
    )
    assert registry.itemOf(own.item_id(other_merchant)).merchant == ZERO_ADDRESS

    brands = registry.registerItems.encode_input(item_inputs([squat]))
    forwarder.execute(sign(merchant, registry, brands).as_abi(), sender=relayer)
    assert registry.itemOf(squat.item_id(merchant)).merchant == merchant.address


def test_attack4_a_forwarded_registration_of_a_rivals_sku_key_names_the_signers_own_id(
    forwarder: Any,
    registry: Any,
    merchant: Any,
    other_merchant: Any,
    relayer: Any,
    sign: Any,
) -> None:
    """SKU ids live in the registering merchant's namespace, the signer's here: the rival gets
    an id of its own, and the merchant's id for the same key stays free for the merchant."""
    key = sku_key("SKU-BRAND", "B1")
    data = registry.registerItems.encode_input(item_inputs([key]))

    tx = forwarder.execute(sign(other_merchant, registry, data).as_abi(), sender=relayer)

    [event] = tx.events.filter(registry.ItemRegistered)
    assert (bytes(event.itemId), event.merchant) == (
        key.item_id(other_merchant),
        other_merchant.address,
    )
    assert registry.itemOf(key.item_id(merchant)).merchant == ZERO_ADDRESS
    forwarder.execute(sign(merchant, registry, data).as_abi(), sender=relayer)
    assert registry.itemOf(key.item_id(merchant)).merchant == merchant.address


def test_a_rival_holding_a_merchants_signed_request_can_only_relay_it_as_signed(
    forwarder: Any,
    registry: Any,
    escrow: Any,
    merchant: Any,
    other_merchant: Any,
    sign: Any,
    register_item: Any,
) -> None:
    """The rival intercepts the merchant's signed registration and sends it with another
    target, other data (a recall of the merchant's item), more or less gas, a value, or itself
    as `from`: the forwarder recovers someone else each time. Relayed unchanged, it does what
    the merchant signed, for the merchant."""
    rival = other_merchant
    item = register_item()
    keys = [sku_key("SKU-INTERCEPTED", "I1")]
    signed: SignedRequest = sign(
        merchant, registry, registry.registerItems.encode_input(item_inputs(keys))
    )
    recall = bytes(registry.recallItem.encode_input(item, h("hijacked")))
    domain = Domain.of(forwarder)
    alterations: list[dict[str, Any]] = [
        {"to": str(escrow.address)},
        {"data": recall},
        {"gas": signed.request.gas // 2},
        {"value": 1},
        {"sender": str(rival.address)},
    ]

    for changes in alterations:
        altered = signed.altered(**changes)
        recovered = altered.recovered_signer(domain)
        assert recovered != merchant.address
        with ape.reverts(
            forwarder.ERC2771ForwarderInvalidSigner,
            signer=recovered,
            **{"from": altered.request.sender},
        ):
            forwarder.execute(altered.as_abi(), value=altered.request.value, sender=rival)

    tx = forwarder.execute(signed.as_abi(), sender=rival)
    [event] = tx.events.filter(registry.ItemRegistered)
    assert (bytes(event.itemId), event.merchant) == (keys[0].item_id(merchant), merchant.address)
    assert registry.itemOf(item).state == ItemState.ACTIVE
