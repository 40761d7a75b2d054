"""One sending account's relay: the record kinds its key may send, its own nonces (its
``TransactionSender``) and its own lease. It sends every kind the same way and asks the kind's
relay (``app.outbox.kinds``) where kinds differ. See ``app.outbox.relayer`` for the cycle and why
nothing is applied twice."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import structlog
from eth_account.signers.local import LocalAccount
from sqlalchemy import and_, exists, false, or_, select
from web3.exceptions import ContractLogicError, Web3Exception

from app.chain.contracts import Suite
from app.chain.journal import OPEN_STATES, ChainTransaction
from app.chain.reverts import revert_data
from app.chain.sender import TransactionSender
from app.chain.sender_policy import SenderPolicy
from app.db.base import utc_now
from app.db.lease import LEASE_SECONDS, Lease
from app.db.session import Database
from app.outbox.calls import VIEW_COLUMNS, RowView, view_of
from app.outbox.kinds import RelayContext, deployed_calls, kind_relays, revert_decoder
from app.outbox.models import (
    OutboxRecord,
    RelayKind,
    RelayStatus,
    take_from_queue,
    update_records,
)
from app.outbox.plan import CycleReport, HeldBack, Plan
from app.outbox.settlement import Settlement

log = structlog.get_logger(__name__)

MAX_BATCHES_PER_CYCLE = 64


class AccountRelayer:
    """Relays one database's records of ``kinds`` with one account on one chain."""

    def __init__(
        self,
        database: Database,
        suite: Suite,
        account: LocalAccount,
        kinds: Collection[RelayKind],
        *,
        batch_size: int,
        max_in_flight: int,
        confirmation_depth: int,
        sender_policy: SenderPolicy | None = None,
        max_attempts: int = 5,
        retry_after_seconds: float = 5.0,
        hold_seconds: float = 30.0,
        lease_seconds: float = LEASE_SECONDS,
        gas_caps: Mapping[RelayKind, int] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.suite = suite
        self.web3 = suite.web3
        self.account = account
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        self.retry_after_seconds = retry_after_seconds
        self.hold_seconds = hold_seconds
        # The most gas one transaction of a kind may take (the keeper's KEEPER_MAX_GAS); a batch
        # estimated above it, or above 90% of the block's limit, is halved.
        self.gas_caps = dict(gas_caps or {})
        # The last estimate of each kind's batches of one function: (gas, records), which later
        # batches' limits scale from (a kind may batch calls of several functions).
        self._estimated: dict[tuple[RelayKind, bytes], tuple[int, int]] = {}
        self.clock = clock
        policy = replace(sender_policy or SenderPolicy(), confirmation_depth=confirmation_depth)
        self.sender = TransactionSender(self.web3, account, database, policy, clock)
        every_call = deployed_calls(suite)
        self.decoder = revert_decoder(suite, every_call)
        context = RelayContext(database, suite, self.sender, self.decoder, confirmation_depth)
        every_kind = kind_relays(every_call, context)
        self.kinds = frozenset(kinds)
        self.relays = {kind: relay for kind, relay in every_kind.items() if kind in self.kinds}
        # Every kind's: a transaction of this account settles by its records' kind, whichever
        # kinds the account sends now.
        self.settlement = Settlement(
            database,
            self.sender,
            every_kind.values(),
            max_attempts=max_attempts,
            retry_after_seconds=retry_after_seconds,
            clock=clock,
        )
        self._reconciled = False
        self._held_until: dict[RelayKind, float] = {}
        self.lease = Lease(
            database, f"relay:{suite.chain_id}:{account.address}", clock, lease_seconds
        )

    # ------------------------------------------------------------------ the cycle

    def run_once(self) -> CycleReport:
        """One relay cycle; raises when the node cannot be reached (the caller backs off)."""
        if not self.take_lease():
            self._reconciled = False  # whoever holds it may change the journal meanwhile
            return CycleReport(standing_by=True)
        try:
            if not self._reconciled:
                self.reconcile()
            report = CycleReport()
            poll = self.sender.poll()
            report.open_transactions = poll.open
            report.cancelled_transactions = len(poll.cancelled)
            self.settlement.settle(report)
            self._send(report)
            self._follow_settled()
            return report
        except Exception:
            # Whatever went wrong (the node away, most often), look at the chain afresh first.
            self._reconciled = False
            raise

    def _follow_settled(self) -> None:
        """The kinds' second looks at records settled without the chain's word. They send
        nothing, so one failing (a node without the old state a reason is read from, a log query
        a provider refuses) is logged and left for the next cycle, never holding the relay up."""
        for kind, relay in self.relays.items():
            try:
                relay.follow_settled()
            except Exception as error:  # the docstring says why any
                log.warning("relay_follow_up_failed", kind=kind, error=type(error).__name__)

    def has_work(self) -> bool:
        """Whether a cycle would find more to do than check that the chain still has what it
        confirmed: records of its kinds queued, records it submitted not yet settled, or its
        transactions open. One read, for the relay loop's idle cycles."""
        mine = self.sender.mine()
        queued = select(OutboxRecord.id).where(
            OutboxRecord.status == RelayStatus.QUEUED, OutboxRecord.kind.in_(self.kinds)
        )
        submitted = (
            select(OutboxRecord.id)
            .join(ChainTransaction, OutboxRecord.transaction_id == ChainTransaction.id)
            .where(OutboxRecord.status == RelayStatus.SUBMITTED, *mine)
        )
        open_txs = select(ChainTransaction.id).where(*mine, ChainTransaction.state.in_(OPEN_STATES))
        with self.database.sessions() as session:
            return bool(
                session.scalar(select(or_(exists(queued), exists(submitted), exists(open_txs))))
            )

    def take_lease(self) -> bool:
        """Takes or renews this account's lease; False while another relayer holds it."""
        return self.lease.take()

    def release_lease(self) -> None:
        """Lets another relayer take over at once (on a clean stop)."""
        self.lease.release()

    def reconcile(self) -> None:
        """Brings the journal and the records in line with the chain; sends nothing."""
        for relay in self.relays.values():
            relay.sync_with_chain()
        self.sender.poll()
        self.settlement.settle(CycleReport())
        for kind, relay in self.relays.items():
            relay.resolve_queued(partial(self._commit, kind))
        self._reconciled = True
        log.info(
            "relay_reconciled",
            sender=self.account.address,
            kinds=sorted(self.kinds),
            chain_id=self.suite.chain_id,
        )

    # ------------------------------------------------------------------ sending

    def _send(self, report: CycleReport) -> None:
        # Records put off in this cycle are not looked at again before the next one.
        put_off: set[int] = set()
        for _ in range(MAX_BATCHES_PER_CYCLE):
            if self.sender.pending_count() >= self.max_in_flight or not self.take_lease():
                return
            head = self.web3.eth.get_block("latest")
            batch = self._next_batch(self._next_block_time(int(head["timestamp"])), put_off)
            if batch is None:
                return
            kind, rows = batch
            try:
                plan = self._plan(kind, rows, int(head["number"]), int(head["gasLimit"]))
            except HeldBack as held:
                self._held_until[kind] = self.clock() + self.hold_seconds
                log.error("relay_kind_held", kind=kind, reason=str(held))
                continue
            try:
                tx_id = self._commit(kind, plan)
            except _PlanOutdated:
                # A record left the queue since it was read (a merchant withdrew its request):
                # nothing of the plan was written; the next batch is planned from what is queued.
                log.info("relay_plan_outdated", kind=kind, records=len(plan.send))
                continue
            report.failed += len(plan.failed)
            report.confirmed += len(plan.confirmed)
            put_off |= set(plan.deferred)
            if tx_id is not None:
                self.sender.broadcast(tx_id)
                report.sent_transactions += 1
                report.sent_records += len(plan.send)
                log.info("relay_sent", kind=kind, records=len(plan.send), tx_id=tx_id)

    def _next_block_time(self, head_time: int) -> int:
        """The earliest time of the block the next transaction lands in: after the head's (block
        times increase), and not before the pending block's (on an idle chain the head is old).
        The registry refuses events later than it; a misjudged event is only put off."""
        earliest = head_time + 1
        try:
            pending = self.web3.eth.get_block("pending")
        except (ValueError, Web3Exception):
            return earliest
        return max(earliest, int(pending["timestamp"])) if pending else earliest

    def _next_batch(
        self, head_time: int, put_off: set[int]
    ) -> tuple[RelayKind, list[RowView]] | None:
        now = self.clock()
        held = [kind for kind, until in self._held_until.items() if until > now]
        ready = [
            and_(OutboxRecord.kind == kind, relay.ready(head_time))
            for kind, relay in self.relays.items()
        ]
        eligible = and_(
            OutboxRecord.status == RelayStatus.QUEUED,
            or_(false(), *ready),
            or_(OutboxRecord.not_before.is_(None), OutboxRecord.not_before <= now),
            OutboxRecord.kind.not_in(held),
            OutboxRecord.id.not_in(put_off),
        )
        with self.database.sessions() as session:
            first = session.scalars(
                select(OutboxRecord.kind).where(eligible).order_by(OutboxRecord.id).limit(1)
            ).first()
            if first is None:
                return None
            kind = RelayKind(first)
            relay = self.relays[kind]
            limit = self.batch_size
            if relay.call.max_records is not None:
                limit = min(limit, relay.call.max_records)
            records = session.execute(
                select(*VIEW_COLUMNS)
                .where(eligible, OutboxRecord.kind == kind)
                .order_by(OutboxRecord.id)
                .limit(limit)
            ).all()
            rows = relay.batch(session, [view_of(record) for record in records])
        return (kind, rows) if rows else None

    def _plan(self, kind: RelayKind, rows: list[RowView], head: int, gas_cap: int) -> Plan:
        plan = Plan()
        relay = self.relays[kind]
        call = relay.call
        rows = relay.prepare(rows, head, plan)
        send = [row for row in rows if row.id not in plan.settled_ids()]
        for _ in range(2 * len(rows) + 2):
            if not send:
                return plan
            data = call.encode(send)
            most = min(gas_cap * 9 // 10, self.gas_caps.get(kind, gas_cap))
            try:
                gas = self._batch_gas(kind, call.address, data, len(send), most)
            except ContractLogicError as error:
                revert = self.decoder.decode(revert_data(error))
                send = relay.without_refused(send, revert, head, plan)
                continue
            if gas > most and len(send) > 1:
                send = send[: len(send) // 2]
                continue
            plan.send, plan.calldata, plan.gas = send, data, min(gas, gas_cap)
            return plan
        raise HeldBack(f"could not settle a {kind} batch of {len(rows)} records")

    def _batch_gas(self, kind: RelayKind, to: str, data: bytes, records: int, most: int) -> int:
        """A batch's gas limit: its kind's last estimate (for the same function) scaled to its
        records, when a call on the pending state runs within it less the margin (one execution:
        12 ms for 500 custody events on Anvil, where its estimate took 100 ms); else the node's
        estimate, which later batches then scale from. Scaled only up to twice the estimated
        records, so the estimate's fixed cost is counted at most twice; a batch smaller than the
        estimated one is estimated (scaling down would leave the fixed cost short). Raises as
        ``estimate_gas`` when the batch reverts."""
        key = (kind, data[:4])
        estimated = self._estimated.get(key)
        if estimated is not None:
            gas, estimated_records = estimated
            scaled = -(-gas * records // estimated_records)
            # The call must run within the limit less the policy's margin, which the limit keeps
            # over it as an estimate's does: the state the batch is mined on may have moved.
            margin = 100 + self.sender.policy.gas_margin_percent
            if (
                estimated_records <= records <= 2 * estimated_records
                and scaled <= most
                and self.sender.runs_within(to, data, -(-scaled * 100 // margin))
            ):
                return scaled
        gas = self.sender.estimate_gas(to, data)
        self._estimated[key] = (gas, records)
        return gas

    def _commit(self, kind: RelayKind, plan: Plan) -> int | None:
        """Writes the plan in one database transaction: settled records, the kind's own writes (the
        custody counter), the signed transaction and its records. Returns the transaction to
        broadcast, if any; raises ``_PlanOutdated``, writing nothing, if a record to send has
        left the queue since it was read."""
        now = self.clock()
        stamp = utc_now()
        updates: list[dict[str, Any]] = []
        for record_id, (tx_hash, block) in plan.confirmed.items():
            updates.append(
                {
                    "id": record_id,
                    "status": RelayStatus.CONFIRMED,
                    "tx_hash": tx_hash,
                    "block_number": block,
                    "confirmed_at": stamp,
                    "transaction_id": None,
                    "last_error": None,
                }
            )
        for record_id, reason in plan.deferred.items():
            updates.append(
                {
                    "id": record_id,
                    "not_before": now + self.retry_after_seconds,
                    "last_error": reason,
                }
            )
        for record_id, reason in plan.failed.items():
            updates.append(
                {
                    "id": record_id,
                    "status": RelayStatus.FAILED,
                    "failure_reason": reason,
                    "transaction_id": None,
                }
            )
            log.warning("relay_record_refused", record_id=record_id, reason=reason)
        with self.database.transaction() as session:
            relay = self.relays[kind]
            tx_id: int | None = None
            if plan.send:
                tx = self.sender.prepare(
                    session,
                    to=relay.call.address,
                    data=plan.calldata,
                    gas_limit=plan.gas,
                    purpose=f"outbox:{kind}",
                )
                tx_id = tx.id
                values, each = _sent_by(tx_id, plan.send)
                if not take_from_queue(session, [row.id for row in plan.send], values, each):
                    raise _PlanOutdated  # rolls back: nothing of the plan is written
            relay.commit(session, plan)
            update_records(session, updates)
        return tx_id


class _PlanOutdated(Exception):
    """A record of the plan is no longer queued: nothing of the plan is written."""


def _sent_by(
    tx_id: int, rows: Sequence[RowView]
) -> tuple[dict[str, Any], dict[str, dict[int, Any]] | None]:
    """The values of records sent by transaction ``tx_id``, for one UPDATE of them all, and each
    record's own: a custody record's event id."""
    values: dict[str, Any] = {
        "status": RelayStatus.SUBMITTED,
        "transaction_id": tx_id,
        "attempts": OutboxRecord.attempts + 1,
        "not_before": None,
        "last_error": None,
    }
    if all(row.custody_event_id is None for row in rows):
        return {**values, "custody_event_id": None}, None
    event_ids = {
        row.id: None if row.custody_event_id is None else str(row.custody_event_id) for row in rows
    }
    return values, {"custody_event_id": event_ids}
