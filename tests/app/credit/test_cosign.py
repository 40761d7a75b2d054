"""Quorum 2 (the default deployment): the service signs with its attester key (test account 6),
the report waits for the bureau's cosigner (test account 9), and the application is relayed and
approved on chain once the cosignature is posted; and every refusal of a cosignature."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr
from sqlalchemy import func, select
from web3 import Web3

from app.credit.models import CreditSignatureRecord
from app.domain.attestations import SignedAttestation, recover
from app.main import create_app
from app.outbox.models import OutboxRecord
from app.settings import Settings, SourceCredentials, SourceKind
from harness.ape_run import TEST_PRIVATE_KEYS
from tests.app.conftest import ATTESTER_KEY, Deployment, SourceSecrets
from tests.app.credit.conftest import COSIGNER_KEY
from tests.app.credit.support import (
    REPORTS_PATH,
    contract,
    decisions,
    post_report,
    relay_all,
    report_body,
    signed_request,
)

pytestmark = pytest.mark.anvil

SERVICE = Account.from_key(ATTESTER_KEY)
COSIGNER = Account.from_key(COSIGNER_KEY)


def _sign(account: Any, to_sign: dict[str, Any]) -> str:
    """A signature of the typed data as a wallet makes it, from the JSON the service answered."""
    return (
        "0x" + bytes(account.sign_message(encode_typed_data(full_message=to_sign)).signature).hex()
    )


def post_signature(
    client: TestClient,
    source: SourceSecrets,
    report_id: str,
    signature: str,
    timestamp: int | None = None,
) -> Response:
    body = json.dumps({"signature": signature}).encode()
    path = f"{REPORTS_PATH}/{report_id}/signatures"
    return signed_request(client, source, "POST", path, body, timestamp=timestamp)


def _awaiting(client: TestClient, bureau: SourceSecrets) -> dict[str, Any]:
    response = post_report(client, bureau, report_body(760, Account.create().address))
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _counts(client: TestClient) -> tuple[int, int]:
    """Signatures stored and applications queued."""
    database = client.app.state.services.database  # type: ignore[attr-defined]
    with database.sessions() as session:
        signatures = session.scalar(select(func.count()).select_from(CreditSignatureRecord))
        queued = session.scalar(select(func.count()).select_from(OutboxRecord))
        return int(signatures or 0), int(queued or 0)


def test_a_report_the_service_alone_cannot_attest_awaits_its_cosignature(
    cosign_client: TestClient,
    bureau_secrets: SourceSecrets,
    cosign_deployment: Deployment,
    w3: Web3,
) -> None:
    answer = _awaiting(cosign_client, bureau_secrets)

    verifier = contract(w3, cosign_deployment, "AttestationVerifier")
    assert verifier.functions.quorum().call() == answer["quorum"] == 2
    assert answer["status"] == "awaiting_signatures"
    assert answer["signers"] == [SERVICE.address]
    assert answer["relay_id"] is None
    signed = SignedAttestation.model_validate(answer["signed_attestation"])
    assert recover(signed.attestation, signed.domain, signed.signatures[0]) == SERVICE.address
    assert answer["to_sign"]["message"]["identityHash"] == signed.attestation.identity_hash
    assert _counts(cosign_client) == (1, 0)  # nothing goes to the chain yet
    read = signed_request(cosign_client, bureau_secrets, "GET", f"{REPORTS_PATH}/{answer['id']}")
    assert read.status_code == 200
    assert (read.json()["status"], read.json()["signers"]) == (
        "awaiting_signatures",
        [SERVICE.address],
    )


def test_the_cosignature_meets_the_quorum_and_the_application_is_approved_on_chain(
    cosign_client: TestClient,
    bureau_secrets: SourceSecrets,
    cosign_deployment: Deployment,
    w3: Web3,
) -> None:
    answer = _awaiting(cosign_client, bureau_secrets)

    response = post_signature(
        cosign_client, bureau_secrets, answer["id"], _sign(COSIGNER, answer["to_sign"])
    )

    assert response.status_code == 201, response.text
    queued = response.json()
    assert queued["status"] == "queued"
    assert queued["to_sign"] is None
    signers = sorted([SERVICE.address, COSIGNER.address], key=lambda a: int(a, 16))
    assert queued["signers"] == queued["signed_attestation"]["signers"] == signers
    assert queued["relay_id"] is not None

    relay_all(cosign_client, cosign_deployment)

    relay = cosign_client.get(f"/v1/relay/{queued['relay_id']}").json()
    assert relay["status"] == "confirmed", relay
    lines = contract(w3, cosign_deployment, "CreditLines")
    borrower = answer["borrower"]
    nonce = int(answer["signed_attestation"]["attestation"]["nonce"])
    (decision,) = decisions(w3, lines, borrower, nonce)
    assert decision["event"] == "CreditApproved"
    assert decision["transactionHash"].to_0x_hex() == relay["tx_hash"]
    assert (
        "0x" + bytes(decision["args"]["attestation"]["identityHash"]).hex()
        == (answer["signed_attestation"]["attestation"]["identity_hash"])
    )
    read = signed_request(cosign_client, bureau_secrets, "GET", f"{REPORTS_PATH}/{answer['id']}")
    assert (read.json()["status"], read.json()["signers"], read.json()["relay_id"]) == (
        "queued",
        signers,
        queued["relay_id"],
    )


# ---------------------------------------------------------------------------------------- refused


def _refused(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    return error


def test_a_signature_of_a_key_the_verifier_does_not_list_is_refused(
    cosign_client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    answer = _awaiting(cosign_client, bureau_secrets)
    stranger = Account.create()

    response = post_signature(
        cosign_client, bureau_secrets, answer["id"], _sign(stranger, answer["to_sign"])
    )

    error = _refused(response, 422, "signer_not_attester")
    assert error["details"]["signer"] == stranger.address
    assert _counts(cosign_client) == (1, 0)


def test_a_cosigner_signature_of_another_attestation_recovers_to_a_stranger(
    cosign_client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    first = _awaiting(cosign_client, bureau_secrets)
    second = _awaiting(cosign_client, bureau_secrets)

    response = post_signature(
        cosign_client, bureau_secrets, second["id"], _sign(COSIGNER, first["to_sign"])
    )

    _refused(response, 422, "signer_not_attester")


def test_a_signer_already_counted_is_refused(
    cosign_client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    answer = _awaiting(cosign_client, bureau_secrets)
    service_signature = answer["signed_attestation"]["signatures"][0]

    response = post_signature(cosign_client, bureau_secrets, answer["id"], service_signature)

    error = _refused(response, 409, "duplicate_signature")
    assert error["details"]["signer"] == SERVICE.address
    assert _counts(cosign_client) == (1, 0)


def test_a_signature_after_the_application_was_queued_is_refused(
    cosign_client: TestClient, bureau_secrets: SourceSecrets
) -> None:
    answer = _awaiting(cosign_client, bureau_secrets)
    cosignature = _sign(COSIGNER, answer["to_sign"])
    now = int(time.time())
    first = post_signature(cosign_client, bureau_secrets, answer["id"], cosignature, now)
    assert first.status_code == 201

    # The same body again, signed at another second (a request signature is accepted once).
    again = post_signature(cosign_client, bureau_secrets, answer["id"], cosignature, now - 1)

    _refused(again, 409, "report_already_relayed")
    assert _counts(cosign_client) == (2, 1)


@pytest.mark.parametrize(
    ("signature", "status", "code"),
    [
        ("0x" + "00" * 65, 422, "invalid_signature"),
        ("0x1234", 422, "validation_failed"),
    ],
)
def test_a_signature_that_recovers_to_nobody_or_is_malformed_is_refused(
    cosign_client: TestClient,
    bureau_secrets: SourceSecrets,
    signature: str,
    status: int,
    code: str,
) -> None:
    answer = _awaiting(cosign_client, bureau_secrets)
    _refused(post_signature(cosign_client, bureau_secrets, answer["id"], signature), status, code)


def test_an_unknown_report_or_another_bureaus_report_is_404(
    cosign_settings: Settings, bureau_secrets: SourceSecrets
) -> None:
    rival = SourceSecrets("south-bureau", "south-api-key-0123456789", "south-secret-0123456789")
    sources = {
        **cosign_settings.sources,
        rival.name: SourceCredentials(
            kind=SourceKind.BUREAU,
            api_key=SecretStr(rival.api_key),
            hmac_secret=SecretStr(rival.hmac_secret),
        ),
    }
    with TestClient(create_app(cosign_settings.model_copy(update={"sources": sources}))) as client:
        answer = _awaiting(client, bureau_secrets)
        cosignature = _sign(COSIGNER, answer["to_sign"])
        _refused(
            post_signature(client, rival, answer["id"], cosignature), 404, "credit_report_not_found"
        )
        unknown = "00000000-0000-0000-0000-000000000000"
        _refused(
            post_signature(client, bureau_secrets, unknown, cosignature),
            404,
            "credit_report_not_found",
        )
        assert _counts(client) == (1, 0)


def test_a_cosignature_needs_the_bureaus_key_and_hmac(
    cosign_client: TestClient, bureau_secrets: SourceSecrets, carrier_secrets: SourceSecrets
) -> None:
    answer = _awaiting(cosign_client, bureau_secrets)
    cosignature = _sign(COSIGNER, answer["to_sign"])
    forged = SourceSecrets(bureau_secrets.name, bureau_secrets.api_key, "not-the-secret")

    _refused(
        post_signature(cosign_client, carrier_secrets, answer["id"], cosignature),
        403,
        "source_not_allowed",
    )
    _refused(
        post_signature(cosign_client, forged, answer["id"], cosignature), 401, "invalid_signature"
    )
    assert _counts(cosign_client) == (1, 0)


def test_a_cosignature_after_the_attester_set_changed_is_refused_as_stale(
    cosign_client: TestClient,
    bureau_secrets: SourceSecrets,
    cosign_deployment: Deployment,
    w3: Web3,
) -> None:
    answer = _awaiting(cosign_client, bureau_secrets)
    verifier = contract(w3, cosign_deployment, "AttestationVerifier")
    admin = Account.from_key(TEST_PRIVATE_KEYS[0])
    newcomer = Account.create().address

    def as_admin(call: Any) -> None:
        tx = call.build_transaction(
            {"from": admin.address, "nonce": w3.eth.get_transaction_count(admin.address)}
        )
        sent = w3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)
        assert w3.eth.wait_for_transaction_receipt(sent, timeout=30)["status"] == 1

    as_admin(verifier.functions.addAttester(newcomer))
    try:
        response = post_signature(
            cosign_client, bureau_secrets, answer["id"], _sign(COSIGNER, answer["to_sign"])
        )
    finally:
        as_admin(verifier.functions.removeAttester(newcomer))

    _refused(response, 409, "attestation_stale")
    assert _counts(cosign_client) == (1, 0)
