"""A borrower's own report: the one behind the latest decision the index holds for the borrower,
decrypted, with the attesters whose signatures the application carried and whether the report is
the one the chain's commitment names. Only ever answered to the borrower's own session
(``app.credit.borrower_sessions``)."""

from __future__ import annotations

from sqlalchemy import select

from app.api.errors import ApiError
from app.credit.line_schemas import AttesterPublic, BorrowerReportPublic
from app.credit.models import CreditReportRecord, CreditSignatureRecord
from app.credit.service import decrypt_report
from app.domain.abi_types import from_hex, hex32
from app.domain.attestations import SignedAttestation, report_commitment
from app.index.credit_rows import CreditAttestationRow
from app.services import AppServices


def borrower_report(services: AppServices, borrower: str) -> BorrowerReportPublic:
    """404 ``credit_line_not_found`` when the borrower never applied, ``credit_report_not_found``
    when this service does not hold the report of the latest decision (another bureau's)."""
    with services.database.sessions() as session:
        latest = session.scalars(
            select(CreditAttestationRow)
            .where(CreditAttestationRow.borrower == borrower)
            .order_by(
                CreditAttestationRow.block_number.desc(), CreditAttestationRow.log_index.desc()
            )
            .limit(1)
        ).first()
        if latest is None:
            raise ApiError(404, "credit_line_not_found", f"{borrower} never applied for credit")
        record = session.scalars(
            select(CreditReportRecord)
            .where(
                CreditReportRecord.borrower == borrower,
                CreditReportRecord.report_hash == latest.report_hash,
            )
            .order_by(CreditReportRecord.created_at.desc())
            .limit(1)
        ).first()
        if record is None:
            raise ApiError(
                404,
                "credit_report_not_found",
                "this service does not hold the report the latest decision was made on",
            )
        signed = SignedAttestation.model_validate(record.signed_attestation)
        by_service = {
            row.signer: row.by_service
            for row in session.scalars(
                select(CreditSignatureRecord).where(CreditSignatureRecord.report_id == record.id)
            )
        }
    secret = decrypt_report(services, record.ciphertext)
    salt = str(secret["salt"])
    holds = hex32(report_commitment(secret["report"], from_hex(salt))) == record.report_hash
    return BorrowerReportPublic(
        borrower=borrower,
        report_id=record.id,
        bureau=record.source,
        model=str(secret["model"]),
        score=int(secret["score"]),
        report=secret["report"],
        received_at=record.created_at,
        report_hash=record.report_hash,
        salt=salt,
        commitment_holds=holds,
        attesters=[
            AttesterPublic(address=signer, by_service=by_service.get(signer, False))
            for signer in signed.signers
        ],
        verifier=record.verifier,
    )
