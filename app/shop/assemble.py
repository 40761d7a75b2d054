"""The one place an item's answer is made: facts in (``app.shop.facts``, from the index or the
chain), ``ItemVerdictPublic`` out. Pure: no database, no chain, no network.

The verdict follows the registry's own rules (``ProductRegistry.verify`` / ``verifyBatchItem``):
recalled (the item, or its batch) outranks flagged, which outranks unknown, which outranks a
suspended merchant. Only recalls and flags after the latest revocation count (a revocation deletes
the item's state with its record).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from app.domain.merkle import BatchLeaf, verify_proof
from app.domain.vocab import CustodyAction, MerchantStatus, OrderStatus
from app.shop.facts import BatchFacts, ItemFacts, Ref
from app.shop.schemas import (
    BatchPublic,
    ChainRefPublic,
    CustodyEventPublic,
    FlagPublic,
    ItemVerdictPublic,
    MerchantSummaryPublic,
    MetadataPublic,
    ReassignmentPublic,
    RecallPublic,
    RegistrationPublic,
    SalePublic,
    SellerRecordPublic,
    VerdictName,
    VerdictReason,
)
from app.shop.wording import VERDICT_WORDING

VERDICT_OF_REASON = {
    VerdictReason.AUTHENTIC: VerdictName.AUTHENTIC,
    VerdictReason.UNKNOWN: VerdictName.UNKNOWN,
    VerdictReason.MERCHANT_SUSPENDED: VerdictName.MERCHANT_SUSPENDED,
    VerdictReason.FLAGGED: VerdictName.FLAGGED,
    VerdictReason.RECALLED: VerdictName.RECALLED,
    VerdictReason.BATCH_RECALLED: VerdictName.RECALLED,
    VerdictReason.BATCH_UNPUBLISHED: VerdictName.UNKNOWN,
}
# What the metadata check is asked: a URI (None: nothing to fetch) and the on-chain hash.
MetadataClaim = tuple[str | None, str]


def judge(
    *,
    item_recalled: bool,
    batch_recalled: bool,
    flagged: bool,
    merchant: str | None,
    status: MerchantStatus,
    unpublished_batches: bool = False,
) -> VerdictReason:
    """The registry's verdict rules, in its order; an item no merchant speaks for is told apart
    when a batch it may lie in awaits its published item list (the registry says Unknown)."""
    if item_recalled:
        return VerdictReason.RECALLED
    if batch_recalled:
        return VerdictReason.BATCH_RECALLED
    if flagged:
        return VerdictReason.FLAGGED
    if merchant is None:
        return VerdictReason.BATCH_UNPUBLISHED if unpublished_batches else VerdictReason.UNKNOWN
    if status is not MerchantStatus.ACTIVE:
        return VerdictReason.MERCHANT_SUSPENDED
    return VerdictReason.AUTHENTIC


def metadata_claim(facts: ItemFacts) -> MetadataClaim | None:
    """What to check the item's metadata against: its own registration's URI, else its manifest
    entry's, else (an activated item without a published manifest) only its hash."""
    registration = facts.record.registration
    entry = facts.batch.entry if facts.batch is not None else None
    if registration is not None and registration.metadata_uri is not None:
        return (registration.metadata_uri, registration.metadata_hash)
    if entry is not None:
        return (entry.metadata_uri, entry.metadata_hash)
    if registration is not None:
        return (None, registration.metadata_hash)
    return None


def assemble(facts: ItemFacts, metadata: MetadataPublic | None) -> ItemVerdictPublic:
    """The answer from ``facts`` and the result of checking ``metadata_claim(facts)``."""
    record = facts.record
    recalls = record.current(facts.recalls)
    flags = record.current(facts.flags)
    item_recall = recalls[-1] if recalls else None
    batch_recall = facts.batch.recall if facts.batch is not None else facts.carried_recall
    merchant = facts.merchant
    reason = judge(
        item_recalled=item_recall is not None,
        batch_recalled=batch_recall is not None,
        flagged=bool(flags),
        merchant=merchant.address if merchant is not None else None,
        status=merchant.status if merchant is not None else MerchantStatus.NONE,
        unpublished_batches=facts.unpublished_batches > 0,
    )
    registration = record.registration
    latest = record.latest
    return ItemVerdictPublic(
        item_id=facts.item_id,
        authentic=reason is VerdictReason.AUTHENTIC,
        verdict=VERDICT_OF_REASON[reason],
        reason=reason,
        explanation=VERDICT_WORDING[reason].explanation.en,
        source=facts.source,
        as_of_block=facts.as_of_block,
        merchant=(
            MerchantSummaryPublic(
                address=merchant.address,
                name=merchant.name,
                status=status_name(merchant.status),
                seller_record=seller_record_public(merchant.record),
            )
            if merchant is not None
            else None
        ),
        metadata=metadata,
        registration=(
            RegistrationPublic(
                **ref_fields(registration.ref),
                kind="batch" if registration.root is not None else "single",
            )
            if registration is not None
            else None
        ),
        batch=_batch_public(facts, facts.batch) if facts.batch is not None else None,
        custody=[
            CustodyEventPublic(
                **ref_fields(event.ref),
                action=action_name(event.action),
                occurred_at=utc(event.occurred_at),
                submitter=event.submitter,
                event_id=event.event_id,
                location_hash=event.location_hash,
                context_hash=event.context_hash,
            )
            for event in facts.custody
        ],
        flags=[FlagPublic(**ref_fields(flag.ref), report_id=flag.report_id) for flag in flags],
        recall=(
            RecallPublic(
                **ref_fields(item_recall.ref), scope="item", reason_hash=item_recall.reason_hash
            )
            if item_recall is not None
            else RecallPublic(
                **ref_fields(batch_recall.ref), scope="batch", reason_hash=batch_recall.reason_hash
            )
            if batch_recall is not None
            else None
        ),
        open_reports=facts.open_reports,
        sales=[
            SalePublic(
                order_id=sale.order_id,
                status=_ORDER_STATUS_NAMES[sale.status],
                buyer=sale.buyer,
                token=sale.token,
                amount=str(sale.amount),
                released=sale.released,
                opened=ChainRefPublic(**ref_fields(sale.opened)),
            )
            for sale in facts.sales
        ],
        reassignment=(
            ReassignmentPublic(
                **ref_fields(latest.ref),
                from_merchant=latest.from_merchant,
                to=latest.to,
                reason_hash=latest.reason_hash,
            )
            if latest is not None
            else None
        ),
        held_by_order=facts.held_by,
    )


def _batch_public(facts: ItemFacts, batch: BatchFacts) -> BatchPublic:
    entry = batch.entry
    registration = facts.record.registration
    verified = None
    if entry is not None:
        verified = verify_proof(
            bytes.fromhex(batch.root[2:]),
            BatchLeaf(bytes.fromhex(facts.item_id[2:]), bytes.fromhex(entry.metadata_hash[2:])),
            [bytes.fromhex(node[2:]) for node in entry.proof],
        )
    return BatchPublic(
        root=batch.root,
        item_count=batch.item_count,
        recalled=batch.recall is not None,
        activated=registration is not None,
        metadata_hash=(
            entry.metadata_hash
            if entry is not None
            else registration.metadata_hash
            if registration is not None
            else None
        ),
        leaf=entry.leaf if entry is not None else None,
        proof=entry.proof if entry is not None else None,
        proof_verified=verified,
        registration=ChainRefPublic(**ref_fields(batch.registered)) if batch.registered else None,
    )


def seller_record_public(counts: tuple[int, int, int, int, int]) -> SellerRecordPublic:
    total, completed, refunded, disputes, lost = counts
    return SellerRecordPublic(
        orders_total=total,
        orders_completed=completed,
        orders_refunded=refunded,
        disputes_total=disputes,
        disputes_lost=lost,
    )


def ref_fields(ref: Ref) -> dict[str, Any]:
    """``ChainRefPublic``'s fields of ``ref``."""
    return {
        "tx_hash": ref.tx_hash,
        "block_number": ref.block_number,
        "log_index": ref.log_index,
        "time": utc(ref.time) if ref.time is not None else None,
    }


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def status_name(status: MerchantStatus) -> Literal["active", "suspended", "none"]:
    if status is MerchantStatus.ACTIVE:
        return "active"
    if status is MerchantStatus.SUSPENDED:
        return "suspended"
    return "none"


_ORDER_STATUS_NAMES = {status: status.name.lower() for status in OrderStatus}
_ACTION_NAMES = {int(action): action.name.lower() for action in CustodyAction}


def action_name(action: int) -> str:
    """A custody action by name (one the vocabulary does not know yet, by number)."""
    return _ACTION_NAMES.get(action) or f"action_{action}"
