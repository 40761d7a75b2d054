"""A merchant that holds no ETH acts through the forwarder: it signs, a relayer sends and pays,
and the registry and the escrow record the merchant, never the relayer, as the one who acted."""

from __future__ import annotations

from typing import Any

from app.domain.merkle import BatchLeaf, ItemBatch
from tests.contracts.escrow.helpers import CARRIER, OrderStatus
from tests.contracts.forwarder.conftest import item_inputs
from tests.contracts.registry.helpers import (
    ZERO_ADDRESS,
    CustodyAction,
    ItemState,
    Verdict,
    custody,
    h,
    sku_key,
)


def test_a_merchant_with_no_eth_registers_several_items_in_one_request(
    forwarder: Any, registry: Any, walletless_merchant: Any, relayer: Any, sign: Any
) -> None:
    merchant = walletless_merchant
    keys = [sku_key("SKU-RELAYED", f"R{n}") for n in range(3)]
    signed = sign(merchant, registry, registry.registerItems.encode_input(item_inputs(keys)))
    relayer_before = relayer.balance

    tx = forwarder.execute(signed.as_abi(), sender=relayer)

    # Ids are derived from the signer's address, and the items are the signer's.
    expected = [key.item_id(merchant) for key in keys]
    registered = tx.events.filter(registry.ItemRegistered)
    assert [bytes(event.itemId) for event in registered] == expected
    assert {event.merchant for event in registered} == {merchant.address}
    assert [registry.itemOf(item).merchant for item in expected] == [merchant.address] * 3
    assert [registry.verify(item) for item in expected] == [Verdict.AUTHENTIC] * 3
    assert tx.events.filter(forwarder.ExecutedForwardRequest) == [
        forwarder.ExecutedForwardRequest(signer=merchant.address, nonce=0, success=True)
    ]
    assert forwarder.nonces(merchant) == 1
    # The relayer paid for it all; the merchant still has nothing.
    assert merchant.balance == 0
    assert relayer_before - relayer.balance == tx.total_fees_paid


def test_a_merchant_with_no_eth_runs_its_batch_custody_and_recalls_in_one_relay(
    forwarder: Any,
    registry: Any,
    walletless_merchant: Any,
    relayer: Any,
    sign: Any,
    chain: Any,
) -> None:
    """A Merkle batch, an item, a custody event on it, then the recall of both: five requests,
    nonces 0 to 4, sent together by the relayer in one `executeBatch`."""
    merchant = walletless_merchant
    key = sku_key("SKU-RELAYED", "CUSTODY-1")
    item = key.item_id(merchant)
    tree = ItemBatch(
        [BatchLeaf(sku_key("BATCH", f"B{n}").item_id(merchant), h(f"m{n}")) for n in range(4)]
    )
    occurred = int(chain.blocks.head.timestamp)
    event = custody(item, occurred, action=CustodyAction.SHIPPED)
    calls = [
        registry.registerBatch.encode_input(tree.root, 4, h("manifest"), "ipfs://batch"),
        registry.registerItem.encode_input(key.as_abi(), h("metadata"), "ipfs://item"),
        registry.recordCustody.encode_input([event]),
        registry.recallItem.encode_input(item, h("recall notice")),
        registry.recallBatch.encode_input(tree.root, h("batch recall notice")),
    ]
    requests = [sign(merchant, registry, data, nonce_ahead=n) for n, data in enumerate(calls)]

    tx = forwarder.executeBatch([r.as_abi() for r in requests], ZERO_ADDRESS, sender=relayer)

    [batch] = tx.events.filter(registry.BatchRegistered)
    assert (bytes(batch.root), batch.merchant) == (tree.root, merchant.address)
    assert registry.batchOf(tree.root).merchant == merchant.address
    [recorded] = tx.events.filter(registry.CustodyRecorded)
    assert (bytes(recorded.itemId), recorded.submitter) == (item, merchant.address)
    assert registry.isEventRecorded(merchant, event[1])
    assert not registry.isEventRecorded(relayer, event[1])
    [recalled] = tx.events.filter(registry.ItemRecalled)
    assert (bytes(recalled.itemId), recalled.merchant) == (item, merchant.address)
    [batch_recalled] = tx.events.filter(registry.BatchRecalled)
    assert batch_recalled.merchant == merchant.address
    assert registry.itemOf(item).state == ItemState.RECALLED
    assert registry.batchOf(tree.root).recalled
    executed = tx.events.filter(forwarder.ExecutedForwardRequest)
    assert [(e.signer, e.nonce, e.success) for e in executed] == [
        (merchant.address, n, True) for n in range(5)
    ]
    assert merchant.balance == 0


def test_a_merchant_with_no_eth_ships_its_order_through_the_relayer(
    forwarder: Any,
    escrow: Any,
    walletless_merchant: Any,
    relayer: Any,
    sign: Any,
    open_order: Any,
) -> None:
    merchant = walletless_merchant
    order = open_order(merchant=merchant.address)
    data = escrow.ship.encode_input(order.abi, CARRIER, h("tracking"))

    tx = forwarder.execute(sign(merchant, escrow, data).as_abi(), sender=relayer)

    assert tx.events.filter(escrow.OrderShipped) == [
        escrow.OrderShipped(
            orderId=order.id, by=merchant.address, carrier=CARRIER, trackingHash=h("tracking")
        )
    ]
    state = escrow.orderOf(order.id)
    assert (state.status, state.carrier) == (OrderStatus.SHIPPED, CARRIER)
    assert merchant.balance == 0


def test_a_buyers_forwarded_open_makes_the_signer_the_buyer_and_payer(
    forwarder: Any,
    escrow: Any,
    registry: Any,
    buyer: Any,
    merchant: Any,
    relayer: Any,
    sign: Any,
    make_terms: Any,
    register_item: Any,
    stable: Any,
) -> None:
    """The order is the buyer's: opened in its name, paid from its tokens, its items held."""
    item = register_item()
    terms = make_terms(item_ids=(item,))
    buyer_before, relayer_tokens = stable.balanceOf(buyer), stable.balanceOf(relayer)
    data = escrow.open.encode_input(terms.as_abi())

    tx = forwarder.execute(sign(buyer, escrow, data).as_abi(), sender=relayer)

    [opened] = tx.events.filter(escrow.OrderOpened)
    assert (bytes(opened.orderId), opened.buyer, opened.merchant) == (
        terms.order_id,
        buyer.address,
        merchant.address,
    )
    assert escrow.orderOf(terms.order_id).status == OrderStatus.FUNDED
    assert buyer_before - stable.balanceOf(buyer) == terms.amount
    assert stable.balanceOf(relayer) == relayer_tokens
    assert registry.itemOf(item).held
