"""``POST /v1/credit/reports/{id}/signatures``: a bureau brings an attester's signature of a
report's attestation that the service's own keys could not complete.

The signature must recover to an attester the verifier lists now, not one already counted, and
the attestation must still be current (the attester set version it names is the verifier's: any
change to the set or the quorum voids earlier signatures on chain). Once the signatures meet the
quorum the application is queued for the chain, signatures ascending by signer.

Answers: ``201`` the quorum is met and the application queued; ``202`` stored, more awaited;
``404 credit_report_not_found`` (unknown, or another bureau's report); ``409
report_already_relayed``, ``409 duplicate_signature``, ``409 attestation_stale``; ``422
invalid_signature`` (recovers to nobody), ``422 signer_not_attester``, ``422 validation_failed``.
"""

from __future__ import annotations

import structlog
from eth_keys.exceptions import BadSignature
from sqlalchemy.exc import IntegrityError

from app.api.errors import ApiError
from app.credit.applications import accepted_public, settle, signed_attestation, status_code
from app.credit.chain_view import read_chain
from app.credit.models import CreditReportRecord, CreditSignatureRecord, ReportStatus
from app.credit.schemas import CreditSignatureCreate
from app.credit.service import find_report, parse_body
from app.domain.attestations import SignedAttestation, recover
from app.ingest.logistics import Answer
from app.services import AppServices

log = structlog.get_logger(__name__)


def add_signature(services: AppServices, source: str, report_id: str, body: bytes) -> Answer:
    """Handles one authenticated bureau request (blocking: run it in a worker thread)."""
    posted = parse_body(body, CreditSignatureCreate).signature
    with services.database.sessions() as session:
        record = find_report(session.get(CreditReportRecord, report_id), source, report_id)
        _still_awaiting(record)
        signed = SignedAttestation.model_validate(record.signed_attestation)
    signer = _signer(signed, posted)
    if signer in signed.signers:
        raise _duplicate(signer)
    chain = read_chain(services)
    if (chain.chain_id, chain.verifier) != (
        signed.domain.chain_id,
        signed.domain.verifying_contract,
    ) or chain.set_version != signed.attestation.attester_set_version:
        raise ApiError(
            409,
            "attestation_stale",
            "the verifier's attesters or quorum changed since the attestation was signed; "
            "send the report again",
            {"signed_set_version": signed.attestation.attester_set_version},
        )
    if not chain.is_attester(signer):
        raise ApiError(
            422,
            "signer_not_attester",
            "the signature recovers to an address the verifier does not list as an attester",
            {"signer": signer},
        )
    try:
        with services.database.transaction() as session:
            record = find_report(session.get(CreditReportRecord, report_id), source, report_id)
            _still_awaiting(record)
            current = SignedAttestation.model_validate(record.signed_attestation)
            signatures = dict(zip(current.signers, current.signatures, strict=True))
            if signer in signatures:
                raise _duplicate(signer)
            signatures[signer] = posted
            session.add(CreditSignatureRecord(report_id=record.id, signer=signer, signature=posted))
            updated = signed_attestation(
                current.attestation, current.domain, signatures, current.model
            )
            relay_id = settle(session, record, updated)
            answer = Answer(
                status_code(record), accepted_public(record, relay_id).model_dump(mode="json")
            )
    except IntegrityError:
        # A concurrent request stored this signer, or queued the application, first.
        raise ApiError(
            409, "duplicate_signature", "this signature or the application was stored just now"
        ) from None
    log.info(
        "credit_report_cosigned",
        source=source,
        report_id=report_id,
        signer=signer,
        signatures=len(signatures),
        quorum=record.quorum,
        queued=relay_id is not None,
    )
    return answer


def _still_awaiting(record: CreditReportRecord) -> None:
    if record.status != ReportStatus.AWAITING_SIGNATURES:
        raise ApiError(
            409,
            "report_already_relayed",
            "the report's signatures met the quorum and its application was queued already",
        )


def _signer(signed: SignedAttestation, signature: str) -> str:
    try:
        return recover(signed.attestation, signed.domain, signature)
    except (BadSignature, ValueError):
        raise ApiError(
            422, "invalid_signature", "the signature does not recover to any address"
        ) from None


def _duplicate(signer: str) -> ApiError:
    return ApiError(
        409,
        "duplicate_signature",
        "this attester's signature is counted already",
        {"signer": signer},
    )
