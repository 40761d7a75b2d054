"""A signed-in merchant's own items, batches, orders and reports, from the index: the shopper
API's readers (``app.shop.reads``) where it has them, a listing by merchant where it has none."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.domain.vocab import ReportStatus
from app.index.models import (
    BatchRecallRow,
    BatchRow,
    ItemRow,
    OrderRow,
    ReportOutcomeRow,
    ReportRow,
)
from app.index.queries import index_position
from app.merchant.schemas import (
    MerchantBatchListPublic,
    MerchantBatchPublic,
    MerchantItemListPublic,
    MerchantItemPublic,
    MerchantOrderListPublic,
    MerchantReportListPublic,
    MerchantReportPublic,
)
from app.settings import Settings
from app.shop.labels import verify_url
from app.shop.order_context import OrderContext
from app.shop.reads import chain_ref, order_public


def _as_of(session: Session) -> int | None:
    position = index_position(session)
    return position.last_block if position else None


def merchant_items(
    session: Session, settings: Settings, merchant: str, limit: int, offset: int
) -> MerchantItemListPublic:
    rows = session.scalars(
        select(ItemRow)
        .where(ItemRow.merchant == merchant)
        .order_by(ItemRow.block_number.desc(), ItemRow.log_index.desc())
        .limit(limit)
        .offset(offset)
    )
    items = [
        MerchantItemPublic(
            item_id=row.item_id,
            metadata_hash=row.metadata_hash,
            metadata_uri=row.metadata_uri,
            batch_root=row.batch_root,
            registered=chain_ref(row),
            verify_url=verify_url(settings, row.item_id),
        )
        for row in rows
    ]
    return MerchantItemListPublic(
        items=items, limit=limit, offset=offset, as_of_block=_as_of(session)
    )


def merchant_batches(
    session: Session, merchant: str, limit: int, offset: int
) -> MerchantBatchListPublic:
    recalled = exists().where(BatchRecallRow.root == BatchRow.root)
    rows = session.execute(
        select(BatchRow, recalled)
        .where(BatchRow.merchant == merchant)
        .order_by(BatchRow.block_number.desc(), BatchRow.log_index.desc())
        .limit(limit)
        .offset(offset)
    )
    batches = [
        MerchantBatchPublic(
            root=row.root,
            item_count=row.item_count,
            metadata_hash=row.metadata_hash,
            metadata_uri=row.metadata_uri,
            recalled=bool(was_recalled),
            registered=chain_ref(row),
        )
        for row, was_recalled in rows
    ]
    return MerchantBatchListPublic(
        batches=batches, limit=limit, offset=offset, as_of_block=_as_of(session)
    )


def merchant_orders(
    session: Session, merchant: str, limit: int, offset: int, context: OrderContext
) -> MerchantOrderListPublic:
    ids = session.scalars(
        select(OrderRow.order_id)
        .where(OrderRow.merchant == merchant)
        .order_by(OrderRow.block_number.desc(), OrderRow.log_index.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    orders = [
        order for order in (order_public(session, i, context) for i in ids) if order is not None
    ]
    return MerchantOrderListPublic(
        orders=orders, limit=limit, offset=offset, as_of_block=_as_of(session)
    )


def merchant_reports(
    session: Session, merchant: str, limit: int, offset: int
) -> MerchantReportListPublic:
    """Reports on items the merchant registered, newest first."""
    mine = select(ItemRow.item_id).where(ItemRow.merchant == merchant)
    rows = session.execute(
        select(ReportRow, ReportOutcomeRow)
        .outerjoin(ReportOutcomeRow, ReportOutcomeRow.report_id == ReportRow.report_id)
        .where(ReportRow.item_id.in_(mine))
        .order_by(ReportRow.report_id.desc())
        .limit(limit)
        .offset(offset)
    )
    reports = [
        MerchantReportPublic(
            report_id=report.report_id,
            item_id=report.item_id,
            reporter=report.reporter,
            kind=report.kind,
            evidence_hash=report.evidence_hash,
            filed=chain_ref(report),
            outcome="open"
            if outcome is None
            else "confirmed"
            if outcome.status == ReportStatus.CONFIRMED
            else "dismissed",
            decided=None if outcome is None else chain_ref(outcome),
        )
        for report, outcome in rows
    ]
    return MerchantReportListPublic(
        reports=reports, limit=limit, offset=offset, as_of_block=_as_of(session)
    )
