"""The relayer on the session's Anvil: many events per transaction, custody ids allocated above
what the oracle spent, the record's state at every step, a restart mid-relay that applies every
event exactly once, and one relayer at a time per key (escrow reports: test_logistics_relay.py)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
from sqlalchemy import event as sql_event
from sqlalchemy import select

from app.chain.journal import ChainTransaction
from app.outbox.models import OutboxRecord, RelayStatus
from app.outbox.relayer import Relayer
from app.outbox.worker import relayer_worker
from tests.app.conftest import SourceSecrets
from tests.app.ingest.support import (
    ORACLE_KEY,
    Chain,
    ServiceHandle,
    event,
    hex32,
    post_signed,
    relay_until_settled,
)
from tests.app.outbox.conftest import ServiceFactory

pytestmark = [pytest.mark.both_databases, pytest.mark.anvil]


def _accept(
    handle: ServiceHandle, carrier: SourceSecrets, events: list[dict[str, object]]
) -> list[str]:
    relay_ids: list[str] = []
    for start in range(0, len(events), 500):
        response = post_signed(
            handle.client,
            carrier,
            events[start : start + 500],
            timestamp=int(time.time()) - start // 500,
        )
        assert response.status_code == 202, response.text
        relay_ids += [a["relay_id"] for a in response.json()["accepted"]]
    return relay_ids


def _custody_events(items: list[bytes], count: int, label: str) -> list[dict[str, object]]:
    actions = ["shipped", "in_transit", "delivered"]
    return [
        event(f"{label}-{i}", item_id=hex32(items[i % len(items)]), action=actions[i % 3])
        for i in range(count)
    ]


def _transactions(handle: ServiceHandle) -> list[ChainTransaction]:
    with handle.services.database.sessions() as session:
        return list(session.scalars(select(ChainTransaction).order_by(ChainTransaction.nonce)))


def test_many_events_travel_in_few_transactions_each_recorded_once(
    make_service: ServiceFactory,
    carrier: SourceSecrets,
    relay_chain: Chain,
    relay_items: list[bytes],
) -> None:
    handle = make_service(relay_batch_size=100)
    relay_ids = _accept(handle, carrier, _custody_events(relay_items, 250, "batch"))
    start = relay_chain.head() + 1
    relayer = Relayer.from_services(handle.services)

    first = relayer.run_once()

    assert (first.sent_transactions, first.sent_records) == (3, 250)
    assert handle.statuses() == {"submitted": 250}
    submitted = handle.client.get(f"/v1/relay/{relay_ids[0]}").json()
    assert submitted["status"] == "submitted"
    assert submitted["tx_hash"] == _transactions(handle)[0].watched_call()[0]
    relay_until_settled(relayer, handle, relay_chain)
    assert handle.statuses() == {"confirmed": 250}
    recorded = relay_chain.custody_events(start)
    assert len(recorded) == 250
    assert len({event_id for event_id, _, _ in recorded}) == 250
    assert len({tx for _, _, tx in recorded}) == 3
    confirmed = handle.client.get(f"/v1/relay/{relay_ids[-1]}").json()
    assert confirmed["status"] == "confirmed"
    assert confirmed["block_number"] is not None
    assert int(confirmed["custody_event_id"]) == max(event_id for event_id, _, _ in recorded)
    item = relay_chain.registry.functions.itemOf(relay_items[0]).call()
    assert item[2] > 0  # lastAction set by a custody event


def test_a_batch_is_claimed_and_settled_by_a_few_statements_not_one_per_record(
    make_service: ServiceFactory,
    carrier: SourceSecrets,
    relay_chain: Chain,
    relay_items: list[bytes],
) -> None:
    """Every record of a batch is sent, and later confirmed, with the same values but its own
    custody event id: a statement per record was a round of parsing, locking and a new row
    version each on PostgreSQL, for 500 records a batch."""
    handle = make_service(relay_batch_size=100)
    _accept(handle, carrier, _custody_events(relay_items, 250, "statements"))
    record_updates: list[int] = []

    def count(
        _c: object, _cu: object, statement: str, params: object, _x: object, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX_RECORDS"):
            record_updates.append(len(params) if many else 1)  # type: ignore[arg-type]

    engine = handle.services.database.engine
    sql_event.listen(engine, "before_cursor_execute", count)
    try:
        relay_until_settled(Relayer.from_services(handle.services), handle, relay_chain)
    finally:
        sql_event.remove(engine, "before_cursor_execute", count)

    assert handle.statuses() == {"confirmed": 250}
    # A few a cycle (reopened records followed back, a claim per transaction, an update per
    # transaction settled), whatever the batch's size: one per record would be 500 here.
    assert sum(record_updates) < 25, record_updates
    with handle.services.database.sessions() as session:
        sent = session.execute(select(OutboxRecord.attempts, OutboxRecord.custody_event_id)).all()
    assert {attempts for attempts, _ in sent} == {1}
    event_ids = [int(event_id) for _, event_id in sent]
    assert sorted(event_ids) == sorted(e for e, _, _ in relay_chain.custody_events(0)[-250:])


def test_custody_ids_start_above_the_highest_id_the_oracle_spent(
    make_service: ServiceFactory,
    carrier: SourceSecrets,
    relay_chain: Chain,
    relay_items: list[bytes],
) -> None:
    spent = max((event_id for event_id, _, _ in relay_chain.custody_events(0)), default=0) + 1_000
    now = int(relay_chain.w3.eth.get_block("latest")["timestamp"])
    relay_chain.send(
        ORACLE_KEY,
        relay_chain.registry.functions.recordCustody(
            [(relay_items[1], spent, 3, now - 10, b"\x00" * 32, b"\x00" * 32)]
        ),
    )
    handle = make_service()
    [relay_id] = _accept(handle, carrier, [event("above", item_id=hex32(relay_items[1]))])
    relay_until_settled(Relayer.from_services(handle.services), handle, relay_chain)
    record = handle.client.get(f"/v1/relay/{relay_id}").json()
    assert record["status"] == "confirmed"
    assert int(record["custody_event_id"]) == spent + 1


def test_restart_mid_relay_applies_every_event_exactly_once(
    make_service: ServiceFactory,
    carrier: SourceSecrets,
    relay_chain: Chain,
    relay_items: list[bytes],
) -> None:
    """The relayer runs as the app's worker and is cancelled right after its first submission;
    a new service on the same database finishes the job."""
    first = make_service(relay_batch_size=40, relay_max_in_flight=1)
    _accept(first, carrier, _custody_events(relay_items, 200, "restart"))
    start = relay_chain.head() + 1

    async def run_until_first_submission() -> None:
        task = asyncio.create_task(relayer_worker(first.services)())
        deadline = time.monotonic() + 30
        while not first.statuses().get("submitted") and not first.statuses().get("confirmed"):
            assert time.monotonic() < deadline, "the worker never submitted anything"
            assert not task.done(), task
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run_until_first_submission())
    before = first.statuses()
    assert before.get("queued", 0) > 0, before  # stopped mid-way

    second = make_service(relay_batch_size=40, relay_max_in_flight=1)
    relay_until_settled(Relayer.from_services(second.services), second, relay_chain)

    assert second.statuses() == {"confirmed": 200}
    recorded = relay_chain.custody_events(start)
    per_id = Counter(event_id for event_id, _, _ in recorded)
    assert len(per_id) == 200
    assert set(per_id.values()) == {1}
    stored_ids = {int(r.custody_event_id) for r in second.records()}
    assert stored_ids == set(per_id)
    assert {r.status for r in second.records()} == {RelayStatus.CONFIRMED}


def test_second_relayer_on_the_same_database_stands_by_until_the_first_lets_go(
    make_service: ServiceFactory,
    carrier: SourceSecrets,
    relay_chain: Chain,
    relay_items: list[bytes],
) -> None:
    """Two service processes (uvicorn --workers 2) share a database: one relayer sends."""
    handle = make_service()
    _accept(handle, carrier, _custody_events(relay_items, 5, "lease"))
    first = Relayer.from_services(handle.services)
    second = Relayer.from_services(handle.services)
    assert first.run_once().sent_transactions == 1

    standby = second.run_once()

    assert standby.standing_by
    assert standby.sent_transactions == 0
    first.release_lease()
    relay_until_settled(second, handle, relay_chain)
    assert handle.statuses() == {"confirmed": 5}


def test_metrics_show_the_relays_records_and_transactions_as_the_database_holds_them(
    make_service: ServiceFactory,
    carrier: SourceSecrets,
    relay_chain: Chain,
    relay_items: list[bytes],
) -> None:
    """The relayer here is not the app's worker (as with `make worker` beside `make serve`): the
    app's /metrics still shows what it relays, read from the database."""
    handle = make_service()
    before = handle.client.get("/metrics").text
    _accept(handle, carrier, _custody_events(relay_items, 20, "metrics"))
    waiting = handle.client.get("/metrics").text
    relayer = Relayer.from_services(handle.services)

    relayer.run_once()
    flying = handle.client.get("/metrics").text
    relay_until_settled(relayer, handle, relay_chain)
    settled = handle.client.get("/metrics").text

    assert 'trustmall_relay_records{status="queued"} 0.0' in before
    assert "trustmall_relay_oldest_unconfirmed_seconds 0.0" in before
    assert 'trustmall_relay_records{status="queued"} 20.0' in waiting
    assert _value(waiting, "trustmall_relay_oldest_unconfirmed_seconds") > 0
    assert 'trustmall_relay_records{status="submitted"} 20.0' in flying
    assert (
        _value(flying, 'trustmall_chain_transactions{state="pending"}')
        + _value(flying, 'trustmall_chain_transactions{state="mined"}')
        == 1
    )
    assert 'trustmall_relay_records{status="confirmed"} 20.0' in settled
    assert 'trustmall_relay_records{status="submitted"} 0.0' in settled
    assert "trustmall_relay_oldest_unconfirmed_seconds 0.0" in settled
    assert 'trustmall_chain_transactions{state="confirmed"} 1.0' in settled
    assert 'trustmall_chain_transactions{state="pending"} 0.0' in settled


def _value(metrics: str, name: str) -> float:
    [line] = [line for line in metrics.splitlines() if line.startswith(name + " ")]
    return float(line.split()[-1])
