"""The custody trail: who may record, event-id bitmap, timing rules and the current status."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.registry.helpers import CustodyAction, custody, h

MAX_UINT256 = 2**256 - 1


def recorded(registry: Any, event: tuple[Any, ...], submitter: Any) -> Any:
    item_id, event_id, action, occurred_at, location, context = event
    return registry.CustodyRecorded(
        itemId=item_id,
        submitter=submitter,
        eventId=event_id,
        action=action,
        occurredAt=occurred_at,
        locationHash=location,
        contextHash=context,
    )


def test_merchant_records_custody_of_own_item(
    registry: Any, merchant: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()
    event = custody(item_id, now(), CustodyAction.PRODUCED, location="GLN A", context="order 7")

    tx = registry.recordCustody([event], sender=merchant)

    assert tx.events == [recorded(registry, event, merchant)]
    item = registry.itemOf(item_id)
    assert item.lastAction == CustodyAction.PRODUCED
    assert item.updatedAt == event[3]
    assert registry.isEventRecorded(merchant, event[1])


def test_oracle_records_custody_of_any_merchants_item(
    registry: Any, oracle: Any, other_merchant: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item(sender=other_merchant)
    event = custody(item_id, now(), CustodyAction.IN_TRANSIT)

    tx = registry.recordCustody([event], sender=oracle)

    assert tx.events == [recorded(registry, event, oracle)]
    assert registry.itemOf(item_id).lastAction == CustodyAction.IN_TRANSIT
    assert registry.isEventRecorded(oracle, event[1])
    assert not registry.isEventRecorded(other_merchant, event[1])


def test_record_custody_emits_one_event_per_input_in_order(
    registry: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    first, second = register_item(), register_item()
    t = now()
    events = [
        custody(first, t - 30, CustodyAction.PRODUCED),
        custody(second, t - 20, CustodyAction.SHIPPED),
        custody(first, t - 10, CustodyAction.SHIPPED),
    ]

    tx = registry.recordCustody(events, sender=oracle)

    assert tx.events == [recorded(registry, event, oracle) for event in events]
    assert registry.itemOf(first).lastAction == CustodyAction.SHIPPED
    assert registry.itemOf(second).lastAction == CustodyAction.SHIPPED


def test_record_custody_reverts_for_merchant_on_another_merchants_item(
    registry: Any, merchant: Any, other_merchant: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item(sender=other_merchant)

    with ape.reverts(registry.RegistryNotItemCustodian, caller=merchant.address, itemId=item_id):
        registry.recordCustody([custody(item_id, now())], sender=merchant)


@pytest.mark.parametrize("caller", ["shopper", "admin", "verifier"])
def test_record_custody_reverts_for_stranger(
    registry: Any, register_item: Any, now: Any, request: Any, caller: str
) -> None:
    stranger = request.getfixturevalue(caller)
    item_id = register_item()

    with ape.reverts(registry.RegistryMerchantNotActive, merchant=stranger.address):
        registry.recordCustody([custody(item_id, now())], sender=stranger)


def test_record_custody_reverts_for_empty_input(registry: Any, oracle: Any) -> None:
    with ape.reverts(registry.RegistryEmptyInput):
        registry.recordCustody([], sender=oracle)


def test_record_custody_reverts_for_unregistered_item(registry: Any, oracle: Any, now: Any) -> None:
    item_id = h("never registered")

    with ape.reverts(registry.RegistryItemNotRegistered, itemId=item_id):
        registry.recordCustody([custody(item_id, now())], sender=oracle)


def test_record_custody_reverts_for_batch_item_until_activated(
    registry: Any, merchant: Any, oracle: Any, register_batch: Any, activate: Any, now: Any
) -> None:
    batch = register_batch(3)
    item_id = batch.leaf(0).item_id

    with ape.reverts(registry.RegistryItemNotRegistered, itemId=item_id):
        registry.recordCustody([custody(item_id, now())], sender=oracle)

    activate(batch, 0)
    registry.recordCustody([custody(item_id, now(), CustodyAction.SHIPPED)], sender=oracle)
    registry.recordCustody([custody(item_id, now(), CustodyAction.DELIVERED)], sender=merchant)

    assert registry.itemOf(item_id).lastAction == CustodyAction.DELIVERED


def test_record_custody_reverts_for_none_action(
    registry: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    event = custody(register_item(), now(), CustodyAction.NONE, event_id=77)

    with ape.reverts(registry.RegistryInvalidAction, eventId=77):
        registry.recordCustody([event], sender=oracle)


def test_record_custody_reverts_for_duplicate_event_id(
    registry: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()
    registry.recordCustody([custody(item_id, now(), event_id=5)], sender=oracle)

    with ape.reverts(registry.RegistryEventAlreadyRecorded, submitter=oracle.address, eventId=5):
        registry.recordCustody([custody(register_item(), now(), event_id=5)], sender=oracle)


def test_record_custody_reverts_for_duplicate_event_id_within_one_call(
    registry: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()
    events = [
        custody(item_id, now(), CustodyAction.SHIPPED, event_id=9),
        custody(item_id, now(), CustodyAction.DELIVERED, event_id=10),
        custody(item_id, now(), CustodyAction.RETURNED, event_id=9),
    ]

    with ape.reverts(registry.RegistryEventAlreadyRecorded, submitter=oracle.address, eventId=9):
        registry.recordCustody(events, sender=oracle)

    assert not registry.isEventRecorded(oracle, 9)
    assert not registry.isEventRecorded(oracle, 10)
    assert registry.itemOf(item_id).lastAction == CustodyAction.NONE


def test_record_custody_is_all_or_none(
    registry: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()
    good = custody(item_id, now(), CustodyAction.SHIPPED)
    bad = custody(h("unregistered"), now(), CustodyAction.SHIPPED)

    with ape.reverts(registry.RegistryItemNotRegistered, itemId=h("unregistered")):
        registry.recordCustody([good, bad], sender=oracle)

    assert not registry.isEventRecorded(oracle, good[1])
    assert registry.itemOf(item_id).lastAction == CustodyAction.NONE


def test_event_ids_are_spent_per_submitter(
    registry: Any, merchant: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()
    registry.recordCustody([custody(item_id, now(), event_id=42)], sender=oracle)

    registry.recordCustody([custody(item_id, now(), event_id=42)], sender=merchant)

    assert registry.isEventRecorded(oracle, 42)
    assert registry.isEventRecorded(merchant, 42)


@pytest.mark.parametrize("event_id", [0, 1, 255, 256, 257, 2**128, MAX_UINT256])
def test_is_event_recorded_marks_exactly_the_spent_id(
    registry: Any, oracle: Any, register_item: Any, now: Any, event_id: int
) -> None:
    assert not registry.isEventRecorded(oracle, event_id)

    registry.recordCustody([custody(register_item(), now(), event_id=event_id)], sender=oracle)

    assert registry.isEventRecorded(oracle, event_id)
    for neighbour in (event_id - 1, event_id + 1, event_id ^ 256):
        if 0 <= neighbour <= MAX_UINT256:
            assert not registry.isEventRecorded(oracle, neighbour)


def test_sequential_event_ids_sharing_a_word_are_each_spendable_once(
    registry: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()
    events = [custody(item_id, now(), event_id=i) for i in range(250, 262)]

    registry.recordCustody(events, sender=oracle)

    assert all(registry.isEventRecorded(oracle, i) for i in range(250, 262))
    assert not registry.isEventRecorded(oracle, 249)
    assert not registry.isEventRecorded(oracle, 262)
    with ape.reverts(registry.RegistryEventAlreadyRecorded, submitter=oracle.address, eventId=256):
        registry.recordCustody([custody(item_id, now(), event_id=256)], sender=oracle)


def test_record_custody_reverts_for_event_in_the_future(
    registry: Any, chain: Any, oracle: Any, register_item: Any
) -> None:
    item_id = register_item()
    block_time = int(chain.blocks.head.timestamp) + 1_000
    chain.pending_timestamp = block_time

    with ape.reverts(
        registry.RegistryEventInFuture, eventId=3, occurredAt=block_time + 1, blockTime=block_time
    ):
        registry.recordCustody([custody(item_id, block_time + 1, event_id=3)], sender=oracle)


def test_record_custody_accepts_event_at_the_block_time(
    registry: Any, chain: Any, oracle: Any, register_item: Any
) -> None:
    item_id = register_item()
    block_time = int(chain.blocks.head.timestamp) + 1_000
    chain.pending_timestamp = block_time

    event = custody(item_id, block_time, CustodyAction.DELIVERED)

    tx = registry.recordCustody([event], sender=oracle)

    assert tx.timestamp == block_time
    assert registry.itemOf(item_id).updatedAt == block_time


def test_late_event_joins_trail_but_does_not_move_status_back(
    registry: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()
    t = now()
    registry.recordCustody([custody(item_id, t, CustodyAction.DELIVERED)], sender=oracle)
    late = custody(item_id, t - 60, CustodyAction.IN_TRANSIT)

    tx = registry.recordCustody([late], sender=oracle)

    assert tx.events == [recorded(registry, late, oracle)]
    item = registry.itemOf(item_id)
    assert item.lastAction == CustodyAction.DELIVERED
    assert item.updatedAt == t


def test_event_at_same_time_as_current_status_replaces_it(
    registry: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()
    t = now()
    registry.recordCustody([custody(item_id, t, CustodyAction.DELIVERED)], sender=oracle)

    registry.recordCustody([custody(item_id, t, CustodyAction.RETURNED)], sender=oracle)

    assert registry.itemOf(item_id).lastAction == CustodyAction.RETURNED


def test_late_event_within_one_call_does_not_move_status_back(
    registry: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()
    t = now()

    registry.recordCustody(
        [
            custody(item_id, t, CustodyAction.DELIVERED),
            custody(item_id, t - 5, CustodyAction.SHIPPED),
        ],
        sender=oracle,
    )

    assert registry.itemOf(item_id).lastAction == CustodyAction.DELIVERED
    assert registry.itemOf(item_id).updatedAt == t


def test_first_event_sets_status_even_if_it_predates_registration(
    registry: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()
    registered_at = registry.itemOf(item_id).updatedAt
    produced_at = registered_at - 3_600

    registry.recordCustody([custody(item_id, produced_at, CustodyAction.PRODUCED)], sender=oracle)

    item = registry.itemOf(item_id)
    assert item.lastAction == CustodyAction.PRODUCED
    assert item.updatedAt == produced_at

    late_return = custody(item_id, produced_at - 1, CustodyAction.RETURNED)
    registry.recordCustody([late_return], sender=oracle)
    assert registry.itemOf(item_id).lastAction == CustodyAction.PRODUCED


def test_flag_and_recall_do_not_hide_later_custody_events(
    registry: Any,
    chain: Any,
    merchant: Any,
    oracle: Any,
    register_item: Any,
    confirmed_flag: Any,
) -> None:
    item_id = register_item()
    t = int(chain.blocks.head.timestamp)
    registry.recordCustody([custody(item_id, t - 100, CustodyAction.SHIPPED)], sender=oracle)
    chain.pending_timestamp = t + 500
    confirmed_flag(item_id)
    registry.recallItem(item_id, h("recall"), sender=merchant)

    registry.recordCustody([custody(item_id, t - 50, CustodyAction.DELIVERED)], sender=oracle)

    item = registry.itemOf(item_id)
    assert item.lastAction == CustodyAction.DELIVERED
    assert item.updatedAt == t - 50


def test_custody_can_be_recorded_for_flagged_and_recalled_items(
    registry: Any, merchant: Any, oracle: Any, register_item: Any, confirmed_flag: Any, now: Any
) -> None:
    item_id = register_item()
    confirmed_flag(item_id)
    registry.recordCustody([custody(item_id, now(), CustodyAction.RETURNED)], sender=oracle)
    registry.recallItem(item_id, h("recall"), sender=merchant)

    registry.recordCustody([custody(item_id, now(), CustodyAction.RETURNED)], sender=merchant)

    assert registry.itemOf(item_id).lastAction == CustodyAction.RETURNED


def test_logistics_oracle_may_not_record_a_sale(
    registry: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    """Sales come from the merchant or the escrow: a carrier's key cannot forge one."""
    item_id = register_item()
    events = [
        custody(item_id, now(), CustodyAction.DELIVERED),
        custody(item_id, now(), CustodyAction.SOLD, event_id=31),
    ]

    with ape.reverts(registry.RegistryActionNotAllowed, eventId=31, action=CustodyAction.SOLD):
        registry.recordCustody(events, sender=oracle)

    assert not registry.isEventRecorded(oracle, events[0][1])
    assert registry.itemOf(item_id).lastAction == CustodyAction.NONE


def test_merchant_records_a_sale_of_its_own_item(
    registry: Any, merchant: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()

    registry.recordCustody([custody(item_id, now(), CustodyAction.SOLD)], sender=merchant)

    assert registry.itemOf(item_id).lastAction == CustodyAction.SOLD


def test_record_custody_reverts_while_paused(
    registry: Any, admin: Any, merchant: Any, oracle: Any, register_item: Any, now: Any
) -> None:
    item_id = register_item()
    registry.pause(sender=admin)

    for sender in (merchant, oracle):
        with ape.reverts(registry.EnforcedPause):
            registry.recordCustody([custody(item_id, now())], sender=sender)
    registry.unpause(sender=admin)
    registry.recordCustody([custody(item_id, now())], sender=oracle)
