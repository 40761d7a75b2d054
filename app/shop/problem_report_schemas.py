"""What a shopper's problem report is made of at the service's boundary: the reasons offered, the
bounds of its texts, its receipt id, how far a verifier got with it (from the chain), and the
answers programs read."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from app.api.params import ItemId
from app.domain.abi_types import Bytes32
from app.domain.vocab import ReportKind

MAX_DETAILS_CHARS = 2_000
MAX_CONTACT_CHARS = 200
RECEIPT_ID_PATTERN = r"^pr_[A-Za-z0-9_-]{22}$"
ReceiptId = Annotated[str, StringConstraints(pattern=RECEIPT_ID_PATTERN)]


class ProblemReason(StrEnum):
    """What the shopper says is wrong; the first is a counterfeit report on chain, the others
    problem reports (``ReportKind``)."""

    COUNTERFEIT = "counterfeit"
    TAMPERED = "tampered"
    NOT_AS_DESCRIBED = "not_as_described"
    OTHER = "other"

    @property
    def onchain_kind(self) -> ReportKind:
        return ReportKind.COUNTERFEIT if self is ProblemReason.COUNTERFEIT else ReportKind.PROBLEM


class Review(StrEnum):
    """How far a report got, read from the index: ``received`` until a report on chain carries
    its evidence hash for its item; then open (``under_review``), ``confirmed`` or
    ``dismissed`` as the registry's report is."""

    RECEIVED = "received"
    UNDER_REVIEW = "under_review"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class ProblemReportCreate(BaseModel):
    """A report's words, as checked (the photo is checked apart, by its bytes)."""

    reason: ProblemReason
    details: Annotated[str, Field(max_length=MAX_DETAILS_CHARS)] = ""
    contact: Annotated[str, Field(max_length=MAX_CONTACT_CHARS)] = ""


class FormValues(BaseModel):
    """What the shopper typed, unchecked: shown again, as typed, beside a refusal."""

    reason: str = ""
    details: str = ""
    contact: str = ""


# The multipart body the form posts, as OpenAPI states it.
FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["reason"],
    "properties": {
        "reason": {"type": "string", "enum": [reason.value for reason in ProblemReason]},
        "details": {"type": "string", "maxLength": MAX_DETAILS_CHARS},
        "contact": {"type": "string", "maxLength": MAX_CONTACT_CHARS},
        "photo": {"type": "string", "format": "binary"},
    },
}


class ProblemReportReceiptPublic(BaseModel):
    """A report's receipt, for the shopper who holds its id (never the contact given)."""

    receipt_id: str
    item_id: ItemId
    reason: ProblemReason
    details: str
    photo_attached: bool
    received_at: datetime
    review: Review
    onchain_report_id: int | None = Field(
        description="The registry's report carrying this report's evidence hash, once filed"
    )
    evidence_hash: Bytes32 = Field(
        description="keccak256 of the report's evidence document: the evidenceHash a verifier "
        "files the registry's report with"
    )
    receipt_url: str


class ProblemReportOperatorPublic(ProblemReportReceiptPublic):
    """A report as verifiers read it: with the contact given, the photo's address and the
    command that opens it on chain."""

    contact: str
    photo_type: str | None
    photo_bytes: int | None
    photo_sha256: str | None
    photo_url: str | None
    onchain_kind: int
    open_command: str


class ProblemReportListPublic(BaseModel):
    review: Review
    reports: list[ProblemReportOperatorPublic]
