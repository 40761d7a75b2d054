"""The keeper on Anvil: each due duty (refund, release, default ruling) done once, in the block
after the keeper's next cycle once it is due; an order not yet due left alone; a duty whose order
a party settled first never sent (or failed with the contract's reason); two keepers queueing a
duty once; a restart between queueing and sending sending nothing twice; ``GET /v1/keeper``."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient

from app.domain.orders import ZERO_ADDRESS
from app.domain.vocab import LogisticsKind, OrderStatus
from app.keeper.worker import KeeperLoop
from app.main import create_app
from app.outbox.kinds.keeper import RELEASE_BATCH_SIGNATURE
from app.outbox.models import RelayStatus
from app.settings import KeeperDuty, Settings
from harness.nodes import free_port
from tests.app.index.actors import SuiteDriver
from tests.app.index.records import Actor, Order
from tests.app.keeper.conftest import DAY, ServiceFactory

pytestmark = pytest.mark.anvil

# The escrow's outcome of each duty: the event its function emits.
OUTCOME = {"refund": "OrderRefunded", "release": "OrderReleased", "default_ruling": "OrderSettled"}


def _delivered(driver: SuiteDriver, buyer: Actor, merchant: Actor) -> Order:
    order = driver.open_order(buyer, merchant, [])
    driver.ship(merchant, order)
    driver.report(order, LogisticsKind.DELIVERED)
    return order


def _events(driver: SuiteDriver, name: str, order: Order, start: int) -> list[Any]:
    event = getattr(driver.escrow.events, name)
    return list(event().get_logs(from_block=start, argument_filters={"orderId": order.order_id}))


def _jump(driver: SuiteDriver, seconds: int) -> None:
    driver.rpc("evm_increaseTime", seconds)
    driver.mine()


def _status(driver: SuiteDriver, order: Order) -> OrderStatus:
    return OrderStatus(int(driver.escrow.functions.orderOf(order.order_id).call()[0]))


def test_each_due_duty_is_done_once_in_the_block_after_the_next_cycle(
    keeper_service: ServiceFactory, driver: SuiteDriver, start_block: int
) -> None:
    merchant, buyer = driver.new_merchant(), driver.new_account()
    unshipped = driver.open_order(buyer, merchant, [])  # ship-by in 5 days
    delivered = _delivered(driver, buyer, merchant)  # releasable in 2 days
    disputed = _delivered(driver, buyer, merchant)
    driver.dispute(buyer, disputed)  # arbitration deadline in 14 days
    service = keeper_service()

    assert service.keep().queued == []  # nothing is due yet
    _jump(driver, 15 * DAY)
    handed_over = driver.open_order(buyer, merchant, [])
    driver.assign_carrier(merchant, handed_over)  # refundable only after deliver-by
    just_delivered = _delivered(driver, buyer, merchant)  # releasable in 2 days
    cycle_head = driver.head()
    report = service.keep()
    service.relay_in_one_block()

    duties = [(unshipped, "refund"), (delivered, "release"), (disputed, "default_ruling")]
    due = {order.hex: duty for order, duty in duties}
    assert sorted(report.queued) == sorted(f"{duty}:{order}" for order, duty in due.items())
    for order, duty in duties:
        [outcome] = _events(driver, OUTCOME[duty], order, start_block)
        assert outcome.blockNumber <= cycle_head + 2
    assert _status(driver, unshipped) == OrderStatus.REFUNDED
    assert _status(driver, delivered) == OrderStatus.RELEASED
    assert _status(driver, disputed) == OrderStatus.SETTLED
    assert _status(driver, handed_over) == OrderStatus.FUNDED
    assert _status(driver, just_delivered) == OrderStatus.DELIVERED
    assert {r.subject for r in service.records()} == set(due)

    # Later cycles find nothing new and send nothing again.
    for _ in range(2):
        assert service.keep().queued == []
        service.relay_in_one_block()
    for order, duty in duties:
        assert len(_events(driver, OUTCOME[duty], order, start_block)) == 1

    answer = service.client.get("/v1/keeper").json()
    assert answer["enabled"] is True and answer["due"] == [] and answer["queued"] == []
    done = {d["order_id"]: d for d in answer["done"]}
    assert {order: d["duty"] for order, d in done.items()} == due
    for order, duty in duties:
        [outcome] = _events(driver, OUTCOME[duty], order, start_block)
        assert done[order.hex]["tx_hash"] == outcome.transactionHash.to_0x_hex()
        assert done[order.hex]["block_number"] == outcome.blockNumber
        assert done[order.hex]["status"] == RelayStatus.CONFIRMED
    metrics = service.client.get("/metrics").text
    assert 'trustmall_keeper_duties{state="confirmed"} 3.0' in metrics
    assert "trustmall_keeper_lag_seconds 0.0" in metrics


def test_a_duty_a_party_settled_first_is_never_sent(
    keeper_service: ServiceFactory, driver: SuiteDriver, start_block: int
) -> None:
    merchant, buyer = driver.new_merchant(), driver.new_account()
    raced = _delivered(driver, buyer, merchant)
    before_the_keeper = _delivered(driver, buyer, merchant)
    service = keeper_service()
    sent_before = driver.w3.eth.get_transaction_count(service.keeper.address)
    service.index()
    _jump(driver, 3 * DAY)

    # The buyer confirms before the keeper looks (the index has not read it yet): the keeper's
    # simulation is refused, and nothing is queued.
    driver.confirm_receipt(buyer, before_the_keeper)
    report = service.keeper.run_once()
    assert report.queued == [f"release:{raced.hex}"]
    assert report.refused[f"release:{before_the_keeper.hex}"].startswith(
        f"EscrowInvalidStatus(orderId={before_the_keeper.hex}, status=released)"
    )

    # The merchant refunds after the keeper queued, before the relayer sends: the send's
    # simulation is refused, the duty fails with the contract's reason, and nothing is sent.
    driver.cancel(merchant, raced)
    service.relay_in_one_block()
    [record] = service.records()
    assert record.status == RelayStatus.FAILED
    assert record.failure_reason == (
        f"EscrowInvalidStatus(orderId={raced.hex}, status=refunded): invalid status"
    )
    assert record.attempts == 0 and record.tx_hash is None
    assert _events(driver, "OrderReleased", raced, start_block) == []
    assert driver.w3.eth.get_transaction_count(service.keeper.address) == sent_before

    assert service.keep().queued == []
    [failed] = service.client.get("/v1/keeper").json()["failed"]
    assert failed["order_id"] == raced.hex and "status=refunded" in failed["failure_reason"]


def test_two_keepers_on_one_database_queue_each_duty_once(
    keeper_service: ServiceFactory, driver: SuiteDriver, start_block: int
) -> None:
    merchant, buyer = driver.new_merchant(), driver.new_account()
    orders = [_delivered(driver, buyer, merchant) for _ in range(3)]
    first, second = keeper_service(), keeper_service()
    _jump(driver, 3 * DAY)
    first.index()

    # Both found the duties; the first queues them, then the second tries the same ones.
    seen_by_second = second.keeper.find_due()
    assert len(first.keeper.run_once().queued) == 3
    assert second.keeper.consider(seen_by_second).queued == []

    # And at the same moment, in two threads, on orders due later.
    late = [_delivered(driver, buyer, merchant) for _ in range(3)]
    _jump(driver, 3 * DAY)
    first.index()
    barrier = threading.Barrier(2)
    queued: list[list[str]] = []

    def keep(service: Any) -> None:
        barrier.wait(timeout=10)
        queued.append(service.keeper.run_once().queued)

    threads = [threading.Thread(target=keep, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(q for found in queued for q in found) == sorted(
        f"release:{order.hex}" for order in late
    )
    assert len(first.records()) == 6
    first.relay_in_one_block()
    for order in orders + late:
        assert len(_events(driver, "OrderReleased", order, start_block)) == 1


def test_a_keeper_restarted_between_queueing_and_sending_sends_nothing_twice(
    keeper_service: ServiceFactory, driver: SuiteDriver, start_block: int
) -> None:
    merchant, buyer = driver.new_merchant(), driver.new_account()
    order = _delivered(driver, buyer, merchant)
    before = keeper_service()
    sent_before = driver.w3.eth.get_transaction_count(before.keeper.address)
    _jump(driver, 3 * DAY)
    assert before.keep().queued == [f"release:{order.hex}"]
    # Sent (journalled and broadcast), not mined, when the process dies.
    driver.rpc("evm_setAutomine", False)
    try:
        before.relayer.run_once()
        [record] = before.records()
        assert record.status == RelayStatus.SUBMITTED

        # The next process: its lease taken over once the dead one's expired.
        after = keeper_service(relay_clock=lambda: time.time() + 60)
        assert after.keep().queued == []
        after.relayer.run_once()
    finally:
        driver.rpc("evm_setAutomine", True)
    deadline = time.monotonic() + 30
    while after.records()[0].status != RelayStatus.CONFIRMED:
        assert time.monotonic() < deadline, after.records()[0].last_error
        driver.mine()
        after.relayer.run_once()
    assert len(_events(driver, "OrderReleased", order, start_block)) == 1
    assert driver.w3.eth.get_transaction_count(after.keeper.address) == sent_before + 1
    assert after.keep().queued == []


def test_the_grace_and_the_duties_chosen_are_kept(
    keeper_service: ServiceFactory, driver: SuiteDriver
) -> None:
    merchant, buyer = driver.new_merchant(), driver.new_account()
    unshipped = driver.open_order(buyer, merchant, [])  # refundable after 5 days
    delivered = _delivered(driver, buyer, merchant)  # releasable after 2 days
    service = keeper_service(keeper_grace_seconds=DAY, keeper_duties={KeeperDuty.RELEASE})
    _jump(driver, 2 * DAY + 60)
    assert service.keep().queued == []  # due, but not for a day more
    _jump(driver, 4 * DAY)
    assert service.keep().queued == [f"release:{delivered.hex}"]  # refunds are not its duty
    answer = service.client.get("/v1/keeper").json()
    assert answer["duties"] == ["release"] and answer["grace_seconds"] == DAY
    assert _status(driver, unshipped) == OrderStatus.FUNDED


def test_without_a_keeper_key_the_keeper_is_off(keeper_settings: Settings) -> None:
    with TestClient(
        create_app(keeper_settings.model_copy(update={"keeper_private_key": None}))
    ) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        assert asyncio.run(KeeperLoop(services).cycle()) is None
        answer = client.get("/v1/keeper").json()
        assert answer["enabled"] is False and answer["keeper"] is None


def test_a_keeper_that_cannot_reach_its_node_waits_longer_each_cycle_up_to_a_minute(
    keeper_settings: Settings,
) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = keeper_settings.model_copy(
        update={"rpc_url": unreachable, "keeper_interval_seconds": 10.0}
    )
    with TestClient(create_app(settings)) as client:
        loop = KeeperLoop(client.app.state.services)  # type: ignore[attr-defined]

        delays = [asyncio.run(loop.cycle()) for _ in range(5)]

    assert delays == [10.0, 20.0, 40.0, 60.0, 60.0]
    assert loop.keeper is None  # never built without its node: tried again each cycle


def test_a_batch_order_the_chain_no_longer_finds_due_is_put_off_and_the_rest_go(
    keeper_service: ServiceFactory, driver: SuiteDriver, start_block: int
) -> None:
    """Both releases were queued due; the chain then went back (a reorg) to a time when only one
    is: the batch's simulation names the other (EscrowReleaseTooEarly), which is put off while
    the due one is sent, and goes once it is due again."""
    merchant, buyer = driver.new_merchant(), driver.new_account()
    early = _delivered(driver, buyer, merchant)  # releasable 2 days after delivery
    _jump(driver, DAY)
    late = _delivered(driver, buyer, merchant)  # a day later
    later = [0.0]  # seconds the relayer's clock runs ahead: a put-off record waits 5 s
    service = keeper_service(relay_clock=lambda: time.time() + later[0])
    before = driver.rpc("evm_snapshot")
    _jump(driver, 3 * DAY)
    assert sorted(service.keep().queued) == sorted([f"release:{early.hex}", f"release:{late.hex}"])

    driver.rpc("evm_revert", before)
    _jump(driver, DAY + 3_600)  # the early one is due, the late one not for a day
    service.relay_in_one_block()

    assert len(_events(driver, "OrderReleased", early, start_block)) == 1
    assert _events(driver, "OrderReleased", late, start_block) == []
    by_order = {r.subject: r for r in service.records()}
    assert by_order[early.hex].status == RelayStatus.CONFIRMED
    assert by_order[late.hex].status == RelayStatus.QUEUED  # put off, not failed

    _jump(driver, DAY)
    later[0] = 10.0
    service.relay_in_one_block()

    assert len(_events(driver, "OrderReleased", late, start_block)) == 1
    assert {r.subject: r for r in service.records()}[late.hex].status == RelayStatus.CONFIRMED


def test_a_duty_needing_more_gas_than_the_keepers_cap_is_not_queued_and_says_why(
    keeper_service: ServiceFactory, driver: SuiteDriver
) -> None:
    merchant, buyer = driver.new_merchant(), driver.new_account()
    delivered = _delivered(driver, buyer, merchant)
    service = keeper_service(keeper_max_gas=30_000)  # a release takes more
    _jump(driver, 3 * DAY)

    report = service.keep()

    assert report.queued == []
    reason = report.refused[f"release:{delivered.hex}"]
    assert "above the keeper's cap of 30000 (KEEPER_MAX_GAS)" in reason
    assert _status(driver, delivered) == OrderStatus.DELIVERED


def test_due_releases_go_in_one_release_due_transaction_and_each_record_settles_with_it(
    keeper_service: ServiceFactory, driver: SuiteDriver, start_block: int
) -> None:
    first, second, buyer = driver.new_merchant(), driver.new_merchant(), driver.new_account()
    releases = [_delivered(driver, buyer, merchant) for merchant in (first, second, first, second)]
    unshipped = driver.open_order(buyer, first, [])  # a refund: a duty of its own
    service = keeper_service()
    credits_before = {
        m.address: driver.escrow.functions.creditOf(m.address, ZERO_ADDRESS).call()
        for m in (first, second)
    }
    _jump(driver, 6 * DAY)

    report = service.keep()
    service.relay_in_one_block()

    assert len(report.queued) == 5
    events = [_events(driver, "OrderReleased", order, start_block) for order in releases]
    assert all(len(found) == 1 for found in events)
    [batch_tx] = {found[0].transactionHash for found in events}
    sent = driver.w3.eth.get_transaction(batch_tx)
    assert bytes(sent["input"])[:4] == keccak(text=RELEASE_BATCH_SIGNATURE)[:4]
    assert sent["from"] == service.keeper.address
    [refund] = _events(driver, "OrderRefunded", unshipped, start_block)
    assert refund.transactionHash != batch_tx
    # Each record is settled by the transaction that carried it.
    by_order = {r.subject: r for r in service.records()}
    for order in releases:
        record = by_order[order.hex]
        assert record.status == RelayStatus.CONFIRMED
        assert record.tx_hash == batch_tx.to_0x_hex()
    assert by_order[unshipped.hex].tx_hash == refund.transactionHash.to_0x_hex()
    # The merchants are paid exactly their orders, less the fee (the batch sums their runs).
    fee_bps = int(driver.escrow.functions.feeBps().call())
    for merchant in (first, second):
        owed = sum(
            order.terms[4] - order.terms[4] * fee_bps // 10_000
            for order in releases
            if order.terms[1] == merchant.address
        )
        credit = driver.escrow.functions.creditOf(merchant.address, ZERO_ADDRESS).call()
        assert credit - credits_before[merchant.address] == owed
    done = {d["order_id"]: d for d in service.client.get("/v1/keeper").json()["done"]}
    assert {done[o.hex]["tx_hash"] for o in releases} == {batch_tx.to_0x_hex()}


def test_a_release_a_party_makes_before_the_batch_is_mined_fails_alone_from_the_receipt(
    keeper_service: ServiceFactory, driver: SuiteDriver, start_block: int
) -> None:
    """The keeper's batch is sent; before it is mined, the buyer confirms one of its orders (a
    higher tip puts it first in the block). The batch skips that order and succeeds: its record
    fails with the contract's reason, the others are confirmed, and nothing is paid twice."""
    merchant, buyer = driver.new_merchant(), driver.new_account()
    orders = [_delivered(driver, buyer, merchant) for _ in range(3)]
    service = keeper_service()
    _jump(driver, 3 * DAY)
    assert len(service.keep().queued) == 3

    driver.rpc("evm_setAutomine", False)
    try:
        service.relayer.run_once()
        driver.escrow.functions.confirmReceipt(orders[1].terms).transact(
            {"from": buyer.address, "maxPriorityFeePerGas": 50 * 10**9, "maxFeePerGas": 10**12}
        )
    finally:
        driver.rpc("evm_setAutomine", True)
    driver.mine()
    service.relayer.run_once()

    released = [_events(driver, "OrderReleased", order, start_block) for order in orders]
    assert all(len(found) == 1 for found in released)
    assert released[1][0].args.by == buyer.address
    assert released[0][0].transactionHash == released[2][0].transactionHash
    by_order = {r.subject: r for r in service.records()}
    skipped = by_order[orders[1].hex]
    assert skipped.status == RelayStatus.FAILED
    assert skipped.failure_reason == (
        f"EscrowInvalidStatus(orderId={orders[1].hex}, status=released): invalid status"
    )
    assert skipped.tx_hash == released[0][0].transactionHash.to_0x_hex()
    for order in (orders[0], orders[2]):
        assert by_order[order.hex].status == RelayStatus.CONFIRMED
    assert service.keep().queued == []


def test_a_batch_is_split_to_stay_under_the_keepers_gas_cap(
    keeper_service: ServiceFactory, driver: SuiteDriver, start_block: int
) -> None:
    merchant, buyer = driver.new_merchant(), driver.new_account()
    orders = [_delivered(driver, buyer, merchant) for _ in range(4)]
    # One release takes ~50,000 gas, each more in a batch ~15,000: two fit under 100,000.
    service = keeper_service(keeper_max_gas=100_000)
    _jump(driver, 3 * DAY)

    assert len(service.keep().queued) == 4
    for _ in range(3):
        service.relay_in_one_block()

    hashes = [
        _events(driver, "OrderReleased", order, start_block)[0].transactionHash for order in orders
    ]
    assert 1 < len(set(hashes)) < 4
    for tx_hash in set(hashes):
        assert driver.w3.eth.get_transaction_receipt(tx_hash)["gasUsed"] <= 100_000
    assert all(r.status == RelayStatus.CONFIRMED for r in service.records())
