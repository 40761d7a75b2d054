"""An item's verdict and everything around it, from the index or (``fresh``) from the chain.

``item_verdict`` is what the JSON API and the shopper's page both call. The verdict follows the
registry's own rules (``ProductRegistry.verify`` / ``verifyBatchItem``): recalled (the item, or its
batch) outranks flagged, which outranks unknown, which outranks a suspended merchant. A batch item
that was never activated on chain is judged through its published manifest's proof, as
``verifyBatchItem`` would judge it.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.merkle import BatchLeaf, verify_proof
from app.domain.vocab import CustodyAction, MerchantStatus, OrderStatus
from app.index.models import (
    BatchRecallRow,
    BatchRow,
    CustodyRow,
    ItemFlagRow,
    ItemRecallRow,
    ItemRow,
    MerchantRow,
    OrderEventRow,
    OrderItemRow,
    OrderRow,
    ReportOutcomeRow,
    ReportRow,
)
from app.index.queries import index_position, merchant_status
from app.index.runtime import IndexRuntime
from app.shop.metadata_check import check_metadata
from app.shop.models import ManifestItem
from app.shop.reads import chain_ref, seller_record, status_name, utc
from app.shop.schemas import (
    BatchPublic,
    CustodyEventPublic,
    FlagPublic,
    ItemVerdictPublic,
    MerchantSummaryPublic,
    MetadataCheck,
    MetadataPublic,
    RecallPublic,
    RegistrationPublic,
    SalePublic,
    Source,
    VerdictName,
    VerdictReason,
)

EXPLANATIONS = {
    VerdictReason.AUTHENTIC: "Registered on chain by an active, verified merchant; "
    "not flagged and not recalled.",
    VerdictReason.UNKNOWN: "No verified merchant registered this item on chain.",
    VerdictReason.MERCHANT_SUSPENDED: "The merchant that registered this item is suspended.",
    VerdictReason.FLAGGED: "A verifier confirmed a report against this item.",
    VerdictReason.RECALLED: "The merchant recalled this item.",
    VerdictReason.BATCH_RECALLED: "The merchant recalled the batch this item belongs to.",
}
VERDICT_OF_REASON = {
    VerdictReason.AUTHENTIC: VerdictName.AUTHENTIC,
    VerdictReason.UNKNOWN: VerdictName.UNKNOWN,
    VerdictReason.MERCHANT_SUSPENDED: VerdictName.MERCHANT_SUSPENDED,
    VerdictReason.FLAGGED: VerdictName.FLAGGED,
    VerdictReason.RECALLED: VerdictName.RECALLED,
    VerdictReason.BATCH_RECALLED: VerdictName.RECALLED,
}


def item_id_hex(item_id: bytes | str) -> str:
    """An item id as the index keys it: lowercase 0x hex of 32 bytes."""
    raw = item_id if isinstance(item_id, bytes) else bytes.fromhex(item_id.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError("an item id is 32 bytes")
    return "0x" + raw.hex()


def item_verdict(
    index: IndexRuntime, session: Session, item_id: bytes | str, *, fresh: bool = False
) -> ItemVerdictPublic:
    """The verdict on one item with its merchant, metadata check, custody trail, batch proof and
    sale record. From the index, or with ``fresh`` from the chain's contract views and logs (the
    published manifests, which are off-chain, still come from the database).

    Never raises for an unknown item: the verdict says ``unknown`` (see ``.known``). Raises
    ``app.index.chain.ChainUnavailable`` when ``fresh`` and the node does not answer.
    """
    key = item_id_hex(item_id)
    if fresh:
        from app.shop.fresh import chain_item_verdict

        return chain_item_verdict(index, session, key)
    return indexed_item_verdict(session, key, index.settings.metadata_fetch_hosts)


def judge(
    *,
    item_recalled: bool,
    batch_recalled: bool,
    flagged: bool,
    merchant: str | None,
    status: MerchantStatus,
) -> VerdictReason:
    """The registry's verdict rules, in its order."""
    if item_recalled:
        return VerdictReason.RECALLED
    if batch_recalled:
        return VerdictReason.BATCH_RECALLED
    if flagged:
        return VerdictReason.FLAGGED
    if merchant is None:
        return VerdictReason.UNKNOWN
    if status is not MerchantStatus.ACTIVE:
        return VerdictReason.MERCHANT_SUSPENDED
    return VerdictReason.AUTHENTIC


def indexed_item_verdict(
    session: Session, item_id: str, metadata_hosts: list[str]
) -> ItemVerdictPublic:
    item = session.get(ItemRow, item_id)
    manifest_entry, batch = _batch_of(session, item_id, item)
    batch_recall = session.get(BatchRecallRow, batch.root) if batch is not None else None
    item_recall = session.get(ItemRecallRow, item_id)
    flags = session.scalars(
        select(ItemFlagRow)
        .where(ItemFlagRow.item_id == item_id)
        .order_by(ItemFlagRow.block_number, ItemFlagRow.log_index)
    ).all()
    open_reports = (
        session.scalar(
            select(func.count())
            .select_from(ReportRow)
            .outerjoin(ReportOutcomeRow, ReportOutcomeRow.report_id == ReportRow.report_id)
            .where(ReportRow.item_id == item_id, ReportOutcomeRow.report_id.is_(None))
        )
        or 0
    )
    merchant_address = (
        item.merchant if item is not None else batch.merchant if batch is not None else None
    )
    merchant_row = session.get(MerchantRow, merchant_address) if merchant_address else None
    status = merchant_status(session, merchant_row)
    reason = judge(
        item_recalled=item_recall is not None,
        batch_recalled=batch_recall is not None,
        flagged=bool(flags),
        merchant=merchant_address,
        status=status,
    )
    position = index_position(session)
    return ItemVerdictPublic(
        item_id=item_id,
        authentic=reason is VerdictReason.AUTHENTIC,
        verdict=VERDICT_OF_REASON[reason],
        reason=reason,
        explanation=EXPLANATIONS[reason],
        source=Source.INDEX,
        as_of_block=position.last_block if position else None,
        merchant=(
            MerchantSummaryPublic(
                address=merchant_address,
                name=merchant_row.name if merchant_row is not None else None,
                status=status_name(status),
                seller_record=seller_record(session, merchant_address),
            )
            if merchant_address
            else None
        ),
        metadata=_metadata(session, item, manifest_entry, metadata_hosts),
        registration=(
            RegistrationPublic(
                **chain_ref(item).model_dump(), kind="batch" if item.batch_root else "single"
            )
            if item is not None
            else None
        ),
        batch=_batch_public(item, manifest_entry, batch, batch_recall),
        custody=_custody(session, item_id),
        flags=[
            FlagPublic(**chain_ref(flag).model_dump(), report_id=flag.report_id) for flag in flags
        ],
        recall=_recall(item_recall, batch_recall),
        open_reports=open_reports,
        sales=_sales(session, item_id),
    )


def _batch_of(
    session: Session, item_id: str, item: ItemRow | None
) -> tuple[ManifestItem | None, BatchRow | None]:
    """The item's batch: the one it was activated from, else one whose published manifest
    lists it (and which the index has)."""
    if item is not None and item.batch_root is not None:
        batch = session.get(BatchRow, item.batch_root)
        return session.get(ManifestItem, (item.batch_root, item_id)), batch
    if item is not None:
        return None, None
    for entry in session.scalars(
        select(ManifestItem).where(ManifestItem.item_id == item_id).order_by(ManifestItem.root)
    ):
        batch = session.get(BatchRow, entry.root)
        if batch is not None:
            return entry, batch
    return None, None


def _metadata(
    session: Session,
    item: ItemRow | None,
    entry: ManifestItem | None,
    hosts: list[str],
    *,
    refresh: bool = False,
) -> MetadataPublic | None:
    if item is not None and item.metadata_uri is not None:
        return check_metadata(
            session, item.metadata_uri, item.metadata_hash, hosts, refresh=refresh
        )
    if entry is not None:
        return check_metadata(
            session, entry.metadata_uri, entry.metadata_hash, hosts, refresh=refresh
        )
    if item is not None:
        return MetadataPublic(uri=None, hash=item.metadata_hash, check=MetadataCheck.UNCHECKED)
    return None


def _batch_public(
    item: ItemRow | None,
    entry: ManifestItem | None,
    batch: BatchRow | None,
    recall: BatchRecallRow | None,
) -> BatchPublic | None:
    if batch is None:
        return None
    proof = json.loads(entry.proof) if entry is not None else None
    verified = (
        verify_proof(
            bytes.fromhex(batch.root[2:]),
            BatchLeaf(bytes.fromhex(entry.item_id[2:]), bytes.fromhex(entry.metadata_hash[2:])),
            [bytes.fromhex(node[2:]) for node in proof or []],
        )
        if entry is not None
        else None
    )
    return BatchPublic(
        root=batch.root,
        item_count=batch.item_count,
        recalled=recall is not None,
        activated=item is not None,
        metadata_hash=entry.metadata_hash if entry else item.metadata_hash if item else None,
        leaf=entry.leaf if entry is not None else None,
        proof=proof,
        proof_verified=verified,
        registration=chain_ref(batch),
    )


def _custody(session: Session, item_id: str) -> list[CustodyEventPublic]:
    rows = session.scalars(
        select(CustodyRow)
        .where(CustodyRow.item_id == item_id)
        .order_by(CustodyRow.block_number, CustodyRow.log_index)
    ).all()
    return [
        CustodyEventPublic(
            **chain_ref(row).model_dump(),
            action=action_name(row.action),
            occurred_at=utc(row.occurred_at),
            submitter=row.submitter,
            event_id=row.event_id,
            location_hash=row.location_hash,
            context_hash=row.context_hash,
        )
        for row in rows
    ]


def action_name(action: int) -> str:
    try:
        return CustodyAction(action).name.lower()
    except ValueError:
        return f"action_{action}"


def _recall(item: ItemRecallRow | None, batch: BatchRecallRow | None) -> RecallPublic | None:
    if item is not None:
        return RecallPublic(
            **chain_ref(item).model_dump(), scope="item", reason_hash=item.reason_hash
        )
    if batch is not None:
        return RecallPublic(
            **chain_ref(batch).model_dump(), scope="batch", reason_hash=batch.reason_hash
        )
    return None


def _sales(session: Session, item_id: str) -> list[SalePublic]:
    orders = session.scalars(
        select(OrderRow)
        .join(OrderItemRow, OrderItemRow.order_id == OrderRow.order_id)
        .where(OrderItemRow.item_id == item_id)
        .order_by(OrderRow.block_number, OrderRow.log_index)
    ).all()
    sales = []
    for order in orders:
        position = session.scalar(
            select(OrderItemRow.position).where(
                OrderItemRow.order_id == order.order_id, OrderItemRow.item_id == item_id
            )
        )
        last = session.scalars(
            select(OrderEventRow)
            .where(OrderEventRow.order_id == order.order_id)
            .order_by(OrderEventRow.block_number.desc(), OrderEventRow.log_index.desc())
            .limit(1)
        ).first()
        status = OrderStatus(last.status) if last is not None else OrderStatus.FUNDED
        released_items = last.released_items if last is not None else 0
        sales.append(
            SalePublic(
                order_id=order.order_id,
                status=status.name.lower(),
                buyer=order.buyer,
                token=order.token,
                amount=order.amount,
                released=bool(position is not None and released_items >> position & 1),
                opened=chain_ref(order),
            )
        )
    return sales
