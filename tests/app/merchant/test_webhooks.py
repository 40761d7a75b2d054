"""Webhooks back, with the real parts: the session's Anvil, the app's own database, the indexer
writing events, the deliverer posting them to a real HTTP receiver on this machine that checks
each signature by the documented scheme and dedupes by event id. The deliverer's clock is the
test's: nothing sleeps."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.domain.vocab import LogisticsKind
from app.main import create_app
from app.merchant.delivery import WebhookDeliverer
from app.merchant.models import WebhookDeliveryRow, WebhookEventRow
from app.settings import Environment, Settings
from tests.app.databases import stored_bytes
from tests.app.index.actors import Shop, SuiteDriver
from tests.app.index.records import Actor
from tests.app.merchant.support import Clock, Receiver, sign_in

HOOKS = "/v1/merchant/webhooks"
DAY = 86_400.0


def subscribe(
    shop: Shop, headers: dict[str, str], receiver: Receiver, **body: Any
) -> dict[str, Any]:
    answer = shop.client.post(HOOKS, headers=headers, json={"url": receiver.url, **body})
    assert answer.status_code == 201, answer.text
    endpoint: dict[str, Any] = answer.json()
    receiver.secret = endpoint["secret"]
    return endpoint


def deliverer(shop: Shop, clock: Clock) -> WebhookDeliverer:
    services = shop.app.state.services
    return WebhookDeliverer(services.database, services.settings, clock)


def deliveries(shop: Shop) -> list[WebhookDeliveryRow]:
    with shop.app.state.services.database.sessions() as session:
        return list(session.scalars(select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id)))


def log_of(shop: Shop, headers: dict[str, str], endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    answer = shop.client.get(f"{HOOKS}/{endpoint['id']}/deliveries", headers=headers)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["deliveries"]
    return found


def test_a_receiver_that_fails_five_times_then_answers_gets_the_event_once_more_and_dedupes_by_id(
    shop: Shop, merchant: Actor, buyer: Actor, suite: SuiteDriver, receiver: Receiver, clock: Clock
) -> None:
    headers = sign_in(shop.client, merchant)
    endpoint = subscribe(shop, headers, receiver, event_types=["order.funded"])
    receiver.fail_first = 5
    order = suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    shop.index()
    sender = deliverer(shop, clock)
    pauses = []
    for _ in range(5):
        report = sender.run_once()
        assert len(report.retrying) == 1
        (row,) = deliveries(shop)
        pauses.append(row.next_attempt_at - clock.now)
        assert sender.run_once().retrying == []  # not due yet: nothing sent
        clock.advance(pauses[-1])
    assert pauses == [60.0, 120.0, 240.0, 480.0, 960.0]  # exponential backoff
    assert len(sender.run_once().delivered) == 1
    assert len(receiver.requests) == 6
    assert all(request["verified"] for request in receiver.requests)
    (event,) = receiver.handled.values()
    assert event["type"] == "order.funded"
    assert event["merchant"] == merchant.address
    assert event["data"]["order_id"] == order.hex
    assert event["data"]["amount"] == str(10**15)
    (entry,) = log_of(shop, headers, endpoint)
    assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("delivered", 6, 200)
    assert entry["event_id"] == event["id"]

    # A delivery id is a whole number in decimal digits: "+1" or "1.5" names no delivery, however
    # lax a reader ("1.0" is the integer 1 to JSON Schema, and names delivery 1).
    for written in (f"+{entry['id']}", f"{entry['id']}.5"):
        refused = shop.client.post(
            f"{HOOKS}/{endpoint['id']}/deliveries/{written}/replay", headers=headers
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "validation_failed"
    # A replay sends the same event, same id, again: the receiver sees it twice, handles it once.
    replay = shop.client.post(
        f"{HOOKS}/{endpoint['id']}/deliveries/{entry['id']}/replay", headers=headers
    )
    assert replay.status_code == 202, replay.text
    assert replay.json()["replay_of"] == entry["id"]
    again = shop.client.post(
        f"{HOOKS}/{endpoint['id']}/deliveries/{entry['id']}/replay", headers=headers
    )
    assert again.status_code == 409  # one replay of an event pending at a time
    assert again.json()["error"]["code"] == "delivery_pending"
    assert len(sender.run_once().delivered) == 1
    assert receiver.seen[event["id"]] == 2
    assert list(receiver.handled) == [event["id"]]
    assert [d["status"] for d in log_of(shop, headers, endpoint)] == ["delivered", "delivered"]


def test_a_delivery_refused_for_three_days_is_marked_failed(
    shop: Shop, merchant: Actor, buyer: Actor, suite: SuiteDriver, receiver: Receiver, clock: Clock
) -> None:
    headers = sign_in(shop.client, merchant)
    endpoint = subscribe(shop, headers, receiver)
    receiver.fail_first = 10**6
    suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    shop.index()
    sender = deliverer(shop, clock)
    started = clock.now
    pauses: list[float] = []
    while not sender.run_once().failed:
        (row,) = deliveries(shop)
        pauses.append(row.next_attempt_at - clock.now)
        clock.advance(pauses[-1])
    assert clock.now - started == 3 * DAY  # the last try falls on the window's end
    assert pauses[:9] == [60.0 * 2**n for n in range(9)]
    assert set(pauses[9:-1]) == {6 * 3_600.0}  # doubling stops at six hours
    (entry,) = log_of(shop, headers, endpoint)
    assert (entry["status"], entry["attempts"]) == ("failed", len(pauses) + 1)
    assert entry["last_error"] == "the endpoint answered HTTP 500"
    assert entry["next_attempt_at"] is None


def test_each_event_type_reaches_the_merchant_it_belongs_to_and_no_other(
    shop: Shop,
    merchant: Actor,
    buyer: Actor,
    shopper: Actor,
    suite: SuiteDriver,
    receiver: Receiver,
    clock: Clock,
) -> None:
    rival = suite.new_merchant("Rival Goods")
    subscribe(shop, sign_in(shop.client, merchant), receiver)
    rival_endpoint = subscribe(shop, sign_in(shop.client, rival), receiver)
    receiver.secret = ""  # set below: the rival's endpoint must get nothing to verify
    items = [suite.register_item(merchant).item_id for _ in range(5)]
    delivered = suite.open_order(buyer, merchant, [items[0]])
    suite.ship(merchant, delivered)
    suite.report(delivered, LogisticsKind.DELIVERED)
    suite.confirm_receipt(buyer, delivered)
    cancelled = suite.open_order(buyer, merchant, [items[1]])
    suite.cancel(buyer, cancelled)
    disputed = suite.open_order(buyer, merchant, [items[2]])
    suite.ship(merchant, disputed)
    suite.dispute(buyer, disputed)
    suite.confirm_report(suite.file_report(shopper, items[3]))
    suite.recall_item(merchant, items[4])
    suite.open_order(buyer, rival, [suite.register_item(rival).item_id])  # the rival's own
    shop.index()
    with shop.app.state.services.database.sessions() as session:
        events = list(session.scalars(select(WebhookEventRow).order_by(WebhookEventRow.id)))
        endpoint_of = {
            d.event_id: d.endpoint_id for d in session.scalars(select(WebhookDeliveryRow))
        }
    mine = sorted(e.type for e in events if e.merchant == merchant.address)
    assert mine == sorted(
        ["order.funded"] * 3
        + ["order.shipped"] * 2
        + ["order.delivered", "order.released", "order.refunded", "order.disputed"]
        + ["report.filed", "report.decided", "item.recalled"]
    )
    (rivals,) = [e for e in events if e.merchant == rival.address]
    assert endpoint_of[rivals.id] == rival_endpoint["id"]
    receiver.secret = rival_endpoint["secret"]
    sender = deliverer(shop, clock)
    sender.run_once()
    # Only the rival's event verifies under the rival's secret; the merchant's own do not.
    verified = [r["id"] for r in receiver.requests if r["verified"]]
    assert verified == [rivals.id]
    assert len(receiver.requests) == len(events)


def test_an_event_is_written_with_the_index_rows_or_not_at_all(
    shop: Shop,
    shop_settings: Settings,
    start_block: int,
    merchant: Actor,
    buyer: Actor,
    suite: SuiteDriver,
    receiver: Receiver,
) -> None:
    subscribe(shop, sign_in(shop.client, merchant), receiver)

    def killed(*_args: Any) -> None:
        raise RuntimeError("the process died here")

    # The indexer dies after writing the funded order's event, before its range commits.
    shop.app.state.index.indexer.handlers.follow("OrderEscrow", "OrderShipped", killed)
    order = suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    suite.ship(merchant, order)
    try:
        shop.index()
    except RuntimeError:
        pass
    else:
        raise AssertionError("the indexer should have died")
    assert deliveries(shop) == []
    # A new process on the same database indexes the range again: every event once.
    restarted = create_app(shop_settings)
    restarted.state.index.indexer.from_block = start_block
    with TestClient(restarted):
        restarted.state.index.indexer.run_once()
    with shop.app.state.services.database.sessions() as session:
        types = sorted(session.scalars(select(WebhookEventRow.type)))
    assert types == ["order.funded", "order.shipped"]
    assert len(deliveries(shop)) == 2


def test_a_deleted_endpoint_s_pending_deliveries_are_cancelled_and_its_log_kept(
    shop: Shop, merchant: Actor, buyer: Actor, suite: SuiteDriver, receiver: Receiver
) -> None:
    headers = sign_in(shop.client, merchant)
    endpoint = subscribe(shop, headers, receiver)
    suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    shop.index()
    (entry,) = log_of(shop, headers, endpoint)
    pending = shop.client.post(
        f"{HOOKS}/{endpoint['id']}/deliveries/{entry['id']}/replay", headers=headers
    )
    assert pending.status_code == 409
    assert pending.json()["error"]["code"] == "delivery_pending"
    assert shop.client.delete(f"{HOOKS}/{endpoint['id']}", headers=headers).status_code == 204
    assert shop.client.get(HOOKS, headers=headers).json() == {"endpoints": []}
    assert [d.status for d in deliveries(shop)] == ["cancelled"]
    gone = shop.client.get(f"{HOOKS}/{endpoint['id']}/deliveries", headers=headers)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "webhook_not_found"


def test_a_merchant_sees_and_replays_only_its_own_endpoints(
    shop: Shop, merchant: Actor, suite: SuiteDriver, receiver: Receiver
) -> None:
    endpoint = subscribe(shop, sign_in(shop.client, merchant), receiver)
    other = sign_in(shop.client, suite.new_merchant("Other Goods"))
    assert shop.client.get(HOOKS, headers=other).json() == {"endpoints": []}
    for answer in (
        shop.client.get(f"{HOOKS}/{endpoint['id']}/deliveries", headers=other),
        shop.client.post(f"{HOOKS}/{endpoint['id']}/deliveries/1/replay", headers=other),
        shop.client.delete(f"{HOOKS}/{endpoint['id']}", headers=other),
    ):
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "webhook_not_found"


@pytest.mark.both_databases
def test_the_signing_secret_is_shown_once_and_stored_encrypted(
    shop: Shop, merchant: Actor, receiver: Receiver
) -> None:
    headers = sign_in(shop.client, merchant)
    endpoint = subscribe(shop, headers, receiver, event_types=["item.recalled"])
    assert endpoint["secret"].startswith("whsec_")
    (listed,) = shop.client.get(HOOKS, headers=headers).json()["endpoints"]
    assert "secret" not in listed
    assert listed["event_types"] == ["item.recalled"]
    shop.app.state.services.database.dispose()
    assert endpoint["secret"].encode() not in stored_bytes(
        shop.app.state.services.settings.database_url
    )


def test_one_deliverer_sends_at_a_time_and_another_takes_over_when_its_lease_runs_out(
    shop: Shop, merchant: Actor, buyer: Actor, suite: SuiteDriver, receiver: Receiver, clock: Clock
) -> None:
    subscribe(shop, sign_in(shop.client, merchant), receiver)
    first, second = deliverer(shop, clock), deliverer(shop, clock)
    assert first.run_once().delivered == []  # takes the lease: nothing due yet
    suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    shop.index()
    assert second.run_once().delivered == []  # the first one holds the lease
    clock.advance(60)  # the first one is gone: its lease ran out
    assert len(second.run_once().delivered) == 1
    assert len(receiver.handled) == 1


def test_metrics_count_deliveries_by_status(
    shop: Shop, merchant: Actor, buyer: Actor, suite: SuiteDriver, receiver: Receiver, clock: Clock
) -> None:
    subscribe(shop, sign_in(shop.client, merchant), receiver)
    suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    shop.index()
    receiver.fail_first = 1
    deliverer(shop, clock).run_once()
    metrics = shop.client.get("/metrics").text
    assert 'trustmall_webhook_deliveries{status="delivered"} 1.0' in metrics
    assert 'trustmall_webhook_deliveries{status="pending"} 1.0' in metrics
    assert 'trustmall_webhook_deliveries{status="failed"} 0.0' in metrics


def test_the_app_s_webhook_worker_delivers_and_lets_go_of_its_lease_when_stopped(
    shop: Shop, merchant: Actor, buyer: Actor, suite: SuiteDriver, receiver: Receiver, clock: Clock
) -> None:
    subscribe(shop, sign_in(shop.client, merchant), receiver)
    suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    shop.index()
    services = shop.app.state.services

    async def run_until_answered() -> None:
        worker = asyncio.create_task(services.workers["webhooks"]())
        answered = await asyncio.to_thread(receiver.answered.wait, 30)
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        assert answered, "the worker delivered nothing"

    asyncio.run(run_until_answered())
    assert [d.status for d in deliveries(shop)] == ["delivered"]
    # Stopped, the worker let go of its lease: another deliverer takes over at once.
    assert deliverer(shop, clock).lease.take()


def test_outside_development_and_tests_a_webhook_url_must_be_https(
    shop_settings: Settings, merchant: Actor, receiver: Receiver
) -> None:
    production = shop_settings.model_copy(update={"environment": Environment.PRODUCTION})
    with TestClient(create_app(production)) as client:
        headers = sign_in(client, merchant)
        answer = client.post(HOOKS, headers=headers, json={"url": receiver.url})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "webhook_url_not_https"


def test_an_endpoint_that_cannot_be_sent_to_fails_alone_and_the_others_get_their_events(
    shop: Shop, merchant: Actor, buyer: Actor, suite: SuiteDriver, receiver: Receiver, clock: Clock
) -> None:
    headers = sign_in(shop.client, merchant)
    # A 64-letter label is a valid URL, but the name cannot be encoded to be looked up.
    body = {"url": f"https://{'a' * 64}.example/", "event_types": ["order.funded"]}
    broken = shop.client.post(HOOKS, headers=headers, json=body)
    assert broken.status_code == 201, broken.text
    subscribe(shop, headers, receiver, event_types=["order.funded"])
    suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    shop.index()

    report = deliverer(shop, clock).run_once()

    assert len(report.delivered) == 1 and len(receiver.handled) == 1
    (failed,) = log_of(shop, headers, broken.json())
    assert failed["status"] == "pending" and failed["attempts"] == 1
    assert failed["last_error"]


@contextlib.contextmanager
def endless_answer() -> Iterator[str]:
    """An endpoint that answers 200 with a body of a gigabyte it never sends: only its status
    line and headers arrive, then nothing, until the test ends."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65_536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\nx")
            stop.wait()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    finally:
        stop.set()
        server.close()


def test_an_answer_s_body_is_never_read_so_an_endless_one_holds_the_deliverer_not_at_all(
    shop: Shop, merchant: Actor, buyer: Actor, suite: SuiteDriver, clock: Clock
) -> None:
    headers = sign_in(shop.client, merchant)
    with endless_answer() as url:
        body = {"url": url, "event_types": ["order.funded"]}
        assert shop.client.post(HOOKS, headers=headers, json=body).status_code == 201
        suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
        shop.index()

        report = deliverer(shop, clock).run_once()

    assert len(report.delivered) == 1  # its status said 200; the body was left unread


def test_in_production_a_webhook_never_goes_to_an_address_of_the_operator_s_own_network(
    shop: Shop,
    shop_settings: Settings,
    merchant: Actor,
    buyer: Actor,
    suite: SuiteDriver,
    receiver: Receiver,
    clock: Clock,
) -> None:
    production = shop_settings.model_copy(update={"environment": Environment.PRODUCTION})
    with TestClient(create_app(production)) as client:
        headers = sign_in(client, merchant)
        refused = [
            client.post(HOOKS, headers=headers, json={"url": url})
            for url in (
                "https://127.0.0.1/hook",
                "https://10.1.2.3/hook",
                "https://169.254.169.254/latest",
            )
        ]
    assert [answer.status_code for answer in refused] == [422, 422, 422]
    assert {answer.json()["error"]["code"] for answer in refused} == {"webhook_url_not_public"}

    # An endpoint that reached the table anyway (added before, or its name moved since) is
    # checked again before each attempt: nothing is posted to it.
    headers = sign_in(shop.client, merchant)
    endpoint = subscribe(shop, headers, receiver, event_types=["order.funded"])
    suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    shop.index()
    services = shop.app.state.services
    live = services.settings.model_copy(update={"environment": Environment.PRODUCTION})

    report = WebhookDeliverer(services.database, live, clock).run_once()

    assert len(report.retrying) == 1 and receiver.requests == []
    (entry,) = log_of(shop, headers, endpoint)
    assert "resolves to 127.0.0.1, not public" in entry["last_error"]
