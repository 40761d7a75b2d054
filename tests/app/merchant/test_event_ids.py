"""A webhook event's id is what the receiver dedupes by: the same log keeps it wherever a
reorganisation puts its transaction, and any other log gets another."""

from __future__ import annotations

from dataclasses import replace

from app.index.handlers import ChainLog
from app.merchant.event_types import EventType
from app.merchant.events import event_id

RELEASED = EventType.ORDER_RELEASED
LOG = ChainLog(
    contract="OrderEscrow",
    event="OrderReleased",
    args={"orderId": b"\x01" * 32, "terms": {"merchant": "0xM", "amount": 5}, "items": [1, 2]},
    address="0xEscrow",
    block_number=10,
    block_hash="0xaa",
    block_time=1_000,
    tx_hash="0xtx",
    log_index=3,
)


def test_a_transaction_moved_to_another_block_keeps_its_events_ids() -> None:
    moved = replace(LOG, block_number=11, block_hash="0xbb", block_time=1_012, log_index=7)

    assert event_id(moved, RELEASED) == event_id(LOG, RELEASED)
    assert event_id(LOG, RELEASED).startswith("evt_") and len(event_id(LOG, RELEASED)) == 36


def test_another_transaction_log_or_type_is_another_event() -> None:
    others = [
        replace(LOG, tx_hash="0xtx2"),
        replace(LOG, args={**LOG.args, "orderId": b"\x02" * 32}),
        replace(LOG, args={**LOG.args, "terms": {"merchant": "0xM", "amount": 6}}),
        replace(LOG, address="0xOther"),
    ]
    ids = {event_id(log, RELEASED) for log in others} | {event_id(LOG, EventType.ORDER_REFUNDED)}

    assert event_id(LOG, RELEASED) not in ids and len(ids) == len(others) + 1
    # The same log said twice in one transaction: two events, each with an id of its own.
    assert event_id(LOG, RELEASED, repeat=1) not in ids | {event_id(LOG, RELEASED)}
