"""What the item page shows beyond the verdict, read in a few indexed queries: the product
passport published under the item's on-chain hash (and whether its picture was published), the
texts carriers sent for the item's custody events (the outbox keeps them; the chain keeps their
hashes), and the version of everything a page is made of, which names a cached page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from app.domain.custody_rows import text_hash
from app.domain.passport import ProductPassport
from app.index.sql import DriverQuery
from app.outbox.models import RelayKind
from app.shop.assemble import action_name
from app.shop.index_facts import IndexReader
from app.shop.publish import hash_of_text, stored_passport
from app.shop.schemas import CustodyEventPublic, MetadataPublic

Q_PASSPORT = DriverQuery("SELECT document FROM shop_passports WHERE metadata_hash = :hash")
Q_MEDIA_KEPT = DriverQuery("SELECT 1 FROM shop_media WHERE media_hash = :hash")
Q_CARRIER_TEXTS = DriverQuery(
    "SELECT custody_event_id, payload, details, tx_hash, source FROM outbox_records "
    "WHERE subject = :item AND kind = :kind AND custody_event_id IS NOT NULL"
)
# What a page is made of changes only when the index reads another head block (or the same
# number after a reorganisation) or something is published: a passport, a picture, a manifest.
# Each is read from an index (no table is counted), as it is on every page request.
Q_PAGE_VERSION = DriverQuery(
    """
    SELECT (SELECT last_block FROM index_cursor WHERE name = 'chain'),
      (SELECT last_block_hash FROM index_cursor WHERE name = 'chain'),
      (SELECT MAX(id) FROM shop_passports),
      (SELECT MAX(id) FROM shop_media),
      (SELECT MAX(published_at) FROM shop_manifests)
    """
)
Version = tuple[Any, ...]


class Passport(NamedTuple):
    """The passport kept under an item's on-chain hash: the document, whether its text hashes
    to that hash again now, and whether its picture was published."""

    document: ProductPassport
    matches: bool
    picture: str | None


class TextCheck(NamedTuple):
    """A carrier's text of one custody event, and whether it hashes to the on-chain hash."""

    text: str
    matches: bool


class CarrierTexts(NamedTuple):
    """A custody event's place and reference as the carrier sent them (None: none sent), and
    which carrier sent it (every carrier's events go on chain under the service's one custody
    oracle key: the chain's submitter does not tell carriers apart)."""

    location: TextCheck | None
    reference: TextCheck | None
    carrier: str


def page_version(reader: IndexReader) -> Version:
    found = reader.first(Q_PAGE_VERSION)
    return tuple(found) if found is not None else ()


def passport_of(reader: IndexReader, metadata: MetadataPublic | None) -> Passport | None:
    """The passport published under the item's on-chain hash, if any."""
    if metadata is None or metadata.document is None:
        return None
    found = reader.first(Q_PASSPORT, hash=metadata.hash)
    if found is None:
        return None
    text = str(found[0])
    document = stored_passport(text)
    picture = document.image.hash if document.image is not None else None
    if picture is not None and reader.first(Q_MEDIA_KEPT, hash=picture) is None:
        picture = None
    return Passport(document, hash_of_text(text) == metadata.hash, picture)


def carrier_texts(
    reader: IndexReader, item_id: str, custody: Sequence[CustodyEventPublic]
) -> dict[str, CarrierTexts]:
    """For each custody event (by its transaction and event id) the service relayed, the texts
    its carrier sent; an event missing here was recorded by someone else: only its hashes are
    known."""
    if not custody:
        return {}
    records: dict[str, tuple[dict[str, Any], dict[str, Any], str | None, str]] = {}
    for event_id, payload, details, tx_hash, source in reader.rows(
        Q_CARRIER_TEXTS, item=item_id, kind=RelayKind.CUSTODY.value
    ):
        records[str(event_id)] = (_json(payload), _json(details), tx_hash, str(source))
    found: dict[str, CarrierTexts] = {}
    for event in custody:
        record = records.get(event.event_id)
        if record is None:
            continue
        payload, details, tx_hash, carrier = record
        same = (
            (tx_hash is None or tx_hash == event.tx_hash)
            and action_name(int(payload["action"])) == event.action
            and int(payload["occurred_at"]) == int(event.occurred_at.timestamp())
        )
        if same:
            found[event_key(event)] = CarrierTexts(
                _checked(details.get("location"), event.location_hash),
                _checked(details.get("reference"), event.context_hash),
                carrier,
            )
    return found


def event_key(event: CustodyEventPublic) -> str:
    return f"{event.tx_hash}:{event.event_id}"


def _checked(text: Any, onchain_hash: str) -> TextCheck | None:
    if not isinstance(text, str):
        return None
    return TextCheck(text, "0x" + text_hash(text).hex() == onchain_hash)


def _json(value: Any) -> dict[str, Any]:
    """A JSON column as the driver hands it: text (SQLite) or already decoded."""
    decoded = json.loads(value) if isinstance(value, str | bytes) else value
    return decoded if isinstance(decoded, dict) else {}
