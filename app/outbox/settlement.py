"""Settling: records of one sender's transactions that reached their end take that end.

* A transaction confirmed as succeeded confirms its records (tx hash, block), except those its
  receipt shows refused all the same, as the records' kind reads it
  (``KindRelay.refused_in_receipts``: escrow logistics reports the escrow skipped fail with the
  custom error their ``LogisticsUpdateRejected`` log carries).
* A transaction that reverted, that the node kept refusing (cancelled by a no-op), or whose
  nonce another transaction took, puts its records back in the queue with a back-off (failed
  after ``max_attempts`` reverts or cancellations).
* A confirmed transaction the chain forgot (a node restored from an older state) is pending again
  (``TransactionSender.poll``); its records go back to ``submitted`` with it, including records
  that had failed by its receipt (the logs went with the block).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.chain.journal import OPEN_STATES, ChainTransaction, TxState
from app.chain.sender import TransactionSender
from app.db.base import utc_now
from app.db.session import Database
from app.outbox.kinds.base import KindRelay
from app.outbox.models import OutboxRecord, RelayStatus, update_records
from app.outbox.plan import CycleReport

log = structlog.get_logger(__name__)


class Settlement:
    """Settles the records of one sender's finished transactions."""

    def __init__(
        self,
        database: Database,
        sender: TransactionSender,
        relays: Iterable[KindRelay],
        *,
        max_attempts: int,
        retry_after_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.sender = sender
        self.relays: dict[str, KindRelay] = {relay.kind.value: relay for relay in relays}
        self.max_attempts = max_attempts
        self.retry_after_seconds = retry_after_seconds
        self.clock = clock
        self._mine = sender.mine()

    def settle(self, report: CycleReport) -> None:
        with self.database.transaction() as session:
            self._follow_reopened(session)
        with self.database.sessions() as session:
            rows = session.execute(
                select(
                    OutboxRecord.id,
                    OutboxRecord.kind,
                    OutboxRecord.attempts,
                    ChainTransaction.id,
                    ChainTransaction.state,
                    ChainTransaction.succeeded,
                    ChainTransaction.tx_hash,
                    ChainTransaction.block_number,
                    ChainTransaction.nonce,
                )
                .join(ChainTransaction, OutboxRecord.transaction_id == ChainTransaction.id)
                .where(
                    *self._mine,
                    OutboxRecord.status == RelayStatus.SUBMITTED,
                    ChainTransaction.state.in_(
                        (TxState.CONFIRMED, TxState.CANCELLED, TxState.REPLACED)
                    ),
                )
                .order_by(OutboxRecord.id)
            ).all()
        if not rows:
            return
        # Read from the chain outside any database transaction: the write lock is not held
        # while the node answers.
        refused, unsettled = self._refused_in_receipts(rows)
        now = self.clock()
        stamp = utc_now()
        updates: list[dict[str, Any]] = []
        for record_id, _kind, attempts, tx_id, state, succeeded, tx_hash, block, nonce in rows:
            if tx_id in unsettled:
                continue
            if state == TxState.CONFIRMED and succeeded:
                reason = refused.get(record_id)
                if reason is not None:
                    report.failed += 1
                    updates.append(self._refused(record_id, reason, tx_hash, block))
                    continue
                report.confirmed += 1
                updates.append(
                    {
                        "id": record_id,
                        "status": RelayStatus.CONFIRMED,
                        "tx_hash": tx_hash,
                        "block_number": block,
                        "confirmed_at": stamp,
                        "last_error": None,
                    }
                )
                continue
            reasons: dict[str, str] = {
                TxState.CONFIRMED: f"transaction {tx_hash} reverted in block {block}",
                TxState.CANCELLED: f"the node refused the transaction at nonce {nonce}",
            }
            reason = reasons.get(
                state, f"nonce {nonce} was used by a transaction the relayer did not sign"
            )
            give_up = state != TxState.REPLACED and attempts >= self.max_attempts
            if give_up:
                report.failed += 1
            else:
                report.requeued += 1
            updates.append(
                {
                    "id": record_id,
                    "status": RelayStatus.FAILED if give_up else RelayStatus.QUEUED,
                    "transaction_id": None,
                    "last_error": reason,
                    "failure_reason": f"{reason} ({attempts} attempts)" if give_up else None,
                    "not_before": now + self._backoff(attempts),
                }
            )
        if updates:
            with self.database.transaction() as session:
                update_records(session, updates)
        log.info(
            "relay_settled",
            sender=self.sender.address,
            confirmed=report.confirmed,
            failed=report.failed,
            requeued=report.requeued,
        )

    def _refused_in_receipts(self, rows: Sequence[Any]) -> tuple[dict[int, str], set[int]]:
        """The records of succeeded transactions their kind finds refused in the receipt (record
        id -> reason), and the transactions whose receipt the node no longer has (left for the
        next poll: a reorg, most likely)."""
        sends: dict[str, dict[int, tuple[str, list[int]]]] = defaultdict(dict)
        for record_id, kind, _a, tx_id, state, succeeded, tx_hash, _b, _n in rows:
            if state == TxState.CONFIRMED and succeeded:
                sends[kind].setdefault(tx_id, (tx_hash, []))[1].append(record_id)
        refused: dict[int, str] = {}
        unsettled: set[int] = set()
        for kind, by_tx in sends.items():
            relay = self.relays.get(kind)
            if relay is not None:
                found, gone = relay.refused_in_receipts(by_tx)
                refused.update(found)
                unsettled |= gone
        return refused, unsettled

    def _refused(
        self, record_id: int, reason: str, tx_hash: str | None, block: int | None
    ) -> dict[str, Any]:
        log.warning("relay_report_rejected", record_id=record_id, reason=reason, tx_hash=tx_hash)
        # The transaction stays linked: should the chain forget it, the record goes back with it.
        return {
            "id": record_id,
            "status": RelayStatus.FAILED,
            "tx_hash": tx_hash,
            "block_number": block,
            "failure_reason": reason,
            "last_error": None,
        }

    def _backoff(self, attempts: int) -> float:
        return float(min(self.retry_after_seconds * 2 ** max(attempts - 1, 0), 300.0))

    def _follow_reopened(self, session: Session) -> None:
        """Settled records whose transaction is open again go back to ``submitted`` with it."""
        reopened = select(ChainTransaction.id).where(
            *self._mine, ChainTransaction.state.in_(OPEN_STATES)
        )
        moved = session.execute(
            update(OutboxRecord)
            .where(
                OutboxRecord.status.in_((RelayStatus.CONFIRMED, RelayStatus.FAILED)),
                OutboxRecord.transaction_id.in_(reopened),
            )
            .values(
                status=RelayStatus.SUBMITTED,
                tx_hash=None,
                block_number=None,
                confirmed_at=None,
                failure_reason=None,
            )
            .execution_options(synchronize_session=False)
        )
        count = int(moved.rowcount)  # type: ignore[attr-defined]
        if count:
            log.warning("relay_settled_records_reopened", records=count)
