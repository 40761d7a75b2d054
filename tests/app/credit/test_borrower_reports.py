"""A borrower signs in with the wallet (EIP-4361, the merchants' rules) and reads the own report:
decrypted, with who attested it and whether it matches the chain's commitment. Nobody else does:
another wallet's session is refused 403, no session 401, a replayed or expired message is refused,
a merchant's session is no borrower's, and the page shows the report to its borrower alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eth_account import Account

from app.domain.attestations import report_commitment
from tests.app.conftest import ATTESTER_KEY, BUREAU
from tests.app.credit.line_story import MODEL, REPORT, SCORE, STORY_GROUP, Story
from tests.app.index.records import Actor
from tests.app.merchant.support import personal_sign, siwe_text
from tests.app.merchant.support import sign_in as merchant_sign_in

pytestmark = [pytest.mark.anvil, STORY_GROUP]

SESSION = "/v1/credit/siwe/session"


def _nonce(story: Story) -> str:
    answer = story.get("/v1/credit/siwe/nonce")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["nonce"])


def _sign_in(story: Story, actor: Actor, text: str | None = None) -> Any:
    text = text or siwe_text(actor.address, _nonce(story), uri="http://127.0.0.1:8000/credit")
    return story.client.post(
        SESSION, json={"message": text, "signature": personal_sign(actor, text)}
    )


def _bearer(story: Story, actor: Actor) -> dict[str, str]:
    answer = _sign_in(story, actor)
    assert answer.status_code == 201, answer.text
    assert answer.json()["borrower"] == actor.address
    assert answer.json()["token"].startswith("tmb_")
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _report_path(story: Story, actor: Actor) -> str:
    return f"/v1/credit/lines/{actor.address}/report"


def test_the_borrower_reads_the_own_report_and_who_attested_it(story: Story) -> None:
    answer = story.get(_report_path(story, story.approved), headers=_bearer(story, story.approved))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["score"], report["report"], report["model"]) == (SCORE, REPORT, MODEL)
    assert report["bureau"] == BUREAU and report["report_id"] == story.approved_report["id"]
    assert report["attesters"] == [
        {"address": Account.from_key(ATTESTER_KEY).address, "by_service": True}
    ]
    assert report["verifier"] == story.credit.verifier.address
    salt = bytes.fromhex(report["salt"][2:])
    commitment = "0x" + report_commitment(REPORT, salt).hex()
    assert report["commitment_holds"] is True
    assert (
        commitment
        == report["report_hash"]
        == story.approved_report["signed_attestation"]["attestation"]["report_hash"]
    )


def test_another_wallets_session_is_refused_403_and_no_session_401(story: Story) -> None:
    path = _report_path(story, story.approved)
    other = story.get(path, headers=_bearer(story, story.denied))
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "not_your_report"
    assert "Quintrell" not in other.text
    none = story.get(path)
    assert none.status_code == 401 and none.json()["error"]["code"] == "session_required"
    forged = story.get(path, headers={"Authorization": "Bearer tmb_madeup"})
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "session_invalid"


def test_a_merchants_session_is_no_borrowers(story: Story) -> None:
    headers = merchant_sign_in(story.client, story.merchant)
    answer = story.get(_report_path(story, story.merchant), headers=headers)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "session_invalid"


def test_a_replayed_or_expired_message_opens_no_session(story: Story) -> None:
    text = siwe_text(story.approved.address, _nonce(story))
    assert _sign_in(story, story.approved, text).status_code == 201
    replayed = _sign_in(story, story.approved, text)
    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "siwe_nonce_unknown"
    expired = siwe_text(
        story.approved.address,
        _nonce(story),
        issued_at=datetime.now(UTC) - timedelta(hours=2),
        expires_in=timedelta(hours=1),
    )
    answer = _sign_in(story, story.approved, expired)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "siwe_expired"
    # A message signed by another key than the one it names.
    forged = siwe_text(story.approved.address, _nonce(story))
    body = {"message": forged, "signature": personal_sign(story.denied, forged)}
    refused = story.client.post(SESSION, json=body)
    assert refused.json()["error"]["code"] == "siwe_signature_invalid"


def test_a_signed_out_session_reads_nothing(story: Story) -> None:
    headers = _bearer(story, story.approved)
    assert story.client.delete(SESSION, headers=headers).status_code == 204
    answer = story.get(_report_path(story, story.approved), headers=headers)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "session_invalid"


def test_the_page_shows_the_report_to_its_borrower_alone(story: Story) -> None:
    page = f"/credit/{story.approved.address}"
    escaped_name = "&lt;script&gt;alert(&#x27;Zelda&#x27;)&lt;/script&gt; Quintrell"
    own = story.get(page, headers=_bearer(story, story.approved))
    assert own.status_code == 200 and escaped_name in own.text
    assert REPORT["name"] not in own.text and "<script" not in own.text
    assert f"<dd>{SCORE}</dd>" in own.text
    assert own.headers["cache-control"] == "private, no-cache"
    for headers in ({}, _bearer(story, story.denied), {"Authorization": "Bearer tmb_madeup"}):
        public = story.get(page, headers=headers)
        assert public.status_code == 200
        assert "Quintrell" not in public.text and f"<dd>{SCORE}</dd>" not in public.text
        assert "Sign-In with Ethereum" in public.text


def test_a_borrower_whose_report_this_service_does_not_hold_is_told_so(story: Story) -> None:
    stranger = story.credit.driver.new_account()
    headers = _bearer(story, stranger)
    answer = story.get(_report_path(story, stranger), headers=headers)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "credit_line_not_found"
