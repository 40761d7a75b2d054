"""What the carriers' endpoint accepts and answers: validation codes per field, idempotency, the
body size limit, the per-source rate limit, unknown subjects named, resent events, and every
accepted event in the outbox (queued) in the same transaction as the idempotency record."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.ingest.models import IdempotencyRecord
from app.main import create_app
from app.outbox.models import OutboxRecord, RelayKind
from app.settings import Settings, SourceCredentials
from tests.app.conftest import CARRIER_ID, RIVAL_CARRIER_ID, SourceSecrets
from tests.app.ingest.conftest import GS1_SERIAL, GTIN
from tests.app.ingest.support import Chain, error_codes, event, hex32, post_signed

pytestmark = pytest.mark.anvil


def _outbox(client: TestClient) -> list[OutboxRecord]:
    database = client.app.state.services.database  # type: ignore[attr-defined]
    with database.sessions() as session:
        return list(session.scalars(select(OutboxRecord).order_by(OutboxRecord.id)))


def _count(client: TestClient, model: type[Any]) -> int:
    database = client.app.state.services.database  # type: ignore[attr-defined]
    with database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def tuned(settings: Settings) -> Iterator[Any]:
    """A client factory for settings changed per test (limits), same database per test."""
    clients: list[TestClient] = []

    def make(**changes: Any) -> TestClient:
        client = TestClient(create_app(settings.model_copy(update=changes)))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


# ---------------------------------------------------------------------------------------- accepted


def test_accepted_events_are_queued_in_the_outbox_with_relay_ids(
    client: TestClient, carrier: SourceSecrets, items: list[bytes]
) -> None:
    events = [event(f"evt-many-{i}", item_id=hex32(items[i])) for i in range(3)]
    response = post_signed(client, carrier, events)
    assert response.status_code == 202, response.text
    accepted = response.json()["accepted"]
    assert [a["index"] for a in accepted] == [0, 1, 2]
    assert response.json()["rejected"] == []
    rows = _outbox(client)
    assert [row.relay_id for row in rows] == [a["relay_id"] for a in accepted]
    assert {row.status for row in rows} == {"queued"}
    assert rows[0].kind == RelayKind.CUSTODY
    assert rows[0].payload["item_id"] == hex32(items[0])
    assert rows[0].payload["action"] == 2  # CustodyAction.Shipped
    relay = client.get(f"/v1/relay/{accepted[0]['relay_id']}")
    assert relay.status_code == 200
    assert relay.json()["status"] == "queued"
    assert relay.json()["subject"] == hex32(items[0])


def test_gs1_named_item_resolves_to_its_item_id(
    client: TestClient, carrier: SourceSecrets, items: list[bytes]
) -> None:
    record = event("evt-gs1", gtin=GTIN, serial=GS1_SERIAL, action="delivered")
    response = post_signed(client, carrier, record)
    assert response.status_code == 202, response.text
    assert _outbox(client)[0].subject == hex32(items[-1])


def test_order_events_are_queued_as_escrow_logistics_with_the_sources_carrier_id(
    client: TestClient, carrier: SourceSecrets, rival_carrier: SourceSecrets, chain: Chain
) -> None:
    order_id = chain.open_order()
    response = post_signed(
        client,
        carrier,
        [
            event("evt-order-ship", order_id=order_id, action="shipped"),
            event("evt-order-deliver", order_id=order_id, action="delivered", items=[0]),
        ],
    )
    assert response.status_code == 202, response.text
    rival = post_signed(client, rival_carrier, event("evt-rival", order_id=order_id))
    assert rival.status_code == 202, rival.text
    rows = _outbox(client)
    assert [row.kind for row in rows] == [RelayKind.ORDER_LOGISTICS] * 3
    assert rows[1].payload == {
        "order_id": order_id,
        "kind": 1,  # LogisticsKind.Delivered
        "carrier": CARRIER_ID,
        "items": 1,
        "evidence_hash": rows[1].payload["evidence_hash"],
    }
    assert [row.payload["carrier"] for row in rows] == [CARRIER_ID, CARRIER_ID, RIVAL_CARRIER_ID]


def test_unknown_items_and_orders_are_named_and_the_rest_accepted(
    client: TestClient, carrier: SourceSecrets, items: list[bytes]
) -> None:
    unknown_item = "0x" + "ab" * 32
    unknown_order = "0x" + "cd" * 32
    response = post_signed(
        client,
        carrier,
        [
            event("evt-known", item_id=hex32(items[3])),
            event("evt-unknown-item", item_id=unknown_item),
            event("evt-unknown-order", order_id=unknown_order),
        ],
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert [a["event_id"] for a in body["accepted"]] == ["evt-known"]
    assert [(r["index"], r["code"], r["subject"]) for r in body["rejected"]] == [
        (1, "unknown_item", unknown_item),
        (2, "unknown_order", unknown_order),
    ]
    assert len(_outbox(client)) == 1


def test_request_naming_only_unknown_subjects_is_refused(
    client: TestClient, carrier: SourceSecrets
) -> None:
    response = post_signed(client, carrier, event("evt-nowhere", item_id="0x" + "ef" * 32))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unknown_subjects"
    assert error["details"][0]["code"] == "unknown_item"
    assert _outbox(client) == []


def test_resent_event_maps_to_its_first_record_and_conflicting_content_is_rejected(
    client: TestClient, carrier: SourceSecrets, items: list[bytes]
) -> None:
    record = event("evt-resent", item_id=hex32(items[4]))
    now = int(time.time())
    first = post_signed(client, carrier, record, timestamp=now).json()["accepted"][0]
    again = post_signed(client, carrier, record, timestamp=now - 1)
    assert again.status_code == 202
    assert again.json()["accepted"][0]["relay_id"] == first["relay_id"]
    assert again.json()["accepted"][0]["duplicate"] is True
    changed = post_signed(client, carrier, {**record, "action": "delivered"})
    assert changed.status_code == 422
    assert changed.json()["error"]["details"][0]["code"] == "event_id_conflict"
    assert len(_outbox(client)) == 1


# ------------------------------------------------------------------------------------- idempotency


def test_same_idempotency_key_and_body_returns_the_first_answer(
    client: TestClient, carrier: SourceSecrets, items: list[bytes]
) -> None:
    record = event("evt-idem", item_id=hex32(items[5]))
    now = int(time.time())
    first = post_signed(client, carrier, record, idempotency_key="key-1", timestamp=now)
    # A retry is signed anew (a signature is accepted once), here a second apart.
    second = post_signed(client, carrier, record, idempotency_key="key-1", timestamp=now - 1)
    assert first.status_code == second.status_code == 202
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(_outbox(client)) == 1
    assert _count(client, IdempotencyRecord) == 1


def test_same_idempotency_key_with_another_body_is_a_conflict(
    client: TestClient, carrier: SourceSecrets, items: list[bytes]
) -> None:
    post_signed(client, carrier, event("evt-a", item_id=hex32(items[6])), idempotency_key="key-2")
    other = post_signed(
        client, carrier, event("evt-b", item_id=hex32(items[6])), idempotency_key="key-2"
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert [row.source_event_id for row in _outbox(client)] == ["evt-a"]


def test_invalid_request_leaves_no_idempotency_record(
    client: TestClient, carrier: SourceSecrets
) -> None:
    bad = post_signed(client, carrier, {"event_id": "evt-bad"}, idempotency_key="key-3")
    assert bad.status_code == 422
    assert _count(client, IdempotencyRecord) == 0


# -------------------------------------------------------------------------------------- validation


def test_invalid_fields_are_answered_with_a_code_each(
    client: TestClient, carrier: SourceSecrets, items: list[bytes]
) -> None:
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    good = hex32(items[0])
    response = post_signed(
        client,
        carrier,
        [
            event("e0", item_id="0x1234"),
            event("e1", item_id=good, action="teleported"),
            event("e2", item_id=good, occurred_at=future),
            event("e3", item_id=good, occurred_at="2025-01-01T10:00:00"),
            event("e4", gtin="09506000134353", serial="A1"),
            event("e5"),
            event("e6", item_id=good, order_id="0x" + "11" * 32),
            event("e7", order_id="0x" + "11" * 32, action="in_transit"),
            event("e8", item_id=good, action="breach"),
            event("e9", order_id="0x" + "11" * 32, action="shipped", items=[0]),
            event("e10", item_id=good, unexpected="field"),
            event("e11", gtin=GTIN),
            event("e12", item_id=good),
            event("e12", item_id=good),
        ],
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"
    assert error_codes(response) == {
        "body.0.item_id": "invalid_hex32",
        "body.1.action": "enum",
        "body.2.occurred_at": "occurred_in_future",
        "body.3.occurred_at": "timezone_aware",
        "body.4.gtin": "invalid_gtin",
        "body.5": "subject_required",
        "body.6": "subject_ambiguous",
        "body.7.action": "action_not_allowed",
        "body.8.action": "action_not_allowed",
        "body.9.items": "items_not_allowed",
        "body.10.unexpected": "extra_forbidden",
        "body.11.serial": "missing",
        "body.13.event_id": "duplicate_event_id",
    }
    assert _outbox(client) == []


def test_single_event_errors_name_its_fields_directly(
    client: TestClient, carrier: SourceSecrets
) -> None:
    response = post_signed(client, carrier, {"action": "shipped"})
    assert response.status_code == 422
    assert error_codes(response) == {"body.event_id": "missing", "body.occurred_at": "missing"}


@pytest.mark.parametrize(
    ("raw", "code"),
    [(b"{not json", "invalid_json"), (b'"a string"', "invalid_body"), (b"[]", "validation_failed")],
)
def test_unparseable_bodies_are_refused(
    client: TestClient, carrier: SourceSecrets, raw: bytes, code: str
) -> None:
    response = post_signed(client, carrier, None, raw=raw)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


# ------------------------------------------------------------------------------------------ limits


def test_body_over_the_size_limit_is_refused(
    tuned: Any, carrier: SourceSecrets, items: list[bytes]
) -> None:
    client = tuned(max_body_bytes=2_000)
    events = [event(f"evt-big-{i}", item_id=hex32(items[0])) for i in range(20)]
    response = post_signed(client, carrier, events)
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "body_too_large",
        "message": "the body is over 2000 bytes",
        "details": {"limit_bytes": 2000},
    }
    assert _outbox(client) == []


def test_source_over_its_rate_limit_is_told_when_to_come_back(
    tuned: Any, settings: Settings, carrier: SourceSecrets, items: list[bytes]
) -> None:
    sources: dict[str, SourceCredentials] = dict(settings.sources)
    sources[carrier.name] = sources[carrier.name].model_copy(update={"requests_per_minute": 2})
    client = tuned(sources=sources)
    answers = [
        post_signed(client, carrier, event(f"evt-rate-{i}", item_id=hex32(items[7])))
        for i in range(3)
    ]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].json()["error"]["code"] == "rate_limited"
    # Two per minute: the next token comes 30 s after the bucket ran dry.
    assert 28 <= int(answers[2].headers["Retry-After"]) <= 30
    assert len(_outbox(client)) == 2


def test_unknown_relay_id_is_not_found(client: TestClient) -> None:
    response = client.get("/v1/relay/" + "0" * 32)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "relay_record_not_found"
