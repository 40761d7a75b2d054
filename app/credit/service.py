"""Taking a bureau's report: kept encrypted at rest, its band attested (EIP-712) by the service's
attester key, and the application relayed on chain.

The signed attestation goes into the outbox in the same database transaction as the report: the
relayer submits it to ``CreditLines.applyForCredit`` (anyone may), so the public policy decides
at once, on the record. The answer also hands the attestation back: the borrower may submit it
first (``ape run borrower apply``); the attestation's nonce makes the decision happen once, and
the relayer then confirms the record from the borrower's transaction. What reaches the chain of
a report is only its salted commitment and its band.

Answers of ``POST /v1/credit/reports``:

* ``201`` — the report is stored (one per request), its attestation signed and its application
  queued for the chain (follow it at ``GET /v1/relay/{relay_id}``);
* ``409 credit_not_deployed`` — the deployment has no credit contracts;
* ``409 idempotency_key_reused`` — the ``Idempotency-Key`` was used with another body;
* ``422`` — an invalid body (a code per field);
* ``503`` — the chain cannot be read, or no report encryption key / attester key is set.

Nonces come from a database counter per verifier, in sequence. Bands come from
:func:`app.domain.attestations.band_for_score` (its score table: the policy's tiers carry no score
bounds on chain), capped at the active policy's top tier read from ``CreditLines``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from cryptography.fernet import Fernet, InvalidToken
from pydantic import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3.contract import Contract
from web3.exceptions import Web3Exception

from app.api.errors import ApiError
from app.api.json_body import JsonTooDeep, loads_bounded
from app.chain.contracts import DeploymentMissing, connect, load_suite
from app.chain.keys import SigningKeyUnavailable, load_signing_account
from app.credit.models import AttestationNonceCounter, CreditReportRecord
from app.credit.schemas import (
    CreditReportAcceptedPublic,
    CreditReportCreate,
    CreditReportPublic,
)
from app.domain.abi_types import hex32
from app.domain.attestations import (
    SCORE_BAND_FLOORS,
    Attestation,
    Domain,
    SignedAttestation,
    band_for_score,
    model_id_of,
    new_salt,
    report_commitment,
    sign_all,
)
from app.ingest.logistics import (
    Answer,
    check_idempotency_key,
    remember_answer,
    stored_answer,
)
from app.outbox.models import OutboxRecord, RelayKind, RelayStatus
from app.services import AppServices

log = structlog.get_logger(__name__)

SCOPE = "credit_reports"
VERIFIER = "AttestationVerifier"
LINES = "CreditLines"
MAX_NONCE_SKIPS = 10_000
# ICreditPolicies.Tier is (limit, aprBps, term, gracePeriod, lateFee).
TIER_TERM_INDEX = 2


class _ChainView:
    """What an attestation needs from the chain, read once per report."""

    def __init__(
        self,
        chain_id: int,
        verifier: str,
        set_version: int,
        now: int,
        tiers: int | None,
        nonce_used: Callable[[int], bool],
    ) -> None:
        self.chain_id = chain_id
        self.verifier = verifier
        # Whether the verifier has spent a nonce (another database, a bureau's own attestation).
        self.nonce_used = nonce_used
        self.set_version = set_version
        self.now = now
        # The active policy's tier count (``None``: no policy published yet, no cap).
        self.tiers = tiers


def ingest_credit_report(
    services: AppServices, source: str, body: bytes, idempotency_key: str | None
) -> Answer:
    """Handles one authenticated bureau request (blocking: run it in a worker thread)."""
    request_hash = hashlib.sha256(body).hexdigest()
    if idempotency_key is not None:
        check_idempotency_key(idempotency_key)
        stored = stored_answer(services, source, idempotency_key, request_hash, SCOPE)
        if stored is not None:
            return stored
    report = parse_report(body)
    fernet = _fernet(services)
    try:
        attester = load_signing_account(
            "attester",
            services.settings.attester_keystore,
            services.settings.attester_keystore_passphrase,
            services.settings.attester_private_key,
        )
    except SigningKeyUnavailable as error:
        raise ApiError(503, "attester_unavailable", str(error)) from None
    chain = _read_chain(services)
    band = band_for_score(report.score, chain.tiers)
    salt = new_salt()
    commitment = hex32(report_commitment(report.report, salt))
    issued_at = report.issued_at if report.issued_at is not None else chain.now
    secret = {
        "report": report.report,
        "score": report.score,
        "model": report.model,
        "salt": "0x" + salt.hex(),
    }
    ciphertext = fernet.encrypt(json.dumps(secret, separators=(",", ":")).encode())
    domain = Domain(chain_id=chain.chain_id, verifying_contract=chain.verifier)
    for attempt in (1, 2):
        try:
            with services.database.transaction() as session:
                nonce = _next_nonce(session, chain)
                attestation = Attestation(
                    borrower=report.borrower,
                    band=band,
                    model_id=model_id_of(report.model),
                    report_hash=commitment,
                    issued_at=issued_at,
                    expires_at=issued_at + report.expires_in,
                    nonce=nonce,
                    attester_set_version=chain.set_version,
                )
                signed = sign_all(attestation, domain, [attester], report.model)
                record_id = str(uuid.uuid4())
                relay_id = _queue_application(session, source, record_id, signed)
                session.add(
                    CreditReportRecord(
                        id=record_id,
                        source=source,
                        borrower=attestation.borrower,
                        ciphertext=ciphertext,
                        report_hash=commitment,
                        verifier=chain.verifier,
                        nonce=nonce,
                        signed_attestation=signed.model_dump(mode="json"),
                    )
                )
                # The answer (kept for idempotent replays) holds neither the score nor the report.
                accepted = CreditReportAcceptedPublic(
                    id=record_id,
                    borrower=attestation.borrower,
                    band=band,
                    signed_attestation=signed,
                    relay_id=relay_id,
                )
                answer = Answer(201, accepted.model_dump(mode="json"))
                if idempotency_key is not None:
                    remember_answer(session, source, SCOPE, idempotency_key, request_hash, answer)
            log.info(
                "credit_report_attested", source=source, report_id=record_id, band=band, nonce=nonce
            )
            return answer
        except IntegrityError:
            # Another request with this key committed first: answer as it was answered.
            if idempotency_key is not None:
                stored = stored_answer(services, source, idempotency_key, request_hash, SCOPE)
                if stored is not None:
                    return stored
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def read_credit_report(services: AppServices, source: str, report_id: str) -> CreditReportPublic:
    """A stored report, decrypted, for the bureau that sent it; 404 for anyone else (another
    bureau learns nothing, not even that the id exists)."""
    with services.database.sessions() as session:
        record = session.get(CreditReportRecord, report_id)
        if record is None or record.source != source:
            raise ApiError(404, "credit_report_not_found", f"no credit report {report_id}")
        ciphertext, created_at = record.ciphertext, record.created_at
        signed, borrower = dict(record.signed_attestation), record.borrower
        relay_id = session.scalar(
            select(OutboxRecord.relay_id).where(
                OutboxRecord.source == source,
                OutboxRecord.source_event_id == f"credit-report:{report_id}",
            )
        )
    try:
        secret: dict[str, Any] = json.loads(_fernet(services).decrypt(ciphertext))
    except InvalidToken:
        raise ApiError(
            503, "report_key_mismatch", "the report cannot be decrypted with the configured key"
        ) from None
    return CreditReportPublic.model_validate(
        {
            "id": report_id,
            "borrower": borrower,
            "band": signed["attestation"]["band"],
            "signed_attestation": signed,
            "relay_id": relay_id,
            "source": source,
            "model": secret["model"],
            "score": secret["score"],
            "report": secret["report"],
            "created_at": created_at,
        }
    )


def parse_report(body: bytes) -> CreditReportCreate:
    """One report object; 422 with a code per bad field otherwise."""
    try:
        data = loads_bounded(body)
    except (UnicodeDecodeError, json.JSONDecodeError, JsonTooDeep) as error:
        raise ApiError(422, "invalid_json", f"the body is not JSON: {error}") from None
    try:
        return CreditReportCreate.model_validate(data)
    except ValidationError as error:
        details = [
            {
                "field": ".".join(str(part) for part in ("body", *e["loc"])),
                "code": e["type"],
                "message": e["msg"],
            }
            for e in error.errors()
        ]
        raise ApiError(422, "validation_failed", "the request is not valid", details) from None


def _fernet(services: AppServices) -> Fernet:
    key = services.settings.report_encryption_key
    if key is None:
        raise ApiError(503, "report_encryption_unavailable", "no report encryption key is set")
    try:
        return Fernet(key.get_secret_value().encode())
    except ValueError:
        raise ApiError(
            503, "report_encryption_unavailable", "the report encryption key is malformed"
        ) from None


def _read_chain(services: AppServices) -> _ChainView:
    settings = services.settings
    try:
        suite = load_suite(connect(settings.rpc_url), settings.deployments_dir, settings.abi_dir)
        if VERIFIER not in suite.contracts:
            raise ApiError(
                409,
                "credit_not_deployed",
                f"the deployment on chain {suite.chain_id} has no credit contracts",
            )
        verifier = suite[VERIFIER]
        set_version = int(verifier.functions.attesterSetVersion().call())
        now = int(suite.web3.eth.get_block("latest")["timestamp"])
        tiers = _policy_tiers(suite.contracts.get(LINES))
    except DeploymentMissing as error:
        raise ApiError(409, "credit_not_deployed", str(error)) from None
    except (OSError, Web3Exception) as error:
        log.warning("credit_chain_unavailable", error=type(error).__name__)
        raise ApiError(
            503, "chain_unavailable", "the chain cannot be read", headers={"Retry-After": "5"}
        ) from None

    def nonce_used(nonce: int) -> bool:
        try:
            return bool(verifier.functions.isNonceUsed(nonce).call())
        except (OSError, Web3Exception) as error:
            raise ApiError(
                503, "chain_unavailable", "the chain cannot be read", headers={"Retry-After": "5"}
            ) from error

    return _ChainView(suite.chain_id, str(verifier.address), set_version, now, tiers, nonce_used)


def _policy_tiers(lines: Contract | None) -> int | None:
    """How many tiers the active policy has, as the scripts count them: published tiers have a
    term, the first band without one ends them (bands past the score table are never given)."""
    if lines is None:
        return None
    version = int(lines.functions.currentPolicyVersion().call())
    if version == 0:
        return None
    tiers = 0
    for band in range(len(SCORE_BAND_FLOORS)):
        tier = lines.functions.policyTier(version, band).call()
        if int(tier[TIER_TERM_INDEX]) == 0:
            break
        tiers += 1
    return tiers or None


def _queue_application(
    session: Session, source: str, report_id: str, signed: SignedAttestation
) -> str:
    """The outbox record that submits the attestation to ``applyForCredit``; its relay id."""
    payload = signed.model_dump(mode="json")
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    relay_id = uuid.uuid4().hex
    session.add(
        OutboxRecord(
            relay_id=relay_id,
            source=source,
            source_event_id=f"credit-report:{report_id}",
            kind=RelayKind.CREDIT_APPLICATION,
            subject=signed.attestation.borrower,
            action="apply",
            occurred_at=signed.attestation.issued_at,
            payload=payload,
            details={"report_id": report_id, "band": signed.attestation.band},
            content_hash=hashlib.sha256(canonical.encode()).hexdigest(),
            status=RelayStatus.QUEUED,
        )
    )
    return relay_id


def _next_nonce(session: Session, chain: _ChainView) -> int:
    """The verifier's next unspent nonce, in sequence (sequential nonces share the verifier's
    bitmap words: cheaper to spend). Nonces the chain shows spent — by a service on another
    database, or a bureau signing itself — are skipped."""
    for _ in range(MAX_NONCE_SKIPS):
        nonce = _take_nonce(session, chain.verifier)
        if not chain.nonce_used(nonce):
            return nonce
    raise ApiError(503, "nonces_exhausted", f"{MAX_NONCE_SKIPS} nonces in a row are spent")


def _take_nonce(session: Session, verifier: str) -> int:
    """The counter's next nonce, taken atomically (an UPDATE ... RETURNING holds the row)."""
    taken = session.execute(
        update(AttestationNonceCounter)
        .where(AttestationNonceCounter.verifier == verifier)
        .values(next_nonce=AttestationNonceCounter.next_nonce + 1)
        .returning(AttestationNonceCounter.next_nonce)
    ).scalar_one_or_none()
    if taken is not None:
        return int(taken) - 1
    # The first nonce for this verifier: a concurrent first insert fails the transaction, which
    # the caller retries.
    session.execute(insert(AttestationNonceCounter).values(verifier=verifier, next_nonce=1))
    return 0


__all__ = ["ingest_credit_report", "parse_report", "read_credit_report"]
