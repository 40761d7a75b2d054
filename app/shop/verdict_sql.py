"""The index queries of an item's facts (``app.shop.index_facts``), in portable SQL for the DB-API
hot path (``app.index.sql.DriverQuery``).

An id can have several registrations (a verifier revoked the record and the rightful merchant
registered it again), recalls and reassignments: the latest registration is the record, and only
what happened after the latest revocation counts.
"""

from __future__ import annotations

from app.domain.ids import GS1_PREFIX_LENGTHS
from app.index.sql import DriverQuery
from app.shop.seller_record import SELLER_RECORD_COLUMNS
from app.shop.verifier_reports import open_verifier_reports

REF = "tx_hash, block_number, log_index, block_time"

# The merchant's name and status, then its seller record (``index_seller_records`` joined as
# ``sr``, see SELLER_RECORD_JOIN: kept by the indexer, never counted here), for the merchant
# column ``{m}``.
MERCHANT_COLUMNS = """
  (SELECT name FROM index_merchants WHERE address = {m}),
  (SELECT s.status FROM index_merchant_status s WHERE s.merchant = {m}
   ORDER BY s.block_number DESC, s.log_index DESC LIMIT 1),
""" + SELLER_RECORD_COLUMNS.format(r="sr")
SELLER_RECORD_JOIN = "LEFT JOIN index_seller_records sr ON sr.merchant = {m}"
MERCHANT_WIDTH = 7
# The item's open reports that speak to the public: those a verifier filed.
OPEN_REPORTS, OPEN_REPORTS_CONSTANTS = open_verifier_reports("q.item_id")
# One round trip for the common case: the item's latest record, what else the index holds about
# it (counts that say which further queries are needed), its merchant, and the order holding it.
# Columns: 0-7 the record, 8 the index's last block, 9-13 counts, 14-20 the merchant,
# 21 reassignments, 22 the holding order.
Q_ITEM = DriverQuery(
    f"""
    SELECT i.merchant, i.metadata_hash, i.metadata_uri, i.batch_root,
      i.tx_hash, i.block_number, i.log_index, i.block_time,
      (SELECT last_block FROM index_cursor WHERE name = 'chain'),
      (SELECT COUNT(*) FROM index_item_recalls WHERE item_id = q.item_id),
      (SELECT COUNT(*) FROM index_item_flags WHERE item_id = q.item_id),
      {OPEN_REPORTS},
      (SELECT COUNT(*) FROM shop_manifest_items WHERE item_id = q.item_id),
      (SELECT COUNT(*) FROM index_order_items WHERE item_id = q.item_id),
      {MERCHANT_COLUMNS.format(m="i.merchant")},
      (SELECT COUNT(*) FROM index_item_reassignments WHERE item_id = q.item_id),
      (SELECT CASE WHEN h.held THEN h.order_id END FROM index_item_holds h
       WHERE h.item_id = q.item_id ORDER BY h.block_number DESC, h.log_index DESC LIMIT 1)
    FROM (SELECT :item AS item_id) q LEFT JOIN index_items i ON i.id =
      (SELECT x.id FROM index_items x WHERE x.item_id = q.item_id
       ORDER BY x.block_number DESC, x.log_index DESC LIMIT 1)
    {SELLER_RECORD_JOIN.format(m="i.merchant")}
    """,
    OPEN_REPORTS_CONSTANTS,
)
Q_MERCHANT = DriverQuery(
    f"SELECT {MERCHANT_COLUMNS.format(m='q.merchant')} FROM (SELECT :merchant AS merchant) q "
    + SELLER_RECORD_JOIN.format(m="q.merchant")
)
Q_REASSIGNMENTS = DriverQuery(
    f"SELECT from_merchant, to_merchant, reason_hash, {REF} FROM index_item_reassignments "
    "WHERE item_id = :item ORDER BY block_number, log_index"
)
Q_CUSTODY = DriverQuery(
    "SELECT action, occurred_at, submitter, event_id, location_hash, context_hash, "
    f"{REF} FROM index_custody WHERE item_id = :item ORDER BY block_number, log_index"
)
Q_SALES = DriverQuery(
    """
    SELECT o.order_id, o.buyer, o.token, o.amount, oi.position,
      o.tx_hash, o.block_number, o.log_index, o.block_time,
      (SELECT e.status FROM index_order_events e WHERE e.order_id = o.order_id
       ORDER BY e.block_number DESC, e.log_index DESC LIMIT 1),
      (SELECT e.released_items FROM index_order_events e WHERE e.order_id = o.order_id
       ORDER BY e.block_number DESC, e.log_index DESC LIMIT 1)
    FROM index_order_items oi JOIN index_orders o ON o.order_id = oi.order_id
    WHERE oi.item_id = :item ORDER BY o.block_number, o.log_index
    """
)
Q_ITEM_RECALLS = DriverQuery(
    f"SELECT reason_hash, {REF} FROM index_item_recalls WHERE item_id = :item "
    "ORDER BY block_number, log_index"
)
Q_FLAGS = DriverQuery(
    f"SELECT report_id, {REF} FROM index_item_flags WHERE item_id = :item "
    "ORDER BY block_number, log_index"
)
Q_BATCH = DriverQuery(f"SELECT merchant, item_count, {REF} FROM index_batches WHERE root = :root")
Q_BATCH_RECALL = DriverQuery(
    f"SELECT reason_hash, {REF} FROM index_batch_recalls WHERE root = :root"
)
Q_MANIFEST_ENTRIES = DriverQuery(
    "SELECT root, metadata_hash, metadata_uri, leaf, proof, id_scheme, code, serial "
    "FROM shop_manifest_items WHERE item_id = :item ORDER BY root"
)
Q_METADATA_CHECK = DriverQuery(
    "SELECT result, detail, checked_at FROM shop_metadata_checks "
    "WHERE uri = :uri AND metadata_hash = :hash"
)
Q_PASSPORT_KEPT = DriverQuery("SELECT id FROM shop_passports WHERE metadata_hash = :hash")
# Every grant and revocation of the prefixes a GTIN could lie under, oldest first.
PREFIX_PARAMS = [f"p{length}" for length in GS1_PREFIX_LENGTHS]
Q_GS1_PREFIXES = DriverQuery(
    "SELECT prefix, merchant, granted FROM index_gs1_prefixes WHERE prefix IN ("
    + ", ".join(f":{name}" for name in PREFIX_PARAMS)
    + ") ORDER BY block_number, log_index"
)
# The batches a merchant registered whose item lists (manifests) nobody published here.
Q_UNPUBLISHED_BATCHES = DriverQuery(
    "SELECT COUNT(*) FROM index_batches b WHERE b.merchant = :merchant "
    "AND NOT EXISTS (SELECT 1 FROM shop_manifests m WHERE m.root = b.root)"
)
