"""Sign-In with Ethereum for merchants, on the session's Anvil: a message signed with the
merchant's own key opens a session; every other message is refused with its code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.main import create_app
from app.merchant.models import MerchantSessionRow, SiweNonceRow
from app.settings import Settings
from harness.nodes import free_port
from tests.app.databases import stored_bytes
from tests.app.index.actors import Shop, SuiteDriver
from tests.app.index.records import Actor
from tests.app.merchant.support import (
    nonce,
    personal_sign,
    sign_in,
    siwe_text,
    try_sign_in,
)

HOOKS = "/v1/merchant/webhooks"


def test_a_merchant_signs_in_with_its_own_key_and_its_session_opens_the_merchant_api(
    shop: Shop, merchant: Actor
) -> None:
    issued = shop.client.get("/v1/merchant/siwe/nonce").json()
    assert issued["domain"] == "127.0.0.1:8000"
    assert issued["uri"] == "http://127.0.0.1:8000"
    assert issued["chain_id"] == 1337
    answer = try_sign_in(shop.client, merchant, siwe_text(merchant.address, issued["nonce"]))
    assert answer.status_code == 201, answer.text
    session = answer.json()
    assert session["merchant"] == merchant.address
    assert session["token"].startswith("tms_")
    headers = {"Authorization": f"Bearer {session['token']}"}
    assert shop.client.get(HOOKS, headers=headers).json() == {"endpoints": []}


def test_the_session_ends_with_the_message_expiration_time(shop: Shop, merchant: Actor) -> None:
    text = siwe_text(merchant.address, nonce(shop.client), expires_in=timedelta(minutes=5))
    expires = datetime.fromisoformat(try_sign_in(shop.client, merchant, text).json()["expires_at"])
    issued = datetime.now(UTC)
    assert timedelta(minutes=4) < expires - issued <= timedelta(minutes=5)


def test_a_nonce_signs_in_once(shop: Shop, merchant: Actor) -> None:
    text = siwe_text(merchant.address, nonce(shop.client))
    assert try_sign_in(shop.client, merchant, text).status_code == 201
    replayed = try_sign_in(shop.client, merchant, text)
    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "siwe_nonce_unknown"


def test_a_nonce_this_service_never_issued_is_refused(shop: Shop, merchant: Actor) -> None:
    answer = try_sign_in(shop.client, merchant, siwe_text(merchant.address, "madeup12345"))
    assert answer.json()["error"]["code"] == "siwe_nonce_unknown"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"chain_id": 1}, "siwe_wrong_chain"),
        ({"domain": "evil.example"}, "siwe_domain_mismatch"),
        ({"uri": "https://evil.example/login"}, "siwe_uri_mismatch"),
        ({"expires_in": None}, "siwe_expiration_required"),
        (
            {"issued_at": datetime.now(UTC) - timedelta(hours=2), "expires_in": timedelta(hours=1)},
            "siwe_expired",
        ),
        ({"issued_at": datetime.now(UTC) + timedelta(hours=1)}, "siwe_not_yet_valid"),
    ],
)
def test_a_message_for_another_chain_site_or_time_is_refused_with_its_code(
    shop: Shop, merchant: Actor, overrides: dict[str, object], code: str
) -> None:
    text = siwe_text(merchant.address, nonce(shop.client), **overrides)  # type: ignore[arg-type]
    answer = try_sign_in(shop.client, merchant, text)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == code


def test_a_message_signed_by_another_key_is_refused(
    shop: Shop, merchant: Actor, suite: SuiteDriver
) -> None:
    thief = suite.new_account()
    text = siwe_text(merchant.address, nonce(shop.client))
    body = {"message": text, "signature": personal_sign(thief, text)}
    answer = shop.client.post("/v1/merchant/siwe/session", json=body)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "siwe_signature_invalid"


def test_an_account_that_is_no_merchant_is_refused(shop: Shop, shopper: Actor) -> None:
    answer = try_sign_in(shop.client, shopper)
    assert answer.status_code == 403
    assert answer.json()["error"] == {
        "code": "not_an_active_merchant",
        "message": f"{shopper.address} is not an active merchant on the registry",
        "details": {"status": "none"},
    }


def test_a_suspended_merchant_is_refused_and_signs_in_again_once_reinstated(
    shop: Shop, merchant: Actor, suite: SuiteDriver
) -> None:
    suite.suspend(merchant)
    answer = try_sign_in(shop.client, merchant)
    assert answer.status_code == 403
    assert answer.json()["error"]["details"] == {"status": "suspended"}
    suite.reinstate(merchant)
    assert try_sign_in(shop.client, merchant).status_code == 201


def test_a_merchant_s_sessions_end_when_the_index_sees_it_suspended(
    shop: Shop, merchant: Actor, suite: SuiteDriver
) -> None:
    headers = sign_in(shop.client, merchant)
    assert shop.client.get(HOOKS, headers=headers).status_code == 200
    suite.suspend(merchant)
    shop.index()
    try:
        answer = shop.client.get(HOOKS, headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "session_invalid"
    finally:
        suite.reinstate(merchant)


def test_a_message_that_is_not_eip_4361_is_refused_as_invalid(shop: Shop, merchant: Actor) -> None:
    text = "Sign in please\n" + merchant.address
    answer = try_sign_in(shop.client, merchant, text)
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "siwe_message_invalid"


def test_the_merchant_api_needs_a_live_session(shop: Shop, merchant: Actor) -> None:
    missing = shop.client.get(HOOKS)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "session_required"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    forged = shop.client.get(HOOKS, headers={"Authorization": "Bearer tms_forged"})
    assert forged.json()["error"]["code"] == "session_invalid"
    headers = sign_in(shop.client, merchant)
    assert shop.client.delete("/v1/merchant/siwe/session", headers=headers).status_code == 204
    signed_out = shop.client.get(HOOKS, headers=headers)
    assert signed_out.json()["error"]["code"] == "session_invalid"


@pytest.mark.both_databases
def test_only_the_token_s_hash_is_stored(shop: Shop, merchant: Actor) -> None:
    token = sign_in(shop.client, merchant)["Authorization"].removeprefix("Bearer ")
    shop.app.state.services.database.dispose()
    assert token.encode() not in stored_bytes(shop.app.state.services.settings.database_url)


def test_without_a_node_signing_in_answers_503_chain_unavailable(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"rpc_url": f"http://127.0.0.1:{free_port()}"}))
    with TestClient(app) as client:
        answer = client.get("/v1/merchant/siwe/nonce")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "chain_unavailable"


def test_nonces_past_the_limit_of_one_address_are_refused_with_retry_after_and_kept_nowhere(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"siwe_nonces_per_minute": 2}))
    with TestClient(app) as client:
        answers = [client.get("/v1/merchant/siwe/nonce") for _ in range(3)]
        with app.state.services.database.sessions() as session:
            kept = session.scalar(select(func.count()).select_from(SiweNonceRow))
    assert [answer.status_code for answer in answers] == [200, 200, 429], answers[-1].text
    assert answers[2].json()["error"]["code"] == "rate_limited"
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert kept == 2


def test_asking_for_a_nonce_clears_sessions_that_have_ended(shop: Shop, merchant: Actor) -> None:
    ended = MerchantSessionRow(
        token_hash="0" * 64, merchant=merchant.address, issued_at=1.0, expires_at=2.0
    )
    database = shop.app.state.services.database
    with database.transaction() as session:
        session.add(ended)

    assert shop.client.get("/v1/merchant/siwe/nonce").status_code == 200

    with database.sessions() as session:
        assert session.get(MerchantSessionRow, "0" * 64) is None
