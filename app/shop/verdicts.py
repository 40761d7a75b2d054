"""An item's verdict and everything around it, from the index or (``fresh``) from the chain.

``item_verdict`` is what the JSON API and the shopper's page both call. The verdict follows the
registry's own rules (``ProductRegistry.verify`` / ``verifyBatchItem``): recalled (the item, or its
batch) outranks flagged, which outranks unknown, which outranks a suspended merchant. A batch item
that was never activated on chain is judged through its published manifest's proof and key, as
``verifyBatchItem`` would judge it: a GTIN only while the batch's merchant holds its company
prefix. A verifier's reassignment names the item's merchant, and a revocation leaves it unknown
until the id is registered again (``app.shop.item_record``).

The same rules are assembled twice: here from the index, and in ``app.shop.fresh`` from the chain;
a change to one is made to the other. The index is read with a handful of portable SQL queries
on the DB-API connection (``app.shop.verdict_sql``): this is the shopper's hot path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.domain.errors import TrustMallError
from app.domain.ids import gs1_company_prefixes
from app.domain.merkle import BatchLeaf, verify_proof
from app.domain.vocab import CustodyAction, IdScheme, MerchantStatus, OrderStatus
from app.index.runtime import IndexRuntime
from app.index.sql import Connection, DriverQuery
from app.shop.item_record import ItemRecord
from app.shop.metadata_check import check_metadata, fetch_allowed, result_of
from app.shop.reads import status_name
from app.shop.schemas import (
    BatchPublic,
    ChainRefPublic,
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
from app.shop.seller_record import seller_record_from
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
    Q_METADATA_CHECK,
    Q_REASSIGNMENTS,
    Q_SALES,
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
MetadataResolver = Callable[[str | None, str], MetadataPublic]


class MetadataFetchNeeded(TrustMallError, LookupError):
    """Checking this item's metadata needs a network fetch, which this call may not make."""


class IndexReader:
    """The index as one request reads it, on one DB-API connection."""

    def __init__(self, connection: Connection, paramstyle: str) -> None:
        self.connection = connection
        self.paramstyle = paramstyle

    def rows(self, query: DriverQuery, **params: Any) -> Sequence[Sequence[Any]]:
        return query.rows(self.connection, self.paramstyle, **params)

    def first(self, query: DriverQuery, **params: Any) -> Sequence[Any] | None:
        return query.first(self.connection, self.paramstyle, **params)


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
    ``app.index.chain.ChainUnavailable`` when ``fresh`` and the node does not answer. Blocking
    (database, and the chain or a metadata host): call it from a thread in async code.
    """
    key = item_id_hex(item_id)
    if fresh:
        from app.shop.fresh import chain_item_verdict

        return chain_item_verdict(index, session, key)
    hosts = index.settings.metadata_fetch_hosts

    def resolve(uri: str | None, digest: str) -> MetadataPublic:
        return check_metadata(session, uri, digest, hosts)  # may fetch, and store the result

    return _on_raw_connection(index, key, lambda _reader: resolve)


def cached_metadata_only(reader: IndexReader, hosts: list[str]) -> MetadataResolver:
    """Metadata checks from the stored results only; ``MetadataFetchNeeded`` when a fetch is due."""

    def resolve(uri: str | None, digest: str) -> MetadataPublic:
        if uri is None or not fetch_allowed(uri, hosts):
            return MetadataPublic(uri=uri, hash=digest, check=MetadataCheck.UNCHECKED)
        row = reader.first(Q_METADATA_CHECK, uri=uri, hash=digest)
        stored = result_of(row) if row is not None else None
        if stored is None:
            raise MetadataFetchNeeded(uri)
        return MetadataPublic(uri=uri, hash=digest, check=stored[0], detail=stored[1])

    return resolve


def indexed_verdict_fast(index: IndexRuntime, item_id: str) -> ItemVerdictPublic:
    """The index's verdict, never touching the network: quick enough for the event loop.
    Raises ``MetadataFetchNeeded`` when the answer needs a metadata fetch."""
    hosts = index.settings.metadata_fetch_hosts
    return _on_raw_connection(index, item_id, lambda reader: cached_metadata_only(reader, hosts))


def _on_raw_connection(
    index: IndexRuntime,
    item_id: str,
    make_resolver: Callable[[IndexReader], MetadataResolver],
) -> ItemVerdictPublic:
    """Reads through the index's read connections (``app.index.sql.ReadConnections``), never the
    caller's session: a metadata check may commit that session mid-way."""
    reads = index.reads
    with reads.connection() as connection:
        reader = IndexReader(connection, reads.paramstyle)
        return indexed_item_verdict(reader, item_id, make_resolver(reader))


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


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _ref(row: Sequence[Any], at: int) -> dict[str, Any]:
    """ChainRefPublic fields from ``tx_hash, block_number, log_index, block_time`` at ``at``."""
    return {
        "tx_hash": row[at],
        "block_number": row[at + 1],
        "log_index": row[at + 2],
        "time": _utc(row[at + 3]),
    }


def indexed_item_verdict(
    reader: IndexReader, item_id: str, resolve_metadata: MetadataResolver
) -> ItemVerdictPublic:
    found = reader.first(Q_ITEM, item=item_id)
    assert found is not None
    item = found if found[0] is not None else None
    as_of_block, recalls, flag_count, open_reports, manifest_count, order_count = found[8:14]
    reassign_count, held_by = found[14 + MERCHANT_WIDTH :]
    record = (
        ItemRecord.resolve(item, reader.rows(Q_REASSIGNMENTS, item=item_id))
        if reassign_count
        else ItemRecord.plain(item)
    )
    item = record.item

    # The batch: the one the item was activated from (unless a verifier moved the item out of
    # it), else one whose published manifest lists it under its merchant's key and which the
    # index has.
    entry: Sequence[Any] | None = None
    batch: Sequence[Any] | None = None
    root: str | None = record.root
    if manifest_count and (item is None or root is not None):
        for candidate in reader.rows(Q_MANIFEST_ENTRIES, item=item_id):
            if root is not None and candidate[0] != root:
                continue
            listed = reader.first(Q_BATCH, root=candidate[0])
            if listed is not None and _batch_owns(reader, listed[0], candidate):
                entry, batch, root = candidate, listed, candidate[0]
                break
    if root is not None and batch is None:
        batch = reader.first(Q_BATCH, root=root)
    batch_recall = reader.first(Q_BATCH_RECALL, root=root) if batch is not None else None
    item_recall = (
        _last(record.since_revocation(reader.rows(Q_ITEM_RECALLS, item=item_id), 1))
        if recalls
        else None
    )
    flags = record.since_revocation(reader.rows(Q_FLAGS, item=item_id), 1) if flag_count else []

    merchant_address: str | None = None
    merchant_columns: Sequence[Any] | None = None
    if item is not None and record.moved_to is not None:
        merchant_address = record.moved_to
        merchant_columns = reader.first(Q_MERCHANT, merchant=merchant_address)
    elif item is not None:
        merchant_address, merchant_columns = item[0], found[14 : 14 + MERCHANT_WIDTH]
    elif batch is not None:
        merchant_address = batch[0]
        merchant_columns = reader.first(Q_MERCHANT, merchant=merchant_address)
    merchant: MerchantSummaryPublic | None = None
    status = MerchantStatus.NONE
    if merchant_address is not None and merchant_columns is not None:
        name, latest_status, *seller = merchant_columns
        if name is not None:
            status = MerchantStatus(latest_status or MerchantStatus.ACTIVE)
        merchant = MerchantSummaryPublic(
            address=merchant_address,
            name=name,
            status=status_name(status),
            seller_record=seller_record_from(seller),
        )
    reason = judge(
        item_recalled=item_recall is not None,
        batch_recalled=batch_recall is not None,
        flagged=bool(flags),
        merchant=merchant_address,
        status=status,
    )

    metadata: MetadataPublic | None = None
    if item is not None and item[2] is not None:
        metadata = resolve_metadata(item[2], item[1])
    elif entry is not None:
        metadata = resolve_metadata(entry[2], entry[1])
    elif item is not None:
        metadata = MetadataPublic(uri=None, hash=item[1], check=MetadataCheck.UNCHECKED)

    return ItemVerdictPublic(
        item_id=item_id,
        authentic=reason is VerdictReason.AUTHENTIC,
        verdict=VERDICT_OF_REASON[reason],
        reason=reason,
        explanation=EXPLANATIONS[reason],
        source=Source.INDEX,
        as_of_block=as_of_block,
        merchant=merchant,
        metadata=metadata,
        registration=(
            RegistrationPublic(**_ref(item, 4), kind="batch" if item[3] else "single")
            if item is not None
            else None
        ),
        batch=_batch_public(item_id, item, entry, batch, batch_recall, root),
        custody=[
            CustodyEventPublic(
                **_ref(row, 6),
                action=action_name(row[0]),
                occurred_at=_utc(row[1]),
                submitter=row[2],
                event_id=row[3],
                location_hash=row[4],
                context_hash=row[5],
            )
            for row in reader.rows(Q_CUSTODY, item=item_id)
        ],
        flags=[FlagPublic(**_ref(flag, 1), report_id=flag[0]) for flag in flags],
        recall=(
            RecallPublic(**_ref(item_recall, 1), scope="item", reason_hash=item_recall[0])
            if item_recall is not None
            else RecallPublic(**_ref(batch_recall, 1), scope="batch", reason_hash=batch_recall[0])
            if batch_recall is not None
            else None
        ),
        open_reports=open_reports,
        sales=[
            SalePublic(
                order_id=row[0],
                status=OrderStatus(
                    row[9] if row[9] is not None else OrderStatus.FUNDED
                ).name.lower(),
                buyer=row[1],
                token=row[2],
                amount=row[3],
                released=bool((row[10] or 0) >> row[4] & 1),
                opened=ChainRefPublic(**_ref(row, 5)),
            )
            for row in (reader.rows(Q_SALES, item=item_id) if order_count else ())
        ],
        reassignment=record.reassignment_public(),
        held_by_order=held_by,
    )


def _last(rows: Sequence[Sequence[Any]]) -> Sequence[Any] | None:
    return rows[-1] if rows else None


def _batch_owns(reader: IndexReader, merchant: str, entry: Sequence[Any]) -> bool:
    """Whether a manifest entry's key is the batch merchant's, as ``verifyBatchItem`` checks it:
    always for a SKU (publication checked the id is derived under the merchant), for a GTIN only
    while the merchant holds one of its company prefixes. An entry without a key (published
    before keys) cannot be checked by the registry, so it speaks for nothing."""
    scheme, code = entry[5], entry[6]
    if scheme is None or code is None:
        return False
    if scheme != IdScheme.GS1:
        return True
    prefixes = gs1_company_prefixes(code)
    holders: dict[str, str | None] = {}
    params = dict(zip(PREFIX_PARAMS, prefixes, strict=True))
    for prefix, holder, granted in reader.rows(Q_GS1_PREFIXES, **params):
        holders[prefix] = holder if granted else None
    return merchant in holders.values()


def _batch_public(
    item_id: str,
    item: Sequence[Any] | None,
    entry: Sequence[Any] | None,
    batch: Sequence[Any] | None,
    recall: Sequence[Any] | None,
    root: str | None,
) -> BatchPublic | None:
    if batch is None or root is None:
        return None
    proof: list[str] | None = json.loads(entry[4]) if entry is not None else None
    verified = None
    if entry is not None and proof is not None:
        verified = verify_proof(
            bytes.fromhex(root[2:]),
            BatchLeaf(bytes.fromhex(item_id[2:]), bytes.fromhex(entry[1][2:])),
            [bytes.fromhex(node[2:]) for node in proof],
        )
    return BatchPublic(
        root=root,
        item_count=batch[1],
        recalled=recall is not None,
        activated=item is not None,
        metadata_hash=entry[1] if entry is not None else item[1] if item is not None else None,
        leaf=entry[3] if entry is not None else None,
        proof=proof,
        proof_verified=verified,
        registration=ChainRefPublic(**_ref(batch, 2)),
    )


def action_name(action: int) -> str:
    try:
        return CustodyAction(action).name.lower()
    except ValueError:
        return f"action_{action}"
