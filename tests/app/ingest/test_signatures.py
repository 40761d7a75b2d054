"""Who may post logistics events: the carrier's API key and a Stripe-style HMAC signature over the
timestamp and the raw body, within 300 s either way, each signature used once (and remembered as
used for as long as it could be accepted)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from structlog.testing import capture_logs

from app.db.migrate import upgrade_schema
from app.db.session import Database
from app.ingest.auth import (
    REPLAY_MARGIN_SECONDS,
    AuthRefused,
    remember_signature,
    verify_signature,
)
from app.ingest.models import SeenSignature
from tests.app.conftest import SourceSecrets
from tests.app.databases import ServiceDatabases
from tests.app.ingest.support import EVENTS_PATH, body_of, event, hex32, hmac_hex, post_signed

pytestmark = pytest.mark.anvil

TOLERANCE = 300


def _refusal(response: object) -> tuple[int, str]:
    status = response.status_code  # type: ignore[attr-defined]
    return status, response.json()["error"]["code"]  # type: ignore[attr-defined]


def test_signed_request_from_the_carrier_is_accepted(
    client: TestClient, carrier: SourceSecrets, items: list[bytes]
) -> None:
    response = post_signed(client, carrier, event(item_id=hex32(items[0])))
    assert response.status_code == 202, response.text
    assert len(response.json()["accepted"]) == 1


def test_signature_just_inside_the_tolerance_is_accepted(
    client: TestClient, carrier: SourceSecrets, items: list[bytes]
) -> None:
    old = int(time.time()) - TOLERANCE + 5
    response = post_signed(client, carrier, event(item_id=hex32(items[0])), timestamp=old)
    assert response.status_code == 202, response.text


def test_request_without_api_key_is_refused(client: TestClient, carrier: SourceSecrets) -> None:
    body = body_of(event(item_id="0x" + "11" * 32))
    t = int(time.time())
    response = client.post(
        EVENTS_PATH,
        content=body,
        headers={"TrustMall-Signature": f"t={t},v1={hmac_hex(carrier.hmac_secret, t, body)}"},
    )
    assert _refusal(response) == (401, "missing_api_key")


def test_request_with_a_wrong_api_key_is_refused(
    client: TestClient, carrier: SourceSecrets
) -> None:
    response = post_signed(client, carrier, event(), api_key=carrier.api_key + "x")
    assert _refusal(response) == (401, "invalid_api_key")


def test_bureau_key_cannot_post_logistics_events(client: TestClient, bureau: SourceSecrets) -> None:
    response = post_signed(client, bureau, event())
    assert _refusal(response) == (403, "source_not_allowed")


def test_request_without_signature_is_refused(client: TestClient, carrier: SourceSecrets) -> None:
    response = client.post(
        EVENTS_PATH, content=body_of(event()), headers={"TrustMall-Api-Key": carrier.api_key}
    )
    assert _refusal(response) == (401, "missing_signature")


@pytest.mark.parametrize("header", ["v1=abc", "t=12x,v1=ab", "t=1700000000", "garbage"])
def test_malformed_signature_header_is_refused(
    client: TestClient, carrier: SourceSecrets, header: str
) -> None:
    response = client.post(
        EVENTS_PATH,
        content=body_of(event()),
        headers={"TrustMall-Api-Key": carrier.api_key, "TrustMall-Signature": header},
    )
    assert _refusal(response) == (401, "malformed_signature")


def test_stale_signature_is_refused(client: TestClient, carrier: SourceSecrets) -> None:
    stale = int(time.time()) - TOLERANCE - 5
    response = post_signed(client, carrier, event(), timestamp=stale)
    assert _refusal(response) == (401, "signature_expired")


def test_signature_from_the_future_is_refused(client: TestClient, carrier: SourceSecrets) -> None:
    ahead = int(time.time()) + TOLERANCE + 5
    response = post_signed(client, carrier, event(), timestamp=ahead)
    assert _refusal(response) == (401, "signature_from_future")


def test_the_window_is_300_seconds_either_way_to_the_second() -> None:
    secret, body, now = "s3cr3t", b"[]", 1_800_000_000

    def at(timestamp: int) -> str:
        return f"t={timestamp},v1={hmac_hex(secret, timestamp, body)}"

    for inside in (now - TOLERANCE, now, now + TOLERANCE):
        assert verify_signature(secret, at(inside), body, now, TOLERANCE).timestamp == inside
    for outside, code in ((now - TOLERANCE - 1, "signature_expired"),
                          (now + TOLERANCE + 1, "signature_from_future")):  # fmt: skip
        with pytest.raises(AuthRefused) as refused:
            verify_signature(secret, at(outside), body, now, TOLERANCE)
        assert refused.value.code == code


def test_signature_with_another_secret_is_refused(
    client: TestClient, carrier: SourceSecrets
) -> None:
    response = post_signed(client, carrier, event(), secret="not-the-carrier-secret")
    assert _refusal(response) == (401, "invalid_signature")


def test_body_changed_after_signing_is_refused(
    client: TestClient, carrier: SourceSecrets, items: list[bytes]
) -> None:
    signed_body = body_of(event("evt-original", item_id=hex32(items[0])))
    t = int(time.time())
    signature = f"t={t},v1={hmac_hex(carrier.hmac_secret, t, signed_body)}"
    tampered = signed_body.replace(b"shipped", b"delivered")
    response = client.post(
        EVENTS_PATH,
        content=tampered,
        headers={"TrustMall-Api-Key": carrier.api_key, "TrustMall-Signature": signature},
    )
    assert _refusal(response) == (401, "invalid_signature")


def test_replayed_signature_is_refused(
    client: TestClient, carrier: SourceSecrets, items: list[bytes]
) -> None:
    body = body_of(event(item_id=hex32(items[1])))
    t = int(time.time())
    headers = {
        "TrustMall-Api-Key": carrier.api_key,
        "TrustMall-Signature": f"t={t},v1={hmac_hex(carrier.hmac_secret, t, body)}",
    }
    assert client.post(EVENTS_PATH, content=body, headers=headers).status_code == 202
    replay = client.post(EVENTS_PATH, content=body, headers=headers)
    assert _refusal(replay) == (401, "signature_replayed")


def test_one_of_several_signatures_may_match_during_secret_rotation(
    client: TestClient, carrier: SourceSecrets, items: list[bytes]
) -> None:
    body = body_of(event(item_id=hex32(items[2])))
    t = int(time.time())
    good = hmac_hex(carrier.hmac_secret, t, body)
    old = hmac_hex("the-previous-secret", t, body)
    response = client.post(
        EVENTS_PATH,
        content=body,
        headers={
            "TrustMall-Api-Key": carrier.api_key,
            "TrustMall-Signature": f"t={t},v1={old},v1={good}",
        },
    )
    assert response.status_code == 202, response.text


def test_refusals_are_logged_with_their_code_and_without_secrets(
    client: TestClient, carrier: SourceSecrets
) -> None:
    forged_secret = "forged-" + carrier.hmac_secret
    with capture_logs() as logs:
        post_signed(client, carrier, event(), secret=forged_secret)
        post_signed(client, carrier, event(), api_key="wrong-" + carrier.api_key)
    refusals = [entry for entry in logs if entry["event"] == "ingest_auth_refused"]
    assert [entry["code"] for entry in refusals] == ["invalid_signature", "invalid_api_key"]
    assert refusals[0]["source"] == carrier.name
    logged = repr(logs)
    for secret in (carrier.api_key, carrier.hmac_secret, forged_secret):
        assert secret not in logged


def test_non_ascii_signature_is_refused_as_malformed_not_a_server_error(
    client: TestClient, carrier: SourceSecrets, items: list[bytes]
) -> None:
    """Headers arrive as Latin-1 text: a non-ASCII ``v1=`` once reached the constant-time
    comparison, which raises on non-ASCII text, and the request got a 500."""
    body = body_of(event(item_id=hex32(items[3])))
    t = int(time.time())
    forged = "\u00e9" + hmac_hex(carrier.hmac_secret, t, body)[1:]
    response = client.post(
        EVENTS_PATH,
        content=body,
        headers={
            "TrustMall-Api-Key": carrier.api_key,
            "TrustMall-Signature": f"t={t},v1={forged}".encode("latin-1"),
        },
    )
    assert _refusal(response) == (401, "malformed_signature")


def test_a_signature_is_remembered_for_as_long_as_it_could_be_accepted(
    databases: ServiceDatabases, tmp_path: Path
) -> None:
    """A signature timestamped at the far edge of the future window is accepted up to twice
    the tolerance after it was first seen; it must still be known as used in its last second
    (the cache once forgot it 2 x tolerance after it was seen, a second too early), and be
    forgotten once it can no longer be accepted."""
    database = Database(databases.url(tmp_path, "replay"))
    upgrade_schema(database.engine)
    secret, body = "carrier-secret", b'{"event_id": "e"}'
    first_seen = 1_700_000_000
    t = first_seen + TOLERANCE

    def header(timestamp: int, payload: bytes = body) -> str:
        return f"t={timestamp},v1={hmac_hex(secret, timestamp, payload)}"

    used = verify_signature(secret, header(t), body, first_seen, TOLERANCE)
    remember_signature(database, "acme", used, first_seen, TOLERANCE)

    last_second = first_seen + 2 * TOLERANCE + 0.5
    replay = verify_signature(secret, header(t), body, int(last_second), TOLERANCE)
    now = int(last_second)
    fresh = verify_signature(secret, header(now, b"{}"), b"{}", now, TOLERANCE)
    remember_signature(database, "acme", fresh, last_second, TOLERANCE)  # purges what it may
    with pytest.raises(AuthRefused) as refused:
        remember_signature(database, "acme", replay, last_second, TOLERANCE)
    assert refused.value.code == "signature_replayed"

    with pytest.raises(AuthRefused, match="older than"):
        verify_signature(secret, header(t), body, int(last_second) + 1, TOLERANCE)
    much_later = t + TOLERANCE + REPLAY_MARGIN_SECONDS + 1
    newest = verify_signature(secret, header(much_later, b"[]"), b"[]", much_later, TOLERANCE)
    remember_signature(database, "acme", newest, much_later, TOLERANCE)
    with database.sessions() as session:
        kept = set(session.scalars(select(SeenSignature.timestamp)))
    assert kept == {int(last_second), much_later}
    database.dispose()
