"""A report's signatures and its application: the signed attestation (signatures ascending by
signer, as the verifier wants them), the move to the outbox once the verifier's quorum is met, and
the report's public shape.

The relayer submits a queued application to ``CreditLines.applyForCredit`` (anyone may), so the
public policy decides at once, on the record; the borrower may also submit it first with the
signed attestation (its nonce makes the decision happen once).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.credit.models import CreditReportRecord, ReportStatus
from app.credit.schemas import CreditReportAcceptedPublic
from app.domain.attestations import Attestation, Domain, SignedAttestation, typed_data_json
from app.outbox.models import OutboxRecord, RelayKind, RelayStatus, payload_hash
from app.outbox.schemas import new_relay_id


def signed_attestation(
    attestation: Attestation, domain: Domain, signatures: Mapping[str, str], model: str | None
) -> SignedAttestation:
    """The attestation with its signatures (by signer address), ascending by signer."""
    signers = sorted(signatures, key=lambda address: int(address, 16))
    return SignedAttestation(
        domain=domain,
        attestation=attestation,
        signatures=[signatures[s] for s in signers],
        signers=signers,
        model=model,
    )


def settle(session: Session, record: CreditReportRecord, signed: SignedAttestation) -> str | None:
    """Keeps the signatures on the record; queues the application once they meet the record's
    quorum (the record's status says which). The relay id when queued."""
    record.signed_attestation = signed.model_dump(mode="json")
    if len(signed.signatures) < record.quorum:
        record.status = ReportStatus.AWAITING_SIGNATURES
        return None
    record.status = ReportStatus.QUEUED
    return queue_application(session, record.source, record.id, signed)


def queue_application(
    session: Session, source: str, report_id: str, signed: SignedAttestation
) -> str:
    """The outbox record that submits the attestation to ``applyForCredit``; its relay id. The
    outbox refuses a second record for one report (source, event id), so two cosignatures that
    meet the quorum at once queue one application."""
    payload = signed.model_dump(mode="json")
    relay_id = new_relay_id()
    session.add(
        OutboxRecord(
            relay_id=relay_id,
            source=source,
            source_event_id=application_event_id(report_id),
            kind=RelayKind.CREDIT_APPLICATION,
            subject=signed.attestation.borrower,
            action="apply",
            occurred_at=signed.attestation.issued_at,
            payload=payload,
            details={"report_id": report_id, "band": signed.attestation.band},
            content_hash=payload_hash(payload),
            status=RelayStatus.QUEUED,
        )
    )
    session.flush()
    return relay_id


def application_event_id(report_id: str) -> str:
    return f"credit-report:{report_id}"


def relay_id_of(session: Session, source: str, report_id: str) -> str | None:
    found = session.scalar(
        select(OutboxRecord.relay_id).where(
            OutboxRecord.source == source,
            OutboxRecord.source_event_id == application_event_id(report_id),
        )
    )
    return str(found) if found is not None else None


def public_fields(record: CreditReportRecord, relay_id: str | None) -> dict[str, Any]:
    """The fields of :class:`CreditReportAcceptedPublic` for a record (no score, no report)."""
    signed = SignedAttestation.model_validate(record.signed_attestation)
    awaiting = record.status == ReportStatus.AWAITING_SIGNATURES
    return {
        "id": record.id,
        "borrower": record.borrower,
        "band": signed.attestation.band,
        "status": record.status,
        "quorum": record.quorum,
        "signers": signed.signers,
        "signed_attestation": signed,
        "to_sign": typed_data_json(signed.attestation, signed.domain) if awaiting else None,
        "relay_id": relay_id,
    }


def accepted_public(record: CreditReportRecord, relay_id: str | None) -> CreditReportAcceptedPublic:
    return CreditReportAcceptedPublic.model_validate(public_fields(record, relay_id))


def status_code(record: CreditReportRecord) -> int:
    """201 once the application is queued, 202 while signatures are awaited."""
    return 202 if record.status == ReportStatus.AWAITING_SIGNATURES else 201
