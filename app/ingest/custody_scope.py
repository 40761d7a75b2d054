"""Whose items a carrier may add custody events to.

Every carrier's custody events go on chain under the one custody-oracle key, so the registry
cannot tell carriers apart: the service bounds each carrier's reach. A carrier adds an event to
an item's trail when

* the item's merchant is one the carrier moves goods for (its source's ``merchants``, set by the
  operator: warehouses and moves before a sale), or
* an open escrow order of the item's merchant holds the item and is assigned to the carrier
  (``carrier_id``): the shipment it carries, and a return while the order is still open (until it
  is released, refunded or settled). The registry lets one open order hold an item at a time.

Any other event is rejected ``item_not_carried`` and nothing of it is kept. Only items found
carried are let through: an item whose merchant cannot be read is not. The merchant is read from
the index, else from the published batch manifests naming the item (every one of their merchants
must be served: publication admits only ids their merchant can claim, but a manifest kept from
before that check, or from a prefix's earlier holder, may name another's), else from the registry
itself (an item registered moments ago); orders and their carriers from the index, so a carrier
assigned moments ago is refused until the index reaches that block, and one replaced keeps its
reach that long.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.session import Database
from app.index.order_facts import open_order_facts
from app.index.queries import CHUNK, item_merchants, latest_orders
from app.ingest.subjects import SubjectChecker
from app.settings import Settings, SourceCredentials
from app.shop.models import ManifestItem, PublishedManifest

NOT_CARRIED = "item_not_carried"
NOT_CARRIED_MESSAGE = (
    "this carrier may not add to this item's trail: the item's merchant is not one it moves "
    "goods for, and no open order of the item is assigned to it"
)


def items_carried(
    settings: Settings,
    database: Database,
    subjects: SubjectChecker,
    source: SourceCredentials,
    items: Collection[str],
) -> set[str]:
    """Those of ``items`` (0x hex item ids) ``source`` may add custody events to."""
    if not items:
        return set()
    with database.sessions() as session:
        merchants = {item: {merchant} for item, merchant in item_merchants(session, items).items()}
        unindexed = [item for item in items if item not in merchants]
        merchants |= _manifest_merchants(session, unindexed)
    on_chain = [item for item in unindexed if item not in merchants]
    for item, merchant in subjects.merchants_on_chain(settings, on_chain).items():
        merchants[item] = {merchant}
    carried = {item for item, named in merchants.items() if named <= source.merchants}
    # Orders hold registered items only, each of one merchant.
    single = {item: next(iter(named)) for item, named in merchants.items() if len(named) == 1}
    with database.sessions() as session:
        orders = latest_orders(session, set(single) - carried)
        opened = {order.order_id for order in orders.values()}
        still_open = open_order_facts(session, recalls=False, order_ids=opened) if opened else []
    carriers = {fact.order_id: fact.carrier for fact in still_open}
    carried |= {
        item
        for item, order in orders.items()
        if order.merchant == single[item] and carriers.get(order.order_id) == source.carrier_id
    }
    return carried


def _manifest_merchants(session: Session, item_ids: list[str]) -> dict[str, set[str]]:
    """The merchants of the published manifests naming each item."""
    found: dict[str, set[str]] = {}
    for start in range(0, len(item_ids), CHUNK):
        rows = session.execute(
            select(ManifestItem.item_id, PublishedManifest.merchant)
            .join(PublishedManifest, PublishedManifest.root == ManifestItem.root)
            .where(ManifestItem.item_id.in_(item_ids[start : start + CHUNK]))
        )
        for item_id, merchant in rows:
            found.setdefault(item_id, set()).add(merchant)
    return found
