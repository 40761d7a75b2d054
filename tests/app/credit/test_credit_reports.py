"""Bureaus' credit reports: encrypted at rest, attested with sequential nonces, the attestation
accepted on chain, and every refusal (carrier key, another bureau, reused idempotency key, no
credit contracts)."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr
from sqlalchemy import func, select
from web3 import Web3

from app.chain.contracts import load_abi
from app.credit.models import CreditReportRecord
from app.domain.attestations import (
    Domain,
    SignedAttestation,
    band_for_score,
    digest,
    recover,
    report_commitment,
)
from app.ingest.auth import signature_header
from app.main import create_app
from app.outbox.relayer import Relayer
from app.settings import Settings, SourceCredentials, SourceKind
from tests.app.conftest import ATTESTER_KEY, Deployment, SourceSecrets
from tests.app.credit.conftest import database_file
from tests.app.ingest.support import Chain, ServiceHandle, relay_until_settled
from tests.support.ape_run import BUYER, TEST_PRIVATE_KEYS

pytestmark = pytest.mark.anvil

REPORTS_PATH = "/v1/credit/reports"
BORROWER_KEY = TEST_PRIVATE_KEYS[5]
# Each report differs (a bureau's own reference), so no two requests share a signature.
_references = itertools.count(1)


def report_body(score: int = 760, borrower: str = BUYER, **extra: Any) -> dict[str, Any]:
    return {
        "borrower": borrower,
        "score": score,
        "model": "trustmall-score-v3",
        "report": {
            "name": "Zelda Quintrell-Hargreave",
            "income": 987654321,
            "reference": next(_references),
        },
        **extra,
    }


def signed_request(
    client: TestClient,
    source: SourceSecrets,
    method: str,
    path: str,
    body: bytes = b"",
    idempotency_key: str | None = None,
    timestamp: int | None = None,
) -> Response:
    headers = {
        "Content-Type": "application/json",
        "TrustMall-Api-Key": source.api_key,
        "TrustMall-Signature": signature_header(source.hmac_secret, body, timestamp),
    }
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    response: Response = client.request(method, path, content=body, headers=headers)
    return response


def post_report(
    client: TestClient,
    source: SourceSecrets,
    body: dict[str, Any],
    idempotency_key: str | None = None,
    timestamp: int | None = None,
) -> Response:
    raw = json.dumps(body).encode()
    return signed_request(client, source, "POST", REPORTS_PATH, raw, idempotency_key, timestamp)


def _contract(w3: Web3, deployment: Deployment, name: str) -> Any:
    return w3.eth.contract(
        address=Web3.to_checksum_address(deployment.addresses[name]),
        abi=load_abi(deployment.abi_dir, name),
    )


def _count_reports(client: TestClient) -> int:
    database = client.app.state.services.database  # type: ignore[attr-defined]
    with database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(CreditReportRecord)) or 0)


# ---------------------------------------------------------------------------------------- accepted


def test_attestation_signed_by_the_service_is_approved_on_chain(
    credit_client: TestClient,
    bureau_secrets: SourceSecrets,
    credit_deployment: Deployment,
    w3: Web3,
) -> None:
    response = post_report(credit_client, bureau_secrets, report_body(score=760))
    assert response.status_code == 201, response.text
    signed = SignedAttestation.model_validate(response.json()["signed_attestation"])
    verifier = _contract(w3, credit_deployment, "AttestationVerifier")
    assert signed.domain == Domain(
        chain_id=1337, verifying_contract=credit_deployment.addresses["AttestationVerifier"]
    )
    assert signed.signers == [Account.from_key(ATTESTER_KEY).address]
    attestation, signatures = signed.abi_args()
    on_chain_digest = verifier.functions.verify(attestation, signatures).call()
    assert bytes(on_chain_digest) == digest(signed.attestation, signed.domain)
    assert signed.attestation.attester_set_version == verifier.functions.attesterSetVersion().call()

    lines = _contract(w3, credit_deployment, "CreditLines")
    borrower = Account.from_key(BORROWER_KEY)
    tx = lines.functions.applyForCredit(attestation, signatures).build_transaction(
        {"from": borrower.address, "nonce": w3.eth.get_transaction_count(borrower.address)}
    )
    sent = w3.eth.send_raw_transaction(borrower.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(sent, timeout=30)
    assert receipt["status"] == 1
    (approved,) = lines.events.CreditApproved().process_receipt(receipt)
    assert approved["args"]["borrower"] == BUYER
    assert approved["args"]["attestation"]["band"] == 3
    assert verifier.functions.isNonceUsed(signed.attestation.nonce).call()


def test_report_is_stored_encrypted_and_read_back_by_its_bureau(
    credit_client: TestClient, credit_settings: Settings, bureau_secrets: SourceSecrets
) -> None:
    body = report_body()
    posted = post_report(credit_client, bureau_secrets, body)
    assert posted.status_code == 201, posted.text
    answer = posted.json()
    # Neither the raw score nor the report is in the answer (it is kept for idempotent replays).
    assert "score" not in answer and "report" not in answer
    credit_client.app.state.services.database.dispose()  # type: ignore[attr-defined]
    main = database_file(credit_settings)
    # The database file and its journal (WAL) if any: nothing of the report in the clear.
    stored = b"".join(p.read_bytes() for p in main.parent.glob(main.name + "*"))
    assert main.stat().st_size > 0
    for secret in (b"Zelda", b"Quintrell", b"987654321"):
        assert secret not in stored

    read = signed_request(credit_client, bureau_secrets, "GET", f"{REPORTS_PATH}/{answer['id']}")
    assert read.status_code == 200, read.text
    report = read.json()
    assert report["report"] == body["report"]
    assert report["id"] == answer["id"]
    assert report["score"] == 760
    assert report["model"] == "trustmall-score-v3"
    assert report["signed_attestation"] == answer["signed_attestation"]


def test_report_commitment_is_salted_hash_of_canonical_report(
    credit_client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    body = report_body()
    now = int(time.time())
    answer = post_report(credit_client, bureau_secrets, body, timestamp=now).json()
    signed = SignedAttestation.model_validate(answer["signed_attestation"])
    # The commitment is salted: the unsalted hash of the report does not match it.
    assert (
        signed.attestation.report_hash != "0x" + report_commitment(body["report"], bytes(32)).hex()
    )
    # The same report again (signed at another second, so not a replay) gets a fresh salt.
    second = post_report(credit_client, bureau_secrets, body, timestamp=now - 1).json()
    assert (
        second["signed_attestation"]["attestation"]["report_hash"]
        != (answer["signed_attestation"]["attestation"]["report_hash"])
    )


@pytest.mark.parametrize(
    ("score", "band"), [(300, 0), (579, 0), (580, 1), (669, 1), (670, 2), (739, 2), (740, 3)]
)
def test_band_is_the_score_band_and_the_score_stays_private(
    credit_client: TestClient, bureau_secrets: SourceSecrets, score: int, band: int
) -> None:
    response = post_report(credit_client, bureau_secrets, report_body(score=score))
    assert response.status_code == 201, response.text
    assert response.json()["band"] == band == band_for_score(score)
    assert response.json()["signed_attestation"]["attestation"]["band"] == band
    # The attestation has no field for the score: only the band leaves the service.
    assert set(response.json()["signed_attestation"]["attestation"]) == {
        "borrower",
        "band",
        "model_id",
        "report_hash",
        "issued_at",
        "expires_at",
        "nonce",
        "attester_set_version",
    }
    assert "score" not in response.json()


def test_nonces_are_allocated_in_sequence(
    credit_client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    nonces = []
    for _ in range(4):
        response = post_report(credit_client, bureau_secrets, report_body())
        assert response.status_code == 201, response.text
        nonces.append(int(response.json()["signed_attestation"]["attestation"]["nonce"]))
    assert nonces == list(range(nonces[0], nonces[0] + 4))


def test_a_service_on_a_fresh_database_skips_nonces_the_chain_shows_spent(
    credit_client: TestClient,
    credit_settings: Settings,
    bureau_secrets: SourceSecrets,
    credit_deployment: Deployment,
    tmp_path: Path,
) -> None:
    first = post_report(credit_client, bureau_secrets, report_body(760, Account.create().address))
    spent = int(first.json()["signed_attestation"]["attestation"]["nonce"])
    _relay(credit_client, credit_deployment)
    fresh = credit_settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'b.db'}"})
    with TestClient(create_app(fresh)) as other:
        again = post_report(other, bureau_secrets, report_body(760, Account.create().address))
    assert again.status_code == 201, again.text
    assert int(again.json()["signed_attestation"]["attestation"]["nonce"]) > spent


def test_signature_recovers_to_the_attester(
    credit_client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    answer = post_report(credit_client, bureau_secrets, report_body(issued_at=int(time.time())))
    signed = SignedAttestation.model_validate(answer.json()["signed_attestation"])
    (signature,) = signed.signatures
    assert recover(signed.attestation, signed.domain, signature) == (
        Account.from_key(ATTESTER_KEY).address
    )
    assert signed.attestation.expires_at - signed.attestation.issued_at == 7 * 24 * 3600


# ---------------------------------------------------------------------------------------- refused


def test_post_refuses_a_carrier_key_with_403(
    credit_client: TestClient, carrier_secrets: SourceSecrets
) -> None:
    response = post_report(credit_client, carrier_secrets, report_body())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "source_not_allowed"
    assert _count_reports(credit_client) == 0


def test_post_refuses_a_forged_signature_with_401(
    credit_client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    forged = SourceSecrets(bureau_secrets.name, bureau_secrets.api_key, "not-the-secret")
    response = post_report(credit_client, forged, report_body())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"


def test_post_refuses_an_off_scale_score_with_422(
    credit_client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    response = post_report(credit_client, bureau_secrets, report_body(score=900))
    assert response.status_code == 422
    (detail,) = response.json()["error"]["details"]
    assert detail["field"] == "body.score"
    assert detail["code"] == "less_than_equal"


def test_another_bureau_cannot_read_a_report(
    credit_settings: Settings, bureau_secrets: SourceSecrets
) -> None:
    rival = SourceSecrets("south-bureau", "south-api-key-0123456789", "south-secret-0123456789")
    sources = {
        **credit_settings.sources,
        rival.name: SourceCredentials(
            kind=SourceKind.BUREAU,
            api_key=SecretStr(rival.api_key),
            hmac_secret=SecretStr(rival.hmac_secret),
        ),
    }
    with TestClient(create_app(credit_settings.model_copy(update={"sources": sources}))) as client:
        report_id = post_report(client, bureau_secrets, report_body()).json()["id"]
        path = f"{REPORTS_PATH}/{report_id}"
        refused = signed_request(client, rival, "GET", path)
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "credit_report_not_found"
        assert "Zelda" not in refused.text
        assert signed_request(client, bureau_secrets, "GET", path).status_code == 200


def test_get_refuses_a_carrier_key_with_403(
    credit_client: TestClient, bureau_secrets: SourceSecrets, carrier_secrets: SourceSecrets
) -> None:
    report_id = post_report(credit_client, bureau_secrets, report_body()).json()["id"]
    response = signed_request(credit_client, carrier_secrets, "GET", f"{REPORTS_PATH}/{report_id}")
    assert response.status_code == 403
    assert "Zelda" not in response.text


def test_same_idempotency_key_and_body_replays_the_first_answer(
    credit_client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    body = report_body()
    now = int(time.time())
    # A retry is signed anew, at another second than the first (a signature is accepted once).
    first = post_report(
        credit_client, bureau_secrets, body, idempotency_key="report-1", timestamp=now
    )
    again = post_report(
        credit_client,
        bureau_secrets,
        body,
        idempotency_key="report-1",
        timestamp=now - 1,
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count_reports(credit_client) == 1


def test_same_idempotency_key_with_another_body_is_409(
    credit_client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    post_report(credit_client, bureau_secrets, report_body(), idempotency_key="report-2")
    other = post_report(
        credit_client, bureau_secrets, report_body(score=600), idempotency_key="report-2"
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert _count_reports(credit_client) == 1


def test_post_answers_409_when_the_deployment_has_no_credit_part(
    client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    response = post_report(client, bureau_secrets, report_body())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "credit_not_deployed"
    assert _count_reports(client) == 0


# ---------------------------------------------------------------------------------------- policy


def _publish_policy(w3: Web3, lines: Any, tiers: list[tuple[int, int, int, int, int]]) -> None:
    admin = Account.from_key(TEST_PRIVATE_KEYS[0])
    version = lines.functions.currentPolicyVersion().call()
    rules = lines.functions.policyRules(version).call()
    tx = lines.functions.publishPolicy(rules, tiers).build_transaction(
        {"from": admin.address, "nonce": w3.eth.get_transaction_count(admin.address)}
    )
    sent = w3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(sent, timeout=30)["status"] == 1


def test_band_is_capped_at_the_active_policys_top_tier(
    credit_client: TestClient,
    bureau_secrets: SourceSecrets,
    credit_deployment: Deployment,
    w3: Web3,
) -> None:
    lines = _contract(w3, credit_deployment, "CreditLines")
    version = lines.functions.currentPolicyVersion().call()
    default_tiers = [tuple(lines.functions.policyTier(version, b).call()) for b in range(4)]
    _publish_policy(w3, lines, default_tiers[:2])
    try:
        response = post_report(credit_client, bureau_secrets, report_body(score=800))
        assert response.status_code == 201, response.text
        assert response.json()["band"] == 1 == band_for_score(800, tiers=2)
    finally:
        _publish_policy(w3, lines, default_tiers)
    restored = post_report(credit_client, bureau_secrets, report_body(score=800))
    assert restored.json()["band"] == 3


# ---------------------------------------------------------------------------------------- relay


def _relay(credit_client: TestClient, credit_deployment: Deployment) -> ServiceHandle:
    handle = ServiceHandle(credit_client)
    relay_until_settled(
        Relayer.from_services(handle.services),
        handle,
        Chain.of(credit_deployment.rpc_url, credit_deployment),
    )
    return handle


def _decisions(w3: Web3, lines: Any, borrower: str, nonce: int) -> list[Any]:
    found = [
        entry
        for event in (lines.events.CreditApproved, lines.events.CreditDenied)
        for entry in event().get_logs(argument_filters={"borrower": borrower}, from_block=0)
        if entry["args"]["attestation"]["nonce"] == nonce
    ]
    return found


def test_the_service_relays_the_application_and_the_policy_decides_on_chain(
    credit_client: TestClient,
    bureau_secrets: SourceSecrets,
    credit_deployment: Deployment,
    w3: Web3,
) -> None:
    borrower = Account.create().address  # never signs anything: the service submits for it
    response = post_report(credit_client, bureau_secrets, report_body(760, borrower))
    assert response.status_code == 201, response.text
    answer = response.json()
    nonce = int(answer["signed_attestation"]["attestation"]["nonce"])
    assert credit_client.get(f"/v1/relay/{answer['relay_id']}").json()["status"] == "queued"

    _relay(credit_client, credit_deployment)

    relay = credit_client.get(f"/v1/relay/{answer['relay_id']}").json()
    assert (relay["status"], relay["kind"], relay["subject"]) == (
        "confirmed",
        "credit_application",
        borrower,
    )
    lines = _contract(w3, credit_deployment, "CreditLines")
    (decision,) = _decisions(w3, lines, borrower, nonce)
    assert decision["event"] == "CreditApproved"
    assert decision["transactionHash"].to_0x_hex() == relay["tx_hash"]
    assert decision["args"]["attestation"]["band"] == answer["band"] == 3
    fetched = signed_request(
        credit_client, bureau_secrets, "GET", f"{REPORTS_PATH}/{answer['id']}"
    ).json()
    assert fetched["relay_id"] == answer["relay_id"]


def test_an_application_the_borrower_submitted_first_is_confirmed_from_its_transaction(
    credit_client: TestClient,
    bureau_secrets: SourceSecrets,
    credit_deployment: Deployment,
    w3: Web3,
) -> None:
    borrower = Account.from_key(BORROWER_KEY)
    answer = post_report(credit_client, bureau_secrets, report_body(700)).json()
    signed = SignedAttestation.model_validate(answer["signed_attestation"])
    lines = _contract(w3, credit_deployment, "CreditLines")
    tx = lines.functions.applyForCredit(*signed.abi_args()).build_transaction(
        {"from": borrower.address, "nonce": w3.eth.get_transaction_count(borrower.address)}
    )
    own = w3.eth.send_raw_transaction(borrower.sign_transaction(tx).raw_transaction)
    w3.eth.wait_for_transaction_receipt(own, timeout=30)

    _relay(credit_client, credit_deployment)

    relay = credit_client.get(f"/v1/relay/{answer['relay_id']}").json()
    assert relay["status"] == "confirmed"
    assert relay["tx_hash"] == own.to_0x_hex()
    assert len(_decisions(w3, lines, BUYER, signed.attestation.nonce)) == 1


def test_an_expired_attestation_fails_its_relay_with_the_contracts_reason(
    credit_client: TestClient,
    bureau_secrets: SourceSecrets,
    credit_deployment: Deployment,
    w3: Web3,
) -> None:
    chain_now = int(w3.eth.get_block("latest")["timestamp"])
    body = report_body(760, Account.create().address, issued_at=chain_now - 600, expires_in=60)
    answer = post_report(credit_client, bureau_secrets, body).json()

    _relay(credit_client, credit_deployment)

    relay = credit_client.get(f"/v1/relay/{answer['relay_id']}").json()
    assert relay["status"] == "failed"
    assert "AttestationExpired" in relay["failure_reason"]
