"""An item's answer, from the index or (``fresh``) from the chain: what the JSON API and the
shopper's page both call.

One pipeline: a source gathers the item's facts (``app.shop.index_facts`` from the index,
``app.shop.chain_facts`` from the chain's views and logs), the metadata check is made for the
claim the facts carry, and one pure assembler (``app.shop.assemble``) makes the answer. The two
answers cannot drift apart: the rules live only in the assembler, ``app.shop.facts.ItemRecord``
and the seller-record rule (``app.index.seller_records``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from app.domain.errors import TrustMallError
from app.index.chain import RPC_ERRORS, ChainUnavailable
from app.index.runtime import IndexRuntime
from app.shop.assemble import assemble, metadata_claim
from app.shop.chain_facts import chain_facts
from app.shop.chain_snapshot import ChainSnapshot
from app.shop.facts import ItemFacts
from app.shop.index_facts import IndexReader, index_facts
from app.shop.metadata_check import check_metadata, fetch_allowed, published, result_of
from app.shop.schemas import ItemVerdictPublic, MetadataCheck, MetadataPublic
from app.shop.verdict_sql import Q_METADATA_CHECK, Q_PASSPORT_KEPT

MetadataResolver = Callable[[str | None, str], MetadataPublic]


class MetadataFetchNeeded(TrustMallError, LookupError):
    """Checking this item's metadata needs a network fetch, which this call may not make."""


def item_id_hex(item_id: bytes | str) -> str:
    """An item id as the index keys it: lowercase 0x hex of 32 bytes."""
    raw = item_id if isinstance(item_id, bytes) else bytes.fromhex(item_id.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError("an item id is 32 bytes")
    return "0x" + raw.hex()


def answer(facts: ItemFacts, resolve_metadata: MetadataResolver) -> ItemVerdictPublic:
    """The answer from ``facts``, the metadata checked by ``resolve_metadata``."""
    claim = metadata_claim(facts)
    metadata = resolve_metadata(*claim) if claim is not None else None
    return assemble(facts, metadata)


def item_verdict(
    index: IndexRuntime,
    session: Session,
    item_id: bytes | str,
    *,
    fresh: bool = False,
    gtin: str | None = None,
) -> ItemVerdictPublic:
    """The verdict on one item with its merchant, metadata check, custody trail, batch proof and
    sale record. From the index, or with ``fresh`` from the chain's contract views and logs (the
    published manifests, which are off-chain, still come from the database) and its metadata
    checked again.

    Asked by ``gtin`` (the item's: a GS1 link names it), an item nothing speaks for is told
    apart when the GTIN's prefix holder has batches whose item lists are not published
    (``batch_unpublished``).

    Never raises for an unknown item: the verdict says ``unknown`` (see ``.known``). Raises
    ``app.index.chain.ChainUnavailable`` when ``fresh`` and the node does not answer. Blocking
    (database, and the chain or a metadata host): call it from a thread in async code.
    """
    key = item_id_hex(item_id)
    hosts = index.settings.metadata_fetch_hosts

    def resolve(uri: str | None, digest: str) -> MetadataPublic:
        # may fetch, and store the result (a fresh answer always fetches again)
        return check_metadata(session, uri, digest, hosts, refresh=fresh)

    if fresh:
        try:
            facts = chain_facts(ChainSnapshot(index), session, key, gtin)
        except RPC_ERRORS as error:
            raise ChainUnavailable(f"reading item {key} from the chain: {error}") from error
        return answer(facts, resolve)
    # The index is read on its own connections, never the caller's session: a metadata check
    # may commit that session mid-way.
    with index.reads.connection() as connection:
        facts = index_facts(IndexReader(connection, index.reads.paramstyle), key, gtin)
    return answer(facts, resolve)


def indexed_verdict_fast(index: IndexRuntime, item_id: str) -> ItemVerdictPublic:
    """The index's verdict, never touching the network: quick enough for the event loop.
    Raises ``MetadataFetchNeeded`` when the answer needs a metadata fetch."""
    reads = index.reads
    with reads.connection() as connection:
        return read_verdict(index, IndexReader(connection, reads.paramstyle), item_id)


def read_verdict(
    index: IndexRuntime, reader: IndexReader, item_id: str, gtin: str | None = None
) -> ItemVerdictPublic:
    """``indexed_verdict_fast`` on a reader the caller holds (``gtin``: as ``item_verdict``)."""
    hosts = index.settings.metadata_fetch_hosts
    return answer(index_facts(reader, item_id, gtin), cached_metadata_only(reader, hosts))


def cached_metadata_only(reader: IndexReader, hosts: list[str]) -> MetadataResolver:
    """Metadata checks from the stored results only; ``MetadataFetchNeeded`` when a fetch is due."""

    def resolve(uri: str | None, digest: str) -> MetadataPublic:
        if reader.first(Q_PASSPORT_KEPT, hash=digest) is not None:
            return published(uri, digest)
        if uri is None or not fetch_allowed(uri, hosts):
            return MetadataPublic(uri=uri, hash=digest, check=MetadataCheck.UNCHECKED)
        row = reader.first(Q_METADATA_CHECK, uri=uri, hash=digest)
        stored = result_of(row) if row is not None else None
        if stored is None:
            raise MetadataFetchNeeded(uri)
        return MetadataPublic(uri=uri, hash=digest, check=stored[0], detail=stored[1])

    return resolve
