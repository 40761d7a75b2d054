"""The chain as a source of an item's facts (``app.shop.facts``), for ``?fresh=true``.

Every contract view is called at one block (the head when the request came in) and every log is
read up to that block, so the facts are one consistent snapshot. Published manifests (off-chain
data) still come from the database: they carry the proof, and the item key ``verifyBatchItem``
is asked whether the batch speaks for the item.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.abi_types import address_topic
from app.domain.ids import gs1_company_prefixes
from app.domain.orders import ZERO_ADDRESS
from app.domain.roles import VERIFIER_ROLE
from app.domain.vocab import MerchantStatus, ReportStatus, Verdict
from app.index.handlers import hex32
from app.shop.chain_orders import chain_sales, chain_seller_counts
from app.shop.chain_snapshot import ChainSnapshot, Event, field_of
from app.shop.facts import (
    BatchFacts,
    Custody,
    Flag,
    ItemFacts,
    ItemRecord,
    ManifestEntry,
    MerchantFacts,
    Reassignment,
    Recall,
    Registration,
)
from app.shop.models import ManifestItem, PublishedManifest
from app.shop.schemas import Source

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


def chain_facts(
    chain: ChainSnapshot, session: Session, item_id: str, gtin: str | None = None
) -> ItemFacts:
    """What the chain says of ``item_id`` (lowercase 0x hex) at ``chain.block``; asked by
    ``gtin`` (the item's, from a GS1 link), also the unpublished batches it may lie in if nothing
    speaks for it."""
    key = bytes.fromhex(item_id[2:])
    registry = chain.registry
    events = chain.logs(registry, ITEM_EVENTS, key)
    reports = chain.logs(registry, ["ReportFiled"], None, key)
    chain.load_times(events)
    named = {name: [e for e in events if e.name == name] for name in ITEM_EVENTS}
    registrations = [e for e in events if e.name in {"ItemRegistered", "BatchItemActivated"}]
    registration = _registration(chain, registrations[-1]) if registrations else None
    reassignments = [
        Reassignment(
            chain.ref(e),
            str(e.args["from"]),
            None if e.args["to"] == ZERO_ADDRESS else str(e.args["to"]),
            hex32(e.args["reasonHash"]),
        )
        for e in named["ItemReassigned"]
    ]
    record = ItemRecord.resolve(registration, reassignments)
    batch = _batch(chain, session, item_id, record)
    merchant_address = record.merchant or (batch.merchant if batch is not None else None)
    holds = [e for e in events if e.name in {"ItemHeld", "ItemFreed"}]
    carried = None
    if record.left_root is not None:
        left = chain.logs(registry, ["BatchRecalled"], bytes.fromhex(record.left_root[2:]))
        chain.load_times(left)
        carried = record.carried(
            Recall(chain.ref(left[0]), hex32(left[0].args["reasonHash"])) if left else None
        )
    return ItemFacts(
        item_id=item_id,
        source=Source.CHAIN,
        as_of_block=chain.block,
        record=record,
        batch=batch,
        merchant=_merchant(chain, merchant_address) if merchant_address is not None else None,
        recalls=[Recall(chain.ref(e), hex32(e.args["reasonHash"])) for e in named["ItemRecalled"]],
        flags=[Flag(chain.ref(e), int(e.args["reportId"])) for e in named["ItemFlagged"]],
        open_reports=_open_verifier_reports(chain, reports),
        custody=[
            Custody(
                chain.ref(e),
                int(e.args["action"]),
                int(e.args["occurredAt"]),
                str(e.args["submitter"]),
                str(int(e.args["eventId"])),
                hex32(e.args["locationHash"]),
                hex32(e.args["contextHash"]),
            )
            for e in named["CustodyRecorded"]
        ],
        sales=chain_sales(chain, item_id, [hex32(e.args["orderId"]) for e in named["ItemHeld"]]),
        held_by=hex32(holds[-1].args["orderId"])
        if holds and holds[-1].name == "ItemHeld"
        else None,
        carried_recall=carried,
        unpublished_batches=_unpublished_batches(chain, session, gtin)
        if gtin is not None and merchant_address is None
        else 0,
    )


def _registration(chain: ChainSnapshot, event: Event) -> Registration:
    if event.name == "ItemRegistered":
        return Registration(
            chain.ref(event),
            str(event.args["merchant"]),
            hex32(event.args["metadataHash"]),
            str(event.args["metadataURI"]),
            None,
        )
    root = hex32(event.args["root"])
    batch = chain.call(chain.registry.functions.batchOf(bytes.fromhex(root[2:])))
    return Registration(
        chain.ref(event),
        str(field_of(batch, 0, "merchant")),
        hex32(event.args["metadataHash"]),
        None,
        root,
    )


def _batch(
    chain: ChainSnapshot, session: Session, item_id: str, record: ItemRecord
) -> BatchFacts | None:
    """The batch the item was activated from (unless a verifier moved it out), else one on chain
    whose published manifest lists it and for which ``verifyBatchItem`` knows it (not Unknown:
    the manifest's key is the batch merchant's)."""
    registry = chain.registry
    root = record.root
    entry: ManifestItem | None = None
    if root is not None:
        entry = session.get(ManifestItem, (root, item_id))
    elif record.registration is None:
        for candidate in session.scalars(
            select(ManifestItem).where(ManifestItem.item_id == item_id).order_by(ManifestItem.root)
        ):
            item_key = candidate.key()
            on_chain = chain.call(registry.functions.batchOf(bytes.fromhex(candidate.root[2:])))
            if item_key is None or field_of(on_chain, 0, "merchant") == ZERO_ADDRESS:
                continue
            verdict = chain.call(
                registry.functions.verifyBatchItem(
                    bytes.fromhex(candidate.root[2:]),
                    item_key,
                    bytes.fromhex(candidate.metadata_hash[2:]),
                    [bytes.fromhex(node[2:]) for node in json.loads(candidate.proof)],
                )
            )
            if Verdict(verdict) is not Verdict.UNKNOWN:
                root, entry = candidate.root, candidate
                break
    if root is None:
        return None
    key = bytes.fromhex(root[2:])
    on_chain = chain.call(registry.functions.batchOf(key))
    if field_of(on_chain, 0, "merchant") == ZERO_ADDRESS:
        return None
    events = chain.logs(registry, ["BatchRegistered", "BatchRecalled"], key)
    chain.load_times(events)
    registered = next((e for e in events if e.name == "BatchRegistered"), None)
    recall = next((e for e in events if e.name == "BatchRecalled"), None)
    return BatchFacts(
        root=root,
        merchant=str(field_of(on_chain, 0, "merchant")),
        item_count=int(field_of(on_chain, 2, "itemCount")),
        registered=chain.ref(registered) if registered is not None else None,
        recall=Recall(chain.ref(recall), hex32(recall.args["reasonHash"])) if recall else None,
        entry=ManifestEntry(
            entry.root,
            entry.metadata_hash,
            entry.metadata_uri,
            entry.leaf,
            json.loads(entry.proof),
        )
        if entry is not None
        else None,
    )


def _merchant(chain: ChainSnapshot, address: str) -> MerchantFacts:
    record = chain.call(chain.registry.functions.merchantOf(address))
    status = MerchantStatus(field_of(record, 0, "status"))
    name = (
        str(field_of(record, MERCHANT_NAME, "name")) if status is not MerchantStatus.NONE else None
    )
    return MerchantFacts(address, name, status, chain_seller_counts(chain, address))


def _unpublished_batches(chain: ChainSnapshot, session: Session, gtin: str) -> int:
    """The batches the holder of ``gtin``'s company prefix registered without a published item
    list (as ``app.shop.index_facts`` counts them from the index)."""
    registry = chain.registry
    holders = {
        str(chain.call(registry.functions.gs1PrefixHolder(prefix)))
        for prefix in gs1_company_prefixes(gtin)
    } - {ZERO_ADDRESS}
    if not holders:
        return 0
    merchant_topics = ["0x" + bytes.fromhex(h[2:]).rjust(32, b"\0").hex() for h in holders]
    roots = {
        hex32(event.args["root"])
        for event in chain.logs(registry, ["BatchRegistered"], None, merchant_topics)
    }
    published = set(
        session.scalars(select(PublishedManifest.root).where(PublishedManifest.root.in_(roots)))
    )
    return len(roots - published)


def _open_verifier_reports(chain: ChainSnapshot, reports: list[Event]) -> int:
    """The open reports among ``reports`` that a verifier filed: the latest grant or revocation
    of VERIFIER_ROLE to the reporter before the report is a grant (``app.shop.verifier_reports``'
    rule, read from the registry's logs)."""
    registry = chain.registry
    count = 0
    roles_of: dict[str, list[Event]] = {}  # a reporter's grants and revocations, read once
    for report in reports:
        status = field_of(
            chain.call(registry.functions.reportOf(report.args["reportId"])), 4, "status"
        )
        if status != ReportStatus.OPEN:
            continue
        reporter = str(report.args["reporter"])
        if reporter not in roles_of:
            roles_of[reporter] = chain.logs(
                registry, ["RoleGranted", "RoleRevoked"], VERIFIER_ROLE, address_topic(reporter)
            )
        roles = roles_of[reporter]
        position = (report.block_number, report.log_index)
        before = [e for e in roles if (e.block_number, e.log_index) < position]
        count += bool(before) and before[-1].name == "RoleGranted"
    return count
