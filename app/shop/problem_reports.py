"""Shoppers' problem reports, kept by the service until a verifier opens one on chain.

A report is linked to the registry's report by its evidence hash: keccak256 of the canonical JSON
of its evidence document (its receipt id, item, reason, words and the photo's SHA-256; never the
contact, which is personal data and stays here). The verifier files the registry's report with
that hash (``ape run ops file-report``); from then on the receipt and the item's page read the
report's state from the index, as the chain has it. Only a registry's report filed by an account
holding VERIFIER_ROLE when it filed counts (the index's ``RoleGranted``/``RoleRevoked``):
``fileReport`` is open to anyone, and a shopper filing their own receipt's hash must not make
the item's public page say "under review". The receipt id is random (128 bits), so the
public hash gives nothing away about the words to anyone without the receipt.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Text,
    and_,
    bindparam,
    case,
    exists,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import BindParameter

from app.db.base import Base, utc_now
from app.domain.abi_types import hex32
from app.domain.metadata import metadata_hash
from app.domain.photo_upload import CleanPhoto
from app.domain.vocab import ReportStatus
from app.index.models import HEX32, ReportOutcomeRow, ReportRow
from app.index.sql import DriverQuery, portable
from app.shop.index_facts import IndexReader
from app.shop.problem_report_schemas import ProblemReason, ProblemReportCreate, Review
from app.shop.verifier_reports import filed_by_verifier

EVIDENCE_KIND = "trustmall-problem-report/1"


class ProblemReportRow(Base):
    """A shopper's report as received. Off-chain: a reorg leaves it; its review is read from the
    index's rows at each answer, never stored."""

    __tablename__ = "shop_problem_reports"

    # Arrival order (a list's order), apart from the receipt id, which is random.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    receipt_id: Mapped[str] = mapped_column(String(32), unique=True)
    item_id: Mapped[str] = mapped_column(String(HEX32), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(Text)
    # Personal data: read only through the verifiers' authenticated endpoint.
    contact: Mapped[str] = mapped_column(Text)
    evidence_hash: Mapped[str] = mapped_column(String(HEX32), index=True)
    photo_type: Mapped[str | None] = mapped_column(String(16))
    photo_bytes: Mapped[int | None] = mapped_column(BigInteger)
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class ProblemReportPhotoRow(Base):
    """A report's photo, metadata removed (``app.domain.photo_upload``); apart from the report so
    lists never load it."""

    __tablename__ = "shop_problem_report_photos"

    receipt_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True)
class ReportState:
    """A report with its review, and the registry's report that decides it (if one was filed)."""

    row: ProblemReportRow
    review: Review
    onchain_report_id: int | None


def new_receipt_id() -> str:
    return "pr_" + secrets.token_urlsafe(16)


def evidence_hash(
    receipt_id: str, item_id: str, report: ProblemReportCreate, photo_sha256: str | None
) -> str:
    """The hash the registry's report carries as its ``evidenceHash``."""
    document = {
        "kind": EVIDENCE_KIND,
        "receipt_id": receipt_id,
        "item_id": item_id,
        "reason": report.reason.value,
        "details": report.details,
        "photo_sha256": photo_sha256,
    }
    return hex32(metadata_hash(document))


def store_report(
    session: Session, item_id: str, report: ProblemReportCreate, photo: CleanPhoto | None
) -> ProblemReportRow:
    """Keeps a report (and its photo) under a new receipt id; the caller commits."""
    receipt_id = new_receipt_id()
    digest = hashlib.sha256(photo.content).hexdigest() if photo is not None else None
    row = ProblemReportRow(
        receipt_id=receipt_id,
        item_id=item_id,
        reason=report.reason.value,
        details=report.details,
        contact=report.contact,
        evidence_hash=evidence_hash(receipt_id, item_id, report, digest),
        photo_type=photo.media_type.value if photo is not None else None,
        photo_bytes=len(photo.content) if photo is not None else None,
        photo_sha256=digest,
    )
    session.add(row)
    if photo is not None:
        session.add(ProblemReportPhotoRow(receipt_id=receipt_id, content=photo.content))
    return row


def _review(linked: ColumnElement[bool]) -> ColumnElement[str]:
    """The review of the registry's reports ``linked`` selects, counting only those a verifier
    filed (``filed_by_verifier``): open outranks a decision (a new report is being looked at), a
    confirmation outranks a dismissal; none filed: received."""
    linked = and_(linked, filed_by_verifier())
    decided = ReportOutcomeRow.report_id == ReportRow.report_id

    def decided_as(status: ReportStatus) -> ColumnElement[bool]:
        return exists().where(linked, decided, ReportOutcomeRow.status == int(status))

    return case(
        (exists().where(linked, ~exists().where(decided)), Review.UNDER_REVIEW.value),
        (decided_as(ReportStatus.CONFIRMED), Review.CONFIRMED.value),
        (decided_as(ReportStatus.DISMISSED), Review.DISMISSED.value),
        else_=Review.RECEIVED.value,
    )


def _linked_to_row() -> ColumnElement[bool]:
    return and_(
        ReportRow.item_id == ProblemReportRow.item_id,
        ReportRow.evidence_hash == ProblemReportRow.evidence_hash,
    )


def _row_review() -> ColumnElement[str]:
    """The review of the report in the row selected."""
    return _review(_linked_to_row())


def _states(session: Session, rows: list[tuple[ProblemReportRow, str]]) -> list[ReportState]:
    """The rows with their review and the registry's report that gives it (the first filed by a
    verifier of those in that state)."""
    hashes = {row.evidence_hash for row, _ in rows}
    filed: dict[tuple[str, str, str], int] = {}
    if hashes:
        own_review = case(
            (ReportOutcomeRow.status == int(ReportStatus.CONFIRMED), Review.CONFIRMED.value),
            (ReportOutcomeRow.status == int(ReportStatus.DISMISSED), Review.DISMISSED.value),
            else_=Review.UNDER_REVIEW.value,
        )
        found = session.execute(
            select(ReportRow.item_id, ReportRow.evidence_hash, own_review, ReportRow.report_id)
            .outerjoin(ReportOutcomeRow, ReportOutcomeRow.report_id == ReportRow.report_id)
            .where(ReportRow.evidence_hash.in_(hashes), filed_by_verifier())
            .order_by(ReportRow.report_id)
        )
        for item_id, evidence, review, report_id in found:
            filed.setdefault((item_id, evidence, str(review)), report_id)
    return [
        ReportState(row, Review(review), filed.get((row.item_id, row.evidence_hash, review)))
        for row, review in rows
    ]


def report_state(session: Session, receipt_id: str) -> ReportState | None:
    found = session.execute(
        select(ProblemReportRow, _row_review()).where(ProblemReportRow.receipt_id == receipt_id)
    ).first()
    return None if found is None else _states(session, [(found[0], found[1])])[0]


def reports_in_review(
    session: Session, review: Review, limit: int, offset: int
) -> list[ReportState]:
    """Reports whose review is ``review``, oldest first."""
    found = session.execute(
        select(ProblemReportRow, _row_review())
        .where(_row_review() == review.value)
        .order_by(ProblemReportRow.id)
        .limit(limit)
        .offset(offset)
    )
    return _states(session, [(row, str(state)) for row, state in found])


def photo_of(session: Session, receipt_id: str) -> tuple[str, bytes] | None:
    found = session.execute(
        select(ProblemReportRow.photo_type, ProblemReportPhotoRow.content)
        .join(
            ProblemReportPhotoRow,
            ProblemReportPhotoRow.receipt_id == ProblemReportRow.receipt_id,
        )
        .where(ProblemReportRow.receipt_id == receipt_id)
    ).first()
    return None if found is None or found[0] is None else (found[0], found[1])


def item_review(reader: IndexReader, item_id: str) -> Review | None:
    """The review of shoppers' reports of an item once a verifier filed one on chain; None while
    none is (a report only received says nothing about the item to others). Read on the item
    page's own DB-API connection (the page's hot path)."""
    found = reader.first(_item_review_query(), item=item_id)
    review = Review(str(found[0])) if found is not None else Review.RECEIVED
    return None if review is Review.RECEIVED else review


@cache
def _item_review_query() -> DriverQuery:
    """The review rule (``_review``) for one item as portable SQL, compiled once: its constants
    (statuses, review names) as parameters beside ``:item``."""
    item: BindParameter[str] = bindparam("item")
    shoppers = select(ProblemReportRow.evidence_hash).where(ProblemReportRow.item_id == item)
    linked = and_(ReportRow.item_id == item, ReportRow.evidence_hash.in_(shoppers))
    return DriverQuery(*portable(select(_review(linked)), "item"))


def reason_of(row: ProblemReportRow) -> ProblemReason:
    return ProblemReason(row.reason)
