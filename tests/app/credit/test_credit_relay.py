"""Credit applications on chain: the band capped at the active policy's top tier, the service
relaying the application (or confirming the borrower's own), and an expired attestation failing
its relay with the contract's reason."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from web3 import Web3

from app.domain.attestations import (
    SignedAttestation,
    band_for_score,
)
from harness.ape_run import BUYER, TEST_PRIVATE_KEYS
from tests.app.conftest import Deployment, SourceSecrets
from tests.app.credit.support import (
    BORROWER_KEY,
    REPORTS_PATH,
    contract,
    decisions,
    post_report,
    relay_all,
    report_body,
    signed_request,
)

pytestmark = pytest.mark.anvil

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
    lines = contract(w3, credit_deployment, "CreditLines")
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

    relay_all(credit_client, credit_deployment)

    relay = credit_client.get(f"/v1/relay/{answer['relay_id']}").json()
    assert (relay["status"], relay["kind"], relay["subject"]) == (
        "confirmed",
        "credit_application",
        borrower,
    )
    lines = contract(w3, credit_deployment, "CreditLines")
    (decision,) = decisions(w3, lines, borrower, nonce)
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
    lines = contract(w3, credit_deployment, "CreditLines")
    tx = lines.functions.applyForCredit(*signed.abi_args()).build_transaction(
        {"from": borrower.address, "nonce": w3.eth.get_transaction_count(borrower.address)}
    )
    own = w3.eth.send_raw_transaction(borrower.sign_transaction(tx).raw_transaction)
    w3.eth.wait_for_transaction_receipt(own, timeout=30)

    relay_all(credit_client, credit_deployment)

    relay = credit_client.get(f"/v1/relay/{answer['relay_id']}").json()
    assert relay["status"] == "confirmed"
    assert relay["tx_hash"] == own.to_0x_hex()
    assert len(decisions(w3, lines, BUYER, signed.attestation.nonce)) == 1


def test_an_expired_attestation_fails_its_relay_with_the_contracts_reason(
    credit_client: TestClient,
    bureau_secrets: SourceSecrets,
    credit_deployment: Deployment,
    w3: Web3,
) -> None:
    chain_now = int(w3.eth.get_block("latest")["timestamp"])
    body = report_body(760, Account.create().address, issued_at=chain_now - 600, expires_in=60)
    answer = post_report(credit_client, bureau_secrets, body).json()

    relay_all(credit_client, credit_deployment)

    relay = credit_client.get(f"/v1/relay/{answer['relay_id']}").json()
    assert relay["status"] == "failed"
    assert "AttestationExpired" in relay["failure_reason"]
