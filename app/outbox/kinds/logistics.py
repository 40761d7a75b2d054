"""Escrow logistics reports, sent in batches to ``OrderEscrow.reportLogistics``.

Reports of one order go in the order they were accepted: a report waits while an earlier report
of its order is neither in this batch nor mined. And a batch holds at most one report per
(order, kind, carrier), so that each ``LogisticsUpdateRejected`` log of its receipt names exactly
one record (``app.outbox.rejections``); a second such report waits for the next batch, and every
later report of its order with it.

The escrow skips a report its rules refuse rather than reverting the batch, so a refusal is read
from the receipt of the succeeded transaction: that record fails with the custom error the log
carries. What still reverts a batch is global (a pause, a lost role), and the default triage
holds the kind back for it. The reports carry no id: for them the journal is exact (every signed
attempt is recorded before it is sent, only one attempt of a nonce can mine), and the escrow's
state machine refuses a repeated step anyway."""

from __future__ import annotations

from sqlalchemy import and_, not_, or_, select
from sqlalchemy.orm import Session

from app.chain.journal import ChainTransaction, TxState
from app.outbox.calls import RowView, bytes32_word, uint_word
from app.outbox.kinds.base import KindRelay, SucceededSends
from app.outbox.models import OutboxRecord, RelayKind, RelayStatus
from app.outbox.rejections import match_rejections, rejections_in, report_key

# IOrderEscrow.LogisticsUpdate: orderId, kind, carrier, items, evidenceHash.
LOGISTICS_TUPLE = "(bytes32,uint8,uint16,uint32,bytes32)"


class LogisticsRelay(KindRelay):
    """Logistics reports to the escrow: in order within an order, and read back from the receipt
    (the escrow skips what it refuses)."""

    kind = RelayKind.ORDER_LOGISTICS
    contract_name = "OrderEscrow"
    function = "reportLogistics"
    tuple_type = LOGISTICS_TUPLE

    @staticmethod
    def encode_row(row: RowView) -> list[bytes]:
        p = row.payload
        return [
            bytes32_word(p["order_id"]),
            uint_word(int(p["kind"]), 8),
            # A record queued before carriers had ids names none: the escrow rejects it.
            uint_word(int(p.get("carrier", 0)), 16),
            uint_word(int(p["items"]), 32),
            bytes32_word(p["evidence_hash"]),
        ]

    def batch(self, session: Session, rows: list[RowView]) -> list[RowView]:
        return logistics_batch(session, rows)

    def refused_in_receipts(self, sends: SucceededSends) -> tuple[dict[int, str], set[int]]:
        """The reports the escrow rejected, with the decoded error of their
        ``LogisticsUpdateRejected`` log."""
        payloads = self.sent_payloads(sends)
        refused: dict[int, str] = {}
        unsettled: set[int] = set()
        for tx_id, (tx_hash, record_ids) in sends.items():
            receipt = self.context.sender.receipt_of(tx_hash)
            if receipt is None:
                unsettled.add(tx_id)
                continue
            records = [(rid, payloads[rid]) for rid in sorted(record_ids)]
            matched = match_rejections(records, rejections_in(receipt, self.call.address))
            decode = self.context.decoder.decode
            refused.update({rid: str(decode(found.reason)) for rid, found in matched.items()})
        return refused, unsettled


def logistics_batch(session: Session, rows: list[RowView]) -> list[RowView]:
    """The rows (oldest first) that may be sent together now."""
    return _one_per_report_key(_in_order(session, rows))


def _in_order(session: Session, rows: list[RowView]) -> list[RowView]:
    """A row waits while an earlier update of its order is neither in this batch nor mined."""
    batch_ids = {row.id for row in rows}
    subjects = {row.subject for row in rows}
    applied = and_(
        ChainTransaction.state.in_((TxState.MINED, TxState.CONFIRMED)),
        ChainTransaction.succeeded.is_(True),
    )
    unfinished = session.execute(
        select(OutboxRecord.id, OutboxRecord.subject)
        .outerjoin(ChainTransaction, OutboxRecord.transaction_id == ChainTransaction.id)
        .where(
            OutboxRecord.kind == RelayKind.ORDER_LOGISTICS,
            OutboxRecord.subject.in_(subjects),
            or_(
                OutboxRecord.status == RelayStatus.QUEUED,
                and_(OutboxRecord.status == RelayStatus.SUBMITTED, not_(applied)),
            ),
        )
        .order_by(OutboxRecord.id)
    ).all()
    blocked_from: dict[str, int] = {}
    for record_id, subject in unfinished:
        if record_id not in batch_ids and subject not in blocked_from:
            blocked_from[subject] = record_id
    return [
        row for row in rows if row.subject not in blocked_from or row.id < blocked_from[row.subject]
    ]


def _one_per_report_key(rows: list[RowView]) -> list[RowView]:
    seen: set[tuple[str, int, int]] = set()
    held: set[str] = set()
    kept: list[RowView] = []
    for row in rows:
        if row.subject in held:
            continue
        key = report_key(row.payload)
        if key in seen:
            held.add(row.subject)
            continue
        seen.add(key)
        kept.append(row)
    return kept
