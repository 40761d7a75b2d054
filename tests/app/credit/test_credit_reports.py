"""Bureaus' credit reports: encrypted at rest, attested with sequential nonces, the attestation
accepted on chain, and every refusal (carrier key, another bureau, reused idempotency key, no
credit contracts)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from pydantic import SecretStr
from web3 import Web3

from app.domain.attestations import (
    Domain,
    SignedAttestation,
    band_for_score,
    digest,
    recover,
    report_commitment,
)
from app.domain.identity import identity_commitment
from app.main import create_app
from app.settings import Settings, SourceCredentials, SourceKind
from harness.ape_run import BUYER
from tests.app.conftest import ATTESTER_KEY, Deployment, SourceSecrets
from tests.app.credit.support import (
    BORROWER_KEY,
    REPORTS_PATH,
    contract,
    count_reports,
    identity_of,
    post_report,
    relay_all,
    report_body,
    signed_request,
)
from tests.app.databases import ServiceDatabases, stored_bytes

pytestmark = pytest.mark.anvil

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
    verifier = contract(w3, credit_deployment, "AttestationVerifier")
    assert signed.domain == Domain(
        chain_id=1337, verifying_contract=credit_deployment.addresses["AttestationVerifier"]
    )
    assert signed.signers == [Account.from_key(ATTESTER_KEY).address]
    attestation, signatures = signed.abi_args()
    on_chain_digest = verifier.functions.verify(attestation, signatures).call()
    assert bytes(on_chain_digest) == digest(signed.attestation, signed.domain)
    assert signed.attestation.attester_set_version == verifier.functions.attesterSetVersion().call()

    lines = contract(w3, credit_deployment, "CreditLines")
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


@pytest.mark.both_databases
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
    stored = stored_bytes(credit_settings.database_url)
    assert answer["id"].encode() in stored  # the rows were read: the report's id is plain
    for secret in (b"Zelda", b"Quintrell", b"987654321", body["identity"].encode()):
        assert secret not in stored

    read = signed_request(credit_client, bureau_secrets, "GET", f"{REPORTS_PATH}/{answer['id']}")
    assert read.status_code == 200, read.text
    report = read.json()
    assert report["report"] == body["report"]
    assert report["id"] == answer["id"]
    assert report["score"] == 760
    assert report["identity"] == body["identity"]
    assert report["model"] == "trustmall-score-v3"
    assert (report["status"], report["quorum"]) == ("queued", 1)
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
        "identity_hash",
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
    databases: ServiceDatabases,
    tmp_path: Path,
) -> None:
    first = post_report(credit_client, bureau_secrets, report_body(760, Account.create().address))
    spent = int(first.json()["signed_attestation"]["attestation"]["nonce"])
    relay_all(credit_client, credit_deployment)
    fresh = credit_settings.model_copy(
        update={"database_url": databases.url(tmp_path, "other_service")}
    )
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


def test_attestation_carries_the_identity_commitment_under_the_platform_key(
    credit_client: TestClient, bureau_secrets: SourceSecrets, identity_key: bytes
) -> None:
    body = report_body(borrower=Account.create().address)
    # However the bureau types the identifier, the commitment is the normalized one's.
    body["identity"] = " " + body["identity"].lower().replace("-", " ") + "."
    answer = post_report(credit_client, bureau_secrets, body)
    assert answer.status_code == 201, answer.text
    expected = identity_commitment(identity_of(body["borrower"]), identity_key)
    assert answer.json()["signed_attestation"]["attestation"]["identity_hash"] == (
        "0x" + expected.hex()
    )
    assert body["identity"] not in answer.text


# ---------------------------------------------------------------------------------------- refused


def test_post_refuses_a_carrier_key_with_403(
    credit_client: TestClient, carrier_secrets: SourceSecrets
) -> None:
    response = post_report(credit_client, carrier_secrets, report_body())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "source_not_allowed"
    assert count_reports(credit_client) == 0


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


@pytest.mark.parametrize(
    ("identity", "code"),
    [
        (None, "missing"),
        ("", "string_too_short"),
        (" - . ", "string_pattern_mismatch"),
        # Space to Python, not to ECMA-262's \s, and a full stop's full-width form: the fuzzer's
        # find, once refused by normalization as value_error against the documented pattern.
        ("\x1f\uff0e", "string_pattern_mismatch"),
    ],
)
def test_post_refuses_a_report_without_a_legal_identifier_with_422(
    credit_client: TestClient, bureau_secrets: SourceSecrets, identity: str | None, code: str
) -> None:
    body = report_body()
    if identity is None:
        del body["identity"]
    else:
        body["identity"] = identity
    response = post_report(credit_client, bureau_secrets, body)
    assert response.status_code == 422
    (detail,) = response.json()["error"]["details"]
    assert (detail["field"], detail["code"]) == ("body.identity", code)
    assert count_reports(credit_client) == 0


def test_post_answers_503_without_an_identity_key_outside_development(
    credit_settings: Settings, bureau_secrets: SourceSecrets
) -> None:
    keyless = credit_settings.model_copy(update={"identity_key": None})
    with TestClient(create_app(keyless)) as client:
        response = post_report(client, bureau_secrets, report_body())
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "identity_key_unavailable"
        assert count_reports(client) == 0


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
    assert count_reports(credit_client) == 1


def test_same_idempotency_key_with_another_body_is_409(
    credit_client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    post_report(credit_client, bureau_secrets, report_body(), idempotency_key="report-2")
    other = post_report(
        credit_client, bureau_secrets, report_body(score=600), idempotency_key="report-2"
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert count_reports(credit_client) == 1


def test_post_answers_409_when_the_deployment_has_no_credit_part(
    client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    response = post_report(client, bureau_secrets, report_body())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "credit_not_deployed"
    assert count_reports(client) == 0


@pytest.mark.parametrize("model", ["0x" + "zz" * 32, "   ", " trustmall-score-v3", "\u0085"])
def test_a_model_that_is_neither_a_name_nor_a_bytes32_id_is_refused_as_malformed(
    credit_client: TestClient, bureau_secrets: SourceSecrets, model: str
) -> None:
    """A model is a name or a 0x bytes32 id (``model_id_of``): a 0x id that is not hex, or a name
    with spaces around it or outside printable ASCII, is a client's mistake, answered 422 before
    anything is kept, never a server error."""
    posted = post_report(credit_client, bureau_secrets, report_body(model=model))

    assert posted.status_code == 422, posted.text
    assert posted.json()["error"]["code"] == "validation_failed"


def test_a_report_issued_after_the_chain_s_time_is_refused(
    credit_client: TestClient, bureau_secrets: SourceSecrets, w3: Web3
) -> None:
    """A post-dated attestation would outrank every newer report of its borrower. Now is the
    later of the chain's time (other tests of the session move it ahead) and the wall clock."""
    now = max(int(w3.eth.get_block("latest")["timestamp"]), int(time.time()))
    late = now + 30 * 86_400
    answer = post_report(credit_client, bureau_secrets, report_body(issued_at=late))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "issued_in_future"
    fine = post_report(credit_client, bureau_secrets, report_body(issued_at=now))
    assert fine.status_code == 201, fine.text
