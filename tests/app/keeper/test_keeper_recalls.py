"""The keeper's recall refunds on Anvil: an open order holding registry items the registry now
reads recalled (the item, or the batch it was activated from) is refunded for those items alone,
once, without anyone calling; the money goes to the payer, none to the keeper; a later recall of
another item of the order is a duty of its own."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.domain.vocab import LogisticsKind, OrderStatus, Verdict
from tests.app.index.actors import ZERO_ADDRESS, SuiteDriver
from tests.app.index.records import Actor, Order
from tests.app.keeper.conftest import ServiceFactory

pytestmark = pytest.mark.anvil

ITEM_RECALLED = 3  # IOrderEscrow.RefundReason.ItemRecalled
DAY = 86_400


def _refunds(driver: SuiteDriver, order: Order, start: int) -> list[Any]:
    event = driver.escrow.events.OrderRefunded
    return list(event().get_logs(from_block=start, argument_filters={"orderId": order.order_id}))


def _credit(driver: SuiteDriver, account: str) -> int:
    return int(driver.escrow.functions.creditOf(account, ZERO_ADDRESS).call())


def _status(driver: SuiteDriver, order: Order) -> OrderStatus:
    return OrderStatus(int(driver.escrow.functions.orderOf(order.order_id).call()[0]))


def _order_of_two_items(driver: SuiteDriver) -> tuple[Actor, Actor, list[bytes], Order]:
    """A new merchant's order of two of its new items, paid by a new buyer."""
    merchant, buyer = driver.new_merchant(), driver.new_account()
    items = [driver.register_item(merchant).item_id for _ in range(2)]
    return merchant, buyer, items, driver.open_order(buyer, merchant, items)


def test_a_recalled_item_is_refunded_once_to_the_payer_and_a_second_recall_again(
    keeper_service: ServiceFactory, driver: SuiteDriver, start_block: int
) -> None:
    merchant, buyer, (first, second), order = _order_of_two_items(driver)
    untouched = driver.open_order(buyer, merchant, [driver.register_item(merchant).item_id])
    service = keeper_service()
    keeper = service.keeper.address
    assert service.keep().queued == []  # nothing recalled yet

    driver.recall_item(merchant, first)
    credit_before = _credit(driver, buyer.address)
    assert service.keep().queued == [f"refund_recalled:{order.hex}:1"]
    service.relay_in_one_block()

    [refund] = _refunds(driver, order, start_block)
    assert refund.args.items == 1 and refund.args.reason == ITEM_RECALLED
    assert refund.args.by == keeper
    assert refund.args.payerAmount == order.terms[4] // 2  # that item's share only
    assert _credit(driver, buyer.address) == credit_before + refund.args.payerAmount
    assert _credit(driver, keeper) == 0
    assert _status(driver, order) == OrderStatus.FUNDED  # the other item is still open
    assert _status(driver, untouched) == OrderStatus.FUNDED

    # Once: later cycles find nothing new.
    for _ in range(2):
        assert service.keep().queued == []
        service.relay_in_one_block()
    assert len(_refunds(driver, order, start_block)) == 1

    # A recall of the order's other item is a duty of its own: the order is refunded in full.
    driver.recall_item(merchant, second)
    assert service.keep().queued == [f"refund_recalled:{order.hex}:2"]
    service.relay_in_one_block()
    assert [r.args["items"] for r in _refunds(driver, order, start_block)] == [1, 2]
    assert _status(driver, order) == OrderStatus.REFUNDED
    assert _credit(driver, buyer.address) == credit_before + order.terms[4]
    assert _credit(driver, keeper) == 0

    answer = service.client.get("/v1/keeper").json()
    done = [d for d in answer["done"] if d["duty"] == "refund_recalled"]
    assert sorted((d["order_id"], d["items"], d["function"]) for d in done) == [
        (order.hex, 1, "refundRecalled"),
        (order.hex, 2, "refundRecalled"),
    ]
    metrics = service.client.get("/metrics").text
    assert 'trustmall_keeper_duties{state="confirmed"} 2.0' in metrics


def test_a_recalled_batch_refunds_the_order_holding_its_activated_item(
    keeper_service: ServiceFactory, driver: SuiteDriver, start_block: int
) -> None:
    merchant, buyer = driver.new_merchant(), driver.new_account()
    batch = driver.register_batch(merchant, count=3)
    item_id = batch.tree.leaves[1].item_id
    driver.activate(batch, item_id, merchant.address)
    order = driver.open_order(buyer, merchant, [item_id])
    service = keeper_service()
    assert service.keep().queued == []

    driver.recall_batch(merchant, batch)
    credit_before = _credit(driver, buyer.address)
    assert service.keep().queued == [f"refund_recalled:{order.hex}:1"]
    service.relay_in_one_block()
    [refund] = _refunds(driver, order, start_block)
    assert refund.args.items == 1 and refund.args.reason == ITEM_RECALLED
    assert _status(driver, order) == OrderStatus.REFUNDED
    assert _credit(driver, buyer.address) == credit_before + order.terms[4]
    assert _credit(driver, service.keeper.address) == 0
    assert service.keep().queued == []


def test_a_due_order_with_a_recalled_item_is_refunded_for_it_before_the_rest_is_released(
    keeper_service: ServiceFactory, driver: SuiteDriver, start_block: int
) -> None:
    merchant, _, (_, bad), order = _order_of_two_items(driver)
    driver.ship(merchant, order)
    driver.report(order, LogisticsKind.DELIVERED)
    driver.recall_item(merchant, bad)
    driver.rpc("evm_increaseTime", 30 * DAY)  # well past the dispute window: release is due too
    driver.mine()
    service = keeper_service()
    merchant_before = _credit(driver, merchant.address)

    # Released first, the order would pay the recalled item's share to its merchant.
    assert service.keep().queued == [f"refund_recalled:{order.hex}:2"]
    service.relay_in_one_block()
    [refund] = _refunds(driver, order, start_block)
    assert refund.args["items"] == 2 and refund.args.payerAmount == order.terms[4] // 2
    assert _credit(driver, merchant.address) == merchant_before

    assert service.keep().queued == [f"release:{order.hex}"]
    service.relay_in_one_block()
    assert _status(driver, order) == OrderStatus.RELEASED
    fee_bps = int(driver.escrow.functions.feeBps().call())
    share = order.terms[4] - order.terms[4] // 2
    assert _credit(driver, merchant.address) - merchant_before == share - share * fee_bps // 10_000


def _released_share(driver: SuiteDriver, order: Order) -> int:
    """What the merchant is credited for the second of two equal items, after the fee."""
    fee_bps = int(driver.escrow.functions.feeBps().call())
    share = order.terms[4] - order.terms[4] // 2
    return share - share * fee_bps // 10_000


def test_a_release_queued_before_a_recall_waits_for_the_recall_refund(
    keeper_service: ServiceFactory, driver: SuiteDriver, start_block: int
) -> None:
    """The release was queued while nothing was recalled; the recall comes before it is sent.
    Sent first, it would pay the recalled item's share to the merchant: it waits, the newer
    refund runs, then the release pays the rest."""
    merchant, _, (_, bad), order = _order_of_two_items(driver)
    driver.ship(merchant, order)
    driver.report(order, LogisticsKind.DELIVERED)
    driver.rpc("evm_increaseTime", 30 * DAY)
    driver.mine()
    now = [time.time()]
    service = keeper_service(relay_clock=lambda: now[0])
    merchant_before = _credit(driver, merchant.address)
    assert service.keep().queued == [f"release:{order.hex}"]
    driver.recall_item(merchant, bad)
    assert service.keep().queued == [f"refund_recalled:{order.hex}:2"]

    service.relay_in_one_block()

    [refund] = _refunds(driver, order, start_block)
    assert refund.args["items"] == 2 and refund.args.payerAmount == order.terms[4] // 2
    assert _credit(driver, merchant.address) == merchant_before
    [release] = [r for r in service.records() if r.payload["duty"] == "release"]
    assert (release.status, "waiting for the recall refund" in str(release.last_error)) == (
        "queued",
        True,
    )
    now[0] += 60  # the release's retry is due
    service.relay_in_one_block()
    assert _status(driver, order) == OrderStatus.RELEASED
    assert _credit(driver, merchant.address) - merchant_before == _released_share(driver, order)


def test_an_item_recalled_revoked_and_registered_again_holds_no_later_order_back(
    keeper_service: ServiceFactory, driver: SuiteDriver
) -> None:
    """The index keeps the item's old recall; the registry reads it authentic again, and its
    next order is released when due (the chain's verdict decides, not the index's marks)."""
    merchant, buyer = driver.new_merchant(), driver.new_account()
    item = driver.register_item(merchant)
    driver.recall_item(merchant, item.item_id)
    driver.reassign(item.item_id, ZERO_ADDRESS)  # a verifier revokes the record
    registering = driver.registry.functions.registerItem(item.key, item.metadata_hash, item.uri)
    driver.send(registering, merchant.address)
    assert driver.registry.functions.verify(item.item_id).call() == Verdict.AUTHENTIC
    order = driver.open_order(buyer, merchant, [item.item_id])
    driver.ship(merchant, order)
    driver.report(order, LogisticsKind.DELIVERED)
    driver.rpc("evm_increaseTime", 30 * DAY)
    driver.mine()
    service = keeper_service()

    assert f"release:{order.hex}" in service.keep().queued
    service.relay_in_one_block()
    assert _status(driver, order) == OrderStatus.RELEASED
