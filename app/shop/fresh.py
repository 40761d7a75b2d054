"""``?fresh=true``: an item's verdict read from the chain itself, not the index.

Every contract view is called at one block (the head when the request came in) and every log is
read up to that block, so the answer is one consistent snapshot. Published manifests (off-chain
data) still come from the database: they carry the proof and the item key ``verifyBatchItem`` is
called with. The rules follow ``app.shop.verdicts`` (the index's path): a change to one is made
to the other.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.merkle import BatchLeaf, verify_proof
from app.domain.vocab import CustodyAction, MerchantStatus, ReportStatus, Verdict
from app.index.chain import RPC_ERRORS, ChainUnavailable
from app.index.handlers import hex32
from app.index.runtime import IndexRuntime
from app.shop.chain_snapshot import ZERO_ADDRESS, ChainSnapshot, Event, field_of
from app.shop.fresh_orders import chain_sales, chain_seller_record
from app.shop.metadata_check import check_metadata
from app.shop.models import ManifestItem
from app.shop.reads import status_name, utc
from app.shop.schemas import (
    BatchPublic,
    ChainRefPublic,
    CustodyEventPublic,
    FlagPublic,
    ItemVerdictPublic,
    MerchantSummaryPublic,
    MetadataCheck,
    MetadataPublic,
    ReassignmentPublic,
    RecallPublic,
    RegistrationPublic,
    Source,
    VerdictReason,
)
from app.shop.verdicts import EXPLANATIONS, VERDICT_OF_REASON, action_name

# IProductRegistry.Merchant: status, approvedAt, gs1PrefixLengths, identityHash, name.
MERCHANT_NAME = 4
ITEM_EVENTS = [
    "ItemRegistered",
    "BatchItemActivated",
    "CustodyRecorded",
    "ItemFlagged",
    "ItemRecalled",
    "ItemReassigned",
    "ItemHeld",
    "ItemFreed",
]
REASON_OF_VERDICT = {
    Verdict.AUTHENTIC: VerdictReason.AUTHENTIC,
    Verdict.UNKNOWN: VerdictReason.UNKNOWN,
    Verdict.MERCHANT_SUSPENDED: VerdictReason.MERCHANT_SUSPENDED,
    Verdict.FLAGGED: VerdictReason.FLAGGED,
    Verdict.RECALLED: VerdictReason.RECALLED,
}


def chain_item_verdict(index: IndexRuntime, session: Session, item_id: str) -> ItemVerdictPublic:
    try:
        return _chain_item_verdict(index, session, item_id)
    except RPC_ERRORS as error:
        raise ChainUnavailable(f"reading item {item_id} from the chain: {error}") from error


def _chain_item_verdict(index: IndexRuntime, session: Session, item_id: str) -> ItemVerdictPublic:
    chain = ChainSnapshot(index)
    key = bytes.fromhex(item_id[2:])
    registry = chain.registry
    verdict = Verdict(chain.call(registry.functions.verify(key)))
    merchant_address = field_of(chain.call(registry.functions.itemOf(key)), 0, "merchant")
    item_events = chain.logs(registry, ITEM_EVENTS, key)
    # A verifier's revocation deletes the record and its state: only what came after counts. A
    # move to another merchant keeps the state but takes the item out of its batch.
    reassigns = [e for e in item_events if e.name == "ItemReassigned"]
    revoked = [e for e in reassigns if e.args["to"] == ZERO_ADDRESS]
    since = _position(revoked[-1]) if revoked else (-1, -1)
    current = [e for e in item_events if _position(e) > since]
    registration = next(
        (e for e in reversed(current) if e.name in {"ItemRegistered", "BatchItemActivated"}), None
    )
    moved = registration is not None and any(
        _position(e) > _position(registration) for e in reassigns
    )
    registered = registration if registration and registration.name == "ItemRegistered" else None
    activated = registration if registration and registration.name != "ItemRegistered" else None
    custody = [e for e in item_events if e.name == "CustodyRecorded"]
    flags = [e for e in current if e.name == "ItemFlagged"]
    recall = next((e for e in reversed(current) if e.name == "ItemRecalled"), None)
    holds = [e for e in item_events if e.name in {"ItemHeld", "ItemFreed"}]
    held_by = hex32(holds[-1].args["orderId"]) if holds and holds[-1].name == "ItemHeld" else None

    # The batch: the one the item was activated from (unless moved out of it), else a published
    # manifest's on chain, judged by verifyBatchItem with the item's key from the manifest.
    entry: ManifestItem | None = None
    root: str | None = hex32(activated.args["root"]) if activated and not moved else None
    if root is not None:
        entry = session.get(ManifestItem, (root, item_id))
    elif registration is None:
        for candidate in session.scalars(
            select(ManifestItem).where(ManifestItem.item_id == item_id).order_by(ManifestItem.root)
        ):
            item_key = candidate.key()
            record = chain.call(registry.functions.batchOf(bytes.fromhex(candidate.root[2:])))
            if item_key is None or field_of(record, 0, "merchant") == ZERO_ADDRESS:
                continue
            batch_verdict = Verdict(
                chain.call(
                    registry.functions.verifyBatchItem(
                        bytes.fromhex(candidate.root[2:]),
                        item_key,
                        bytes.fromhex(candidate.metadata_hash[2:]),
                        [bytes.fromhex(node[2:]) for node in json.loads(candidate.proof)],
                    )
                )
            )
            # Unknown: the key is not the batch merchant's (a GTIN outside its prefixes).
            if batch_verdict is not Verdict.UNKNOWN:
                entry, root, verdict = candidate, candidate.root, batch_verdict
                break
    batch_record = chain.call(registry.functions.batchOf(bytes.fromhex(root[2:]))) if root else None
    batch_merchant = field_of(batch_record, 0, "merchant") if batch_record else None
    batch_events = (
        chain.logs(registry, ["BatchRegistered", "BatchRecalled"], bytes.fromhex(root[2:]))
        if root
        else []
    )
    batch_registered = next((e for e in batch_events if e.name == "BatchRegistered"), None)
    batch_recall = next((e for e in batch_events if e.name == "BatchRecalled"), None)

    if merchant_address == ZERO_ADDRESS:
        merchant_address = batch_merchant if entry is not None else None
    reports = chain.logs(registry, ["ReportFiled"], None, key)
    open_reports = sum(
        1
        for report in reports
        if field_of(chain.call(registry.functions.reportOf(report.args["reportId"])), 4, "status")
        == ReportStatus.OPEN
    )
    reason = REASON_OF_VERDICT[verdict]
    if reason is VerdictReason.RECALLED and recall is None and batch_recall is not None:
        reason = VerdictReason.BATCH_RECALLED

    sold = [
        e
        for e in custody
        if chain.escrow is not None
        and e.args["action"] == CustodyAction.SOLD
        and e.args["submitter"] == chain.escrow.address
    ]
    sales, sale_events = chain_sales(chain, item_id, [hex32(e.args["contextHash"]) for e in sold])
    chain.load_times([*item_events, *batch_events, *sale_events])

    merchant = None
    if merchant_address is not None:
        record = chain.call(registry.functions.merchantOf(merchant_address))
        status = MerchantStatus(field_of(record, 0, "status"))
        merchant = MerchantSummaryPublic(
            address=str(merchant_address),
            name=(
                str(field_of(record, MERCHANT_NAME, "name"))
                if status is not MerchantStatus.NONE
                else None
            ),
            status=status_name(status),
            seller_record=chain_seller_record(chain, str(merchant_address)),
        )

    hosts = index.settings.metadata_fetch_hosts
    metadata: MetadataPublic | None = None
    if registered is not None:
        metadata = check_metadata(
            session,
            str(registered.args["metadataURI"]),
            hex32(registered.args["metadataHash"]),
            hosts,
            refresh=True,
        )
    elif entry is not None:
        metadata = check_metadata(
            session, entry.metadata_uri, entry.metadata_hash, hosts, refresh=True
        )
    elif activated is not None:
        metadata = MetadataPublic(
            uri=None, hash=hex32(activated.args["metadataHash"]), check=MetadataCheck.UNCHECKED
        )

    registration_event = registered or activated
    batch = None
    if root is not None and batch_record is not None:
        proof = json.loads(entry.proof) if entry is not None else None
        leaf_hash = (
            entry.metadata_hash
            if entry is not None
            else hex32(activated.args["metadataHash"])
            if activated
            else None
        )
        batch = BatchPublic(
            root=root,
            item_count=int(field_of(batch_record, 2, "itemCount")),
            recalled=bool(field_of(batch_record, 3, "recalled")),
            activated=activated is not None,
            metadata_hash=leaf_hash,
            leaf=entry.leaf if entry is not None else None,
            proof=proof,
            proof_verified=(
                verify_proof(
                    bytes.fromhex(root[2:]),
                    BatchLeaf(key, bytes.fromhex(entry.metadata_hash[2:])),
                    [bytes.fromhex(node[2:]) for node in proof or []],
                )
                if entry is not None
                else None
            ),
            registration=ChainRefPublic(**chain.ref(batch_registered))
            if batch_registered
            else None,
        )
    return ItemVerdictPublic(
        item_id=item_id,
        authentic=reason is VerdictReason.AUTHENTIC,
        verdict=VERDICT_OF_REASON[reason],
        reason=reason,
        explanation=EXPLANATIONS[reason],
        source=Source.CHAIN,
        as_of_block=chain.block,
        merchant=merchant,
        metadata=metadata,
        registration=(
            RegistrationPublic(
                **chain.ref(registration_event), kind="single" if registered else "batch"
            )
            if registration_event is not None
            else None
        ),
        batch=batch,
        custody=[
            CustodyEventPublic(
                **chain.ref(e),
                action=action_name(int(e.args["action"])),
                occurred_at=utc(int(e.args["occurredAt"])),
                submitter=str(e.args["submitter"]),
                event_id=str(int(e.args["eventId"])),
                location_hash=hex32(e.args["locationHash"]),
                context_hash=hex32(e.args["contextHash"]),
            )
            for e in custody
        ],
        flags=[FlagPublic(**chain.ref(e), report_id=int(e.args["reportId"])) for e in flags],
        recall=(
            RecallPublic(
                **chain.ref(recall), scope="item", reason_hash=hex32(recall.args["reasonHash"])
            )
            if recall is not None
            else RecallPublic(
                **chain.ref(batch_recall),
                scope="batch",
                reason_hash=hex32(batch_recall.args["reasonHash"]),
            )
            if batch_recall is not None
            else None
        ),
        open_reports=open_reports,
        sales=sales,
        reassignment=_reassignment(chain, reassigns[-1]) if reassigns else None,
        held_by_order=held_by,
    )


def _position(event: Event) -> tuple[int, int]:
    return (event.block_number, event.log_index)


def _reassignment(chain: ChainSnapshot, event: Event) -> ReassignmentPublic:
    to = str(event.args["to"])
    return ReassignmentPublic(
        **chain.ref(event),
        from_merchant=str(event.args["from"]),
        to=None if to == ZERO_ADDRESS else to,
        reason_hash=hex32(event.args["reasonHash"]),
    )
