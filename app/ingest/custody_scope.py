"""Whose items a carrier may add custody events to.

Every carrier's custody events go on chain under the one custody-oracle key, so the registry
cannot tell carriers apart: the service bounds each carrier's reach. A carrier adds an event to
an item's trail when

* the item's merchant is one the carrier moves goods for (its source's ``merchants``, set by the
  operator: warehouses and moves before a sale), or
* the item's latest escrow order is assigned to the carrier (``carrier_id``): the shipment it
  carries, and a return after it, until the item is ordered again.

Any other event is rejected ``item_not_carried`` and nothing of it is kept. The merchant is read
from the index, else from a published batch manifest, else from the registry itself (an item
registered moments ago); the order and its carrier from the index, so a carrier assigned moments
ago is refused until the index reaches that block.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.session import Database
from app.index.order_facts import order_facts
from app.index.queries import CHUNK, item_merchants, latest_orders
from app.ingest.subjects import SubjectChecker
from app.settings import Settings, SourceCredentials
from app.shop.models import ManifestItem, PublishedManifest

NOT_CARRIED = "item_not_carried"
NOT_CARRIED_MESSAGE = (
    "this carrier may not add to this item's trail: the item's merchant is not one it moves "
    "goods for, and the item's latest order is not assigned to it"
)


def items_not_carried(
    settings: Settings,
    database: Database,
    subjects: SubjectChecker,
    source: SourceCredentials,
    items: Collection[str],
    unknown: Collection[str],
) -> set[str]:
    """Those of ``items`` (0x hex item ids) ``source`` may not add custody events to; of the
    ``unknown`` ones (no record on chain), only those a published manifest names are judged."""
    if not items:
        return set()
    with database.sessions() as session:
        merchants = item_merchants(session, items)
        unindexed = [item for item in items if item not in merchants]
        merchants |= _manifest_merchants(session, unindexed)
        on_chain = [item for item in unindexed if item not in merchants and item not in unknown]
    merchants |= subjects.merchants_on_chain(settings, on_chain)
    outside = {
        item for item in items if item in merchants and merchants[item] not in source.merchants
    }
    if not outside or source.carrier_id is None:
        return outside
    with database.sessions() as session:
        orders = latest_orders(session, outside)
        facts = order_facts(session, set(orders.values()))
    return {
        item
        for item in outside
        if item not in orders
        or orders[item] not in facts
        or facts[orders[item]].carrier != source.carrier_id
    }


def _manifest_merchants(session: Session, item_ids: list[str]) -> dict[str, str]:
    """The merchant of each batch item known only by a published manifest (its batch's)."""
    found: dict[str, str] = {}
    for start in range(0, len(item_ids), CHUNK):
        rows = session.execute(
            select(ManifestItem.item_id, PublishedManifest.merchant)
            .join(PublishedManifest, PublishedManifest.root == ManifestItem.root)
            .where(ManifestItem.item_id.in_(item_ids[start : start + CHUNK]))
        )
        found.update({item_id: merchant for item_id, merchant in rows})
    return found
