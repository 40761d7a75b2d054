"""The index as a source of an item's facts (``app.shop.facts``): a handful of portable SQL
queries on one DB-API connection (``app.shop.verdict_sql``), because this is the shopper's hot
path. The first query also counts what else the index holds of the item, so the further queries
run only when they have something to find."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from app.domain.ids import gs1_company_prefixes
from app.domain.orders import ZERO_ADDRESS
from app.domain.vocab import IdScheme, MerchantStatus, OrderStatus
from app.index.sql import Connection, DriverQuery
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
    Ref,
    Registration,
    Sale,
)
from app.shop.schemas import Source
from app.shop.seller_record import seller_counts
from app.shop.verdict_sql import (
    MERCHANT_WIDTH,
    PREFIX_PARAMS,
    Q_BATCH,
    Q_BATCH_RECALL,
    Q_CUSTODY,
    Q_FLAGS,
    Q_GS1_PREFIXES,
    Q_ITEM,
    Q_ITEM_RECALLS,
    Q_MANIFEST_ENTRIES,
    Q_MERCHANT,
    Q_REASSIGNMENTS,
    Q_SALES,
    Q_UNPUBLISHED_BATCHES,
)

Row = Sequence[Any]


class IndexReader:
    """The index as one request reads it, on one DB-API connection."""

    def __init__(self, connection: Connection, paramstyle: str) -> None:
        self.connection = connection
        self.paramstyle = paramstyle

    def rows(self, query: DriverQuery, **params: Any) -> Sequence[Row]:
        return query.rows(self.connection, self.paramstyle, **params)

    def first(self, query: DriverQuery, **params: Any) -> Row | None:
        return query.first(self.connection, self.paramstyle, **params)


def _ref(row: Row, at: int) -> Ref:
    """A ref from ``tx_hash, block_number, log_index, block_time`` at column ``at``."""
    return Ref(row[at], row[at + 1], row[at + 2], row[at + 3])


def index_facts(reader: IndexReader, item_id: str, gtin: str | None = None) -> ItemFacts:
    """What the index holds of ``item_id`` (lowercase 0x hex); asked by ``gtin`` (the item's,
    from a GS1 link), also the unpublished batches it may lie in if nothing speaks for it."""
    found = reader.first(Q_ITEM, item=item_id)
    assert found is not None  # one row, whether or not the index has the item
    as_of_block, recall_count, flag_count, open_reports, manifest_count, order_count = found[8:14]
    reassign_count, held_by = found[14 + MERCHANT_WIDTH :]
    registration = (
        Registration(_ref(found, 4), found[0], found[1], found[2], found[3])
        if found[0] is not None
        else None
    )
    reassignments = (
        [
            Reassignment(_ref(row, 3), row[0], None if row[1] == ZERO_ADDRESS else row[1], row[2])
            for row in reader.rows(Q_REASSIGNMENTS, item=item_id)
        ]
        if reassign_count
        else []
    )
    record = ItemRecord.resolve(registration, reassignments)
    batch = _batch(reader, item_id, record, manifest_count)
    carried = None
    if record.left_root is not None:
        left = reader.first(Q_BATCH_RECALL, root=record.left_root)
        carried = record.carried(Recall(_ref(left, 1), left[0]) if left is not None else None)

    merchant_address = record.merchant
    merchant_columns: Row | None = None
    if merchant_address is not None and merchant_address == found[0]:
        merchant_columns = found[14 : 14 + MERCHANT_WIDTH]
    elif merchant_address is None and batch is not None:
        merchant_address = batch.merchant
    if merchant_address is not None and merchant_columns is None:
        merchant_columns = reader.first(Q_MERCHANT, merchant=merchant_address)
    merchant = None
    if merchant_address is not None and merchant_columns is not None:
        name, latest_status, *counts = merchant_columns
        status = MerchantStatus.NONE
        if name is not None:
            status = MerchantStatus(latest_status or MerchantStatus.ACTIVE)
        merchant = MerchantFacts(merchant_address, name, status, seller_counts(counts))

    return ItemFacts(
        item_id=item_id,
        source=Source.INDEX,
        as_of_block=as_of_block,
        record=record,
        batch=batch,
        merchant=merchant,
        recalls=[Recall(_ref(row, 1), row[0]) for row in reader.rows(Q_ITEM_RECALLS, item=item_id)]
        if recall_count
        else (),
        flags=[Flag(_ref(row, 1), row[0]) for row in reader.rows(Q_FLAGS, item=item_id)]
        if flag_count
        else (),
        open_reports=open_reports,
        custody=[
            Custody(_ref(row, 6), row[0], row[1], row[2], str(row[3]), row[4], row[5])
            for row in reader.rows(Q_CUSTODY, item=item_id)
        ],
        sales=[
            Sale(
                order_id=row[0],
                status=OrderStatus(row[9] if row[9] is not None else OrderStatus.FUNDED),
                buyer=row[1],
                token=row[2],
                amount=int(row[3]),
                released=bool((row[10] or 0) >> row[4] & 1),
                opened=_ref(row, 5),
            )
            for row in reader.rows(Q_SALES, item=item_id)
        ]
        if order_count
        else (),
        held_by=held_by,
        carried_recall=carried,
        unpublished_batches=_unpublished_batches(reader, gtin)
        if gtin is not None and merchant_address is None
        else 0,
    )


def _batch(
    reader: IndexReader, item_id: str, record: ItemRecord, manifest_count: int
) -> BatchFacts | None:
    """The batch that speaks for the item: the one it was activated from (unless a verifier moved
    it out), else one the index has whose published manifest lists it under the batch merchant's
    key (``verifyBatchItem``'s test)."""
    root = record.root
    listed: Row | None = None
    entry: Row | None = None
    if root is not None:
        listed = reader.first(Q_BATCH, root=root)
        if manifest_count:
            entry = next(
                (e for e in reader.rows(Q_MANIFEST_ENTRIES, item=item_id) if e[0] == root), None
            )
    elif record.registration is None and manifest_count:
        for candidate in reader.rows(Q_MANIFEST_ENTRIES, item=item_id):
            found = reader.first(Q_BATCH, root=candidate[0])
            if found is not None and _batch_owns(reader, found[0], candidate):
                root, listed, entry = candidate[0], found, candidate
                break
    if root is None or listed is None:
        return None
    recall = reader.first(Q_BATCH_RECALL, root=root)
    return BatchFacts(
        root=root,
        merchant=listed[0],
        item_count=listed[1],
        registered=_ref(listed, 2),
        recall=Recall(_ref(recall, 1), recall[0]) if recall is not None else None,
        entry=ManifestEntry(entry[0], entry[1], entry[2], entry[3], json.loads(entry[4]))
        if entry is not None
        else None,
    )


def _batch_owns(reader: IndexReader, merchant: str, entry: Row) -> bool:
    """Whether a manifest entry's key is the batch merchant's, as ``verifyBatchItem`` checks it:
    always for a SKU (publication checked the id is derived under the merchant), for a GTIN only
    while the merchant holds one of its company prefixes. An entry without a key (published
    before keys) cannot be checked by the registry, so it speaks for nothing."""
    scheme, code = entry[5], entry[6]
    if scheme is None or code is None:
        return False
    if scheme != IdScheme.GS1:
        return True
    return merchant in _gs1_holders(reader, code)


def _gs1_holders(reader: IndexReader, gtin: str) -> set[str]:
    """The merchants holding a company prefix ``gtin`` lies under now (grants never nest: one
    at most)."""
    holders: dict[str, str | None] = {}
    params = dict(zip(PREFIX_PARAMS, gs1_company_prefixes(gtin), strict=True))
    for prefix, holder, granted in reader.rows(Q_GS1_PREFIXES, **params):
        holders[prefix] = holder if granted else None
    return {holder for holder in holders.values() if holder is not None}


def _unpublished_batches(reader: IndexReader, gtin: str) -> int:
    """The batches the holder of ``gtin``'s company prefix registered without a published item
    list: the only batches a GS1 item nothing speaks for may still turn out to be in (the
    registry takes a batch's GS1 item only under its merchant's prefix)."""
    holders = _gs1_holders(reader, gtin)
    counts = (reader.first(Q_UNPUBLISHED_BATCHES, merchant=holder) for holder in holders)
    return sum(int(found[0]) for found in counts if found is not None)
