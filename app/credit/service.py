"""Taking a bureau's report: kept encrypted at rest, its band attested (EIP-712) by the service's
attester keys with the borrower's identity commitment, and the application relayed on chain once
the verifier's quorum of signatures is met (``app.credit.applications``).

Answers of ``POST /v1/credit/reports``:

* ``201`` — the report is stored, its attestation signed by enough of the service's keys, and its
  application queued for the chain (follow it at ``GET /v1/relay/{relay_id}``);
* ``202`` — the report is stored and signed by the service's keys, but the verifier's quorum
  wants more: it awaits the bureau's cosignatures (``app.credit.cosign``);
* ``409 credit_not_deployed`` — the deployment has no credit contracts;
* ``409 idempotency_key_reused`` — the ``Idempotency-Key`` was used with another body;
* ``422`` — an invalid body (a code per field), or ``issued_in_future``: an ``issued_at`` later
  than now (the chain's time or ours, the later) plus ``ISSUED_AT_SKEW_SECONDS`` (a post-dated
  attestation would outrank every newer report of its borrower: the lines approve only newer
  ones);
* ``503`` — the chain cannot be read, or no report encryption, attester or identity key is set.

Only the service's keys that the verifier lists as attesters sign (another signature would make
the verifier refuse the whole application). Nonces come from a database counter per verifier, in
sequence. Bands come from :func:`app.domain.attestations.band_for_score`, capped at the active
policy's top tier read from ``CreditLines``. The identity commitment is
:func:`app.domain.identity.identity_commitment` under the ``IDENTITY_KEY`` setting.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, TypeVar

import structlog
from cryptography.fernet import Fernet, InvalidToken
from eth_account.signers.local import LocalAccount
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from app.api.errors import ApiError
from app.api.json_body import JsonTooDeep, loads_bounded
from app.chain.keys import SigningKeyUnavailable
from app.credit.applications import (
    accepted_public,
    public_fields,
    relay_id_of,
    settle,
    signed_attestation,
    status_code,
)
from app.credit.chain_view import next_nonce, read_chain
from app.credit.models import CreditReportRecord, CreditSignatureRecord
from app.credit.schemas import CreditReportCreate, CreditReportPublic, new_report_id
from app.domain.abi_types import hex32
from app.domain.attestations import (
    Attestation,
    band_for_score,
    model_id_of,
    new_salt,
    report_commitment,
    sign,
)
from app.domain.identity import DEV_IDENTITY_KEY, identity_commitment, parse_identity_key
from app.ingest.logistics import (
    Answer,
    remember_answer,
    stored_answer,
)
from app.services import AppServices
from app.settings import Environment, Settings

log = structlog.get_logger(__name__)

SCOPE = "credit_reports"
Body = TypeVar("Body", bound=BaseModel)
# How far a report's issued_at may run ahead of the chain's latest block time (clocks differ).
ISSUED_AT_SKEW_SECONDS = 300


def ingest_credit_report(
    services: AppServices, source: str, body: bytes, idempotency_key: str | None
) -> Answer:
    """Handles one authenticated bureau request (blocking: run it in a worker thread)."""
    request_hash = hashlib.sha256(body).hexdigest()
    if idempotency_key is not None:
        stored = stored_answer(services, source, idempotency_key, request_hash, SCOPE)
        if stored is not None:
            return stored
    report = parse_body(body, CreditReportCreate)
    fernet = _fernet(services)
    attesters = _attesters(services)
    chain = read_chain(services)
    identity_hash = hex32(identity_commitment(report.identity, identity_key(services.settings)))
    signers = [account for account in attesters if chain.is_attester(account.address)]
    band = band_for_score(report.score, chain.tiers)
    salt = new_salt()
    commitment = hex32(report_commitment(report.report, salt))
    issued_at = report.issued_at if report.issued_at is not None else chain.now
    # The later of the chain's time and ours: a chain that makes blocks on demand lags the clock.
    now = max(chain.now, int(time.time()))
    if issued_at > now + ISSUED_AT_SKEW_SECONDS:
        raise ApiError(
            422,
            "issued_in_future",
            f"issued_at {issued_at} is after now ({now}; at most {ISSUED_AT_SKEW_SECONDS} s ahead)",
        )
    secret = {
        "report": report.report,
        "score": report.score,
        "model": report.model,
        "identity": report.identity,
        "salt": "0x" + salt.hex(),
    }
    ciphertext = fernet.encrypt(json.dumps(secret, separators=(",", ":")).encode())
    for attempt in (1, 2):
        try:
            with services.database.transaction() as session:
                nonce = next_nonce(session, chain)
                attestation = Attestation(
                    borrower=report.borrower,
                    identity_hash=identity_hash,
                    band=band,
                    model_id=model_id_of(report.model),
                    report_hash=commitment,
                    issued_at=issued_at,
                    expires_at=issued_at + report.expires_in,
                    nonce=nonce,
                    attester_set_version=chain.set_version,
                )
                signatures = {str(a.address): sign(attestation, chain.domain, a) for a in signers}
                record = CreditReportRecord(
                    id=new_report_id(),
                    source=source,
                    borrower=attestation.borrower,
                    ciphertext=ciphertext,
                    report_hash=commitment,
                    verifier=chain.verifier,
                    nonce=nonce,
                    quorum=chain.quorum,
                )
                session.add(record)
                for signer, signature in signatures.items():
                    session.add(
                        CreditSignatureRecord(
                            report_id=record.id, signer=signer, signature=signature, by_service=True
                        )
                    )
                signed = signed_attestation(attestation, chain.domain, signatures, report.model)
                relay_id = settle(session, record, signed)
                # The answer (kept for idempotent replays) holds neither the score, the report
                # nor the identity.
                accepted = accepted_public(record, relay_id)
                answer = Answer(status_code(record), accepted.model_dump(mode="json"))
                if idempotency_key is not None:
                    remember_answer(session, source, SCOPE, idempotency_key, request_hash, answer)
            log.info(
                "credit_report_attested",
                source=source,
                report_id=record.id,
                band=band,
                nonce=nonce,
                signatures=len(signatures),
                quorum=chain.quorum,
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
        record = find_report(session.get(CreditReportRecord, report_id), source, report_id)
        fields = public_fields(record, relay_id_of(session, source, report_id))
        ciphertext, created_at = record.ciphertext, record.created_at
    secret = decrypt_report(services, ciphertext)
    return CreditReportPublic.model_validate(
        {
            **fields,
            "source": source,
            "identity": secret.get("identity"),
            "model": secret["model"],
            "score": secret["score"],
            "report": secret["report"],
            "created_at": created_at,
        }
    )


def decrypt_report(services: AppServices, ciphertext: bytes) -> dict[str, Any]:
    """A stored report's secret part (report, score, model, identity, salt); 503
    ``report_key_mismatch`` when the configured key is not the one it was stored under."""
    try:
        secret: dict[str, Any] = json.loads(_fernet(services).decrypt(ciphertext))
    except InvalidToken:
        raise ApiError(
            503, "report_key_mismatch", "the report cannot be decrypted with the configured key"
        ) from None
    return secret


def find_report(
    record: CreditReportRecord | None, source: str, report_id: str
) -> CreditReportRecord:
    """The record if it is this bureau's; 404 ``credit_report_not_found`` otherwise."""
    if record is None or record.source != source:
        raise ApiError(404, "credit_report_not_found", f"no credit report {report_id}")
    return record


def parse_report(body: bytes) -> CreditReportCreate:
    """One report object; 422 with a code per bad field otherwise."""
    return parse_body(body, CreditReportCreate)


def parse_body(body: bytes, model: type[Body]) -> Body:
    """A JSON body as ``model``; 422 ``invalid_json``, or ``validation_failed`` with a code per
    field."""
    try:
        data = loads_bounded(body)
    except (UnicodeDecodeError, json.JSONDecodeError, JsonTooDeep) as error:
        raise ApiError(422, "invalid_json", f"the body is not JSON: {error}") from None
    try:
        return model.model_validate(data)
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


def identity_key(settings: Settings) -> bytes:
    """The platform's identity key: ``IDENTITY_KEY``, or in development the public dev key."""
    if settings.identity_key is not None:
        return parse_identity_key(settings.identity_key.get_secret_value())
    if settings.environment is Environment.DEVELOPMENT:
        return DEV_IDENTITY_KEY
    raise ApiError(
        503, "identity_key_unavailable", "no identity key is set (TRUSTMALL_IDENTITY_KEY)"
    )


def _attesters(services: AppServices) -> list[LocalAccount]:
    try:
        return services.keys.attesters()
    except SigningKeyUnavailable as error:
        raise ApiError(503, "attester_unavailable", str(error)) from None


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


__all__ = ["ingest_credit_report", "parse_report", "read_credit_report"]
