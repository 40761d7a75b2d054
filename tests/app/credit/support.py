"""What the credit tests share: bureaus' signed requests (signatures computed here, independently
of the service's code), report bodies, the suite's contracts, and relaying queued applications."""

from __future__ import annotations

import itertools
import json
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from web3 import Web3

from app.chain.contracts import load_abi
from app.credit.models import CreditReportRecord
from app.domain.source_signature import signature_header
from app.outbox.relayer import Relayer
from harness.ape_run import BUYER, TEST_PRIVATE_KEYS
from tests.app.conftest import Deployment, SourceSecrets
from tests.app.ingest.support import Chain, ServiceHandle, relay_until_settled

REPORTS_PATH = "/v1/credit/reports"
BORROWER_KEY = TEST_PRIVATE_KEYS[5]
# Each report differs (a bureau's own reference), so no two requests share a signature.
_references = itertools.count(1)


def identity_of(borrower: str) -> str:
    """A borrower's legal identifier in these tests: one per address (one identity, one line)."""
    return f"TEST-ID-{borrower[2:12]}"


def report_body(score: int = 760, borrower: str = BUYER, **extra: Any) -> dict[str, Any]:
    return {
        "borrower": borrower,
        "identity": identity_of(borrower),
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


def contract(w3: Web3, deployment: Deployment, name: str) -> Any:
    return w3.eth.contract(
        address=Web3.to_checksum_address(deployment.addresses[name]),
        abi=load_abi(deployment.abi_dir, name),
    )


def count_reports(client: TestClient) -> int:
    database = client.app.state.services.database  # type: ignore[attr-defined]
    with database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(CreditReportRecord)) or 0)


def relay_all(credit_client: TestClient, credit_deployment: Deployment) -> ServiceHandle:
    handle = ServiceHandle(credit_client)
    relay_until_settled(
        Relayer.from_services(handle.services),
        handle,
        Chain.of(credit_deployment.rpc_url, credit_deployment),
    )
    return handle


def decisions(w3: Web3, lines: Any, borrower: str, nonce: int) -> list[Any]:
    found = [
        entry
        for event in (lines.events.CreditApproved, lines.events.CreditDenied)
        for entry in event().get_logs(argument_filters={"borrower": borrower}, from_block=0)
        if entry["args"]["attestation"]["nonce"] == nonce
    ]
    return found
