"""Every rule binds a forwarded request's signer as it binds a direct caller: the target refuses
the call the forwarder makes with exactly the error it gives the signer calling directly, the
forwarder's `execute` reverts, and the signer's nonce stays unspent."""

from __future__ import annotations

from typing import Any

from tests.contracts.escrow.helpers import CARRIER, OrderStatus
from tests.contracts.forwarder.calls import error_data
from tests.contracts.forwarder.conftest import item_inputs
from tests.contracts.registry.helpers import ItemState, custody, h, sku_key


def test_a_suspended_merchants_forwarded_registration_is_refused_as_its_own(
    registry: Any, merchant: Any, verifier: Any, sign: Any, expect_refused_alike: Any
) -> None:
    registry.suspendMerchant(merchant, h("under review"), sender=verifier)
    keys = [sku_key("SKU-SUSPENDED", f"S{n}") for n in range(2)]
    signed = sign(merchant, registry, registry.registerItems.encode_input(item_inputs(keys)))

    expect_refused_alike(
        signed, error_data(registry, "RegistryMerchantNotActive", merchant.address)
    )
    assert registry.itemOf(keys[0].item_id(merchant)).merchant != merchant.address


def test_a_non_merchants_forwarded_registration_is_refused(
    registry: Any, shopper: Any, sign: Any, expect_refused_alike: Any
) -> None:
    key = sku_key("SKU-STRANGER", "S1")
    data = registry.registerItem.encode_input(key.as_abi(), h("metadata"), "ipfs://item")

    expect_refused_alike(
        sign(shopper, registry, data),
        error_data(registry, "RegistryMerchantNotActive", shopper.address),
    )


def test_a_merchant_cannot_recall_another_merchants_item_through_the_forwarder(
    registry: Any,
    merchant: Any,
    other_merchant: Any,
    sign: Any,
    register_item: Any,
    expect_refused_alike: Any,
) -> None:
    theirs = register_item(sender=other_merchant)
    data = registry.recallItem.encode_input(theirs, h("false recall"))

    expect_refused_alike(
        sign(merchant, registry, data),
        error_data(registry, "RegistryNotItemCustodian", merchant.address, theirs),
    )
    assert registry.itemOf(theirs).state == ItemState.ACTIVE


def test_a_merchant_cannot_recall_another_merchants_batch_or_write_its_custody_trail(
    registry: Any,
    merchant: Any,
    other_merchant: Any,
    sign: Any,
    register_item: Any,
    register_batch: Any,
    expect_refused_alike: Any,
    now: Any,
) -> None:
    batch = register_batch(sender=other_merchant)
    recall = registry.recallBatch.encode_input(batch.root, h("false recall"))
    expect_refused_alike(
        sign(merchant, registry, recall),
        error_data(registry, "RegistryNotBatchMerchant", merchant.address, batch.root),
    )

    theirs = register_item(sender=other_merchant)
    trail = registry.recordCustody.encode_input([custody(theirs, now())])
    expect_refused_alike(
        sign(merchant, registry, trail),
        error_data(registry, "RegistryNotItemCustodian", merchant.address, theirs),
    )


def test_roles_bind_the_signer_a_verifiers_request_acts_and_a_merchants_is_refused(
    forwarder: Any,
    registry: Any,
    verifier: Any,
    merchant: Any,
    other_merchant: Any,
    relayer: Any,
    sign: Any,
    expect_refused_alike: Any,
) -> None:
    """AccessControl reads `_msgSender()` too: a role is the signer's, never the relayer's."""
    suspend = registry.suspendMerchant.encode_input(other_merchant, h("squatting"))
    expect_refused_alike(
        sign(merchant, registry, suspend),
        error_data(
            registry,
            "AccessControlUnauthorizedAccount",
            merchant.address,
            registry.VERIFIER_ROLE(),
        ),
    )

    tx = forwarder.execute(sign(verifier, registry, suspend).as_abi(), sender=relayer)

    [event] = tx.events.filter(registry.MerchantSuspended)
    assert (event.merchant, event.verifier) == (other_merchant.address, verifier.address)


def test_a_merchant_cannot_ship_another_merchants_order_through_the_forwarder(
    escrow: Any, other_merchant: Any, sign: Any, open_order: Any, expect_refused_alike: Any
) -> None:
    order = open_order()  # the `merchant` fixture's order
    data = escrow.ship.encode_input(order.abi, CARRIER, h("tracking"))

    expect_refused_alike(
        sign(other_merchant, escrow, data),
        error_data(escrow, "EscrowNotMerchant", order.id, other_merchant.address),
    )
    assert escrow.orderOf(order.id).status == OrderStatus.FUNDED


def test_a_forwarded_open_whose_terms_name_another_buyer_is_refused(
    escrow: Any, buyer: Any, shopper: Any, sign: Any, make_terms: Any, expect_refused_alike: Any
) -> None:
    """The shopper signs an order naming the buyer as buyer and payer (the buyer approved the
    escrow for its tokens): the signer is not the buyer, so nothing is pulled from it."""
    terms = make_terms(buyer=buyer.address, payer=buyer.address)
    data = escrow.open.encode_input(terms.as_abi())

    expect_refused_alike(
        sign(shopper, escrow, data),
        error_data(escrow, "EscrowNotBuyer", terms.order_id, shopper.address),
    )
    assert escrow.orderOf(terms.order_id).status == OrderStatus.NONE
