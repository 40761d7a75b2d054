"""The relayer: takes queued outbox records in batches and puts them on chain, exactly once.

One cycle (:meth:`Relayer.run_once`):

1. On the first cycle (and after the node was away), *reconcile*: the custody event-id counter is
   moved past the highest id this oracle ever spent on chain; every open transaction is checked
   for receipts; records whose custody ids were already sent are checked with
   ``isEventRecorded`` — all before anything new is sent.
2. Poll the journal (``app.chain.sender``): receipts, confirmation depth, reorgs, re-sends of
   transactions the node forgot, fee bumps of stuck ones.
3. Settle: records of confirmed transactions become ``confirmed`` (block); of reverted or
   replaced ones go back to ``queued`` with a back-off (``failed`` after ``max_attempts``).
4. Send: while fewer than ``max_in_flight`` transactions are unmined, take the oldest queued
   records of one kind (up to ``batch_size``), give custody records their event ids, simulate
   the batch (``eth_estimateGas``), take out what the contract refuses, then journal the signed
   transaction and the records' new state in one database transaction, then broadcast.

Why nothing is applied twice: custody event ids are stored on the record before its first send
and never change once spent; the registry refuses an id twice, so a re-sent batch cannot repeat
an event — and a batch whose ids were partly applied is split: ids found on chain for the very
same event are confirmed from their log, the rest are sent again. Escrow logistics updates carry
no id; for them the journal is exact (every signed attempt is recorded before it is sent, only one
attempt of a nonce can mine), and the escrow's state machine refuses a repeated step anyway.
Credit applications go one per transaction; the attestation's nonce is spent by the decision, so
a second submission reverts and the record is confirmed from the decision's log (whoever sent it).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from eth_abi.abi import decode
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from sqlalchemy import and_, not_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3.exceptions import ContractLogicError, Web3Exception

from app.chain.contracts import Suite, connect, load_suite
from app.chain.journal import OPEN_STATES, ChainTransaction, TxState
from app.chain.keys import load_signing_account
from app.chain.reverts import Revert, RevertDecoder, revert_data
from app.chain.sender import GWEI, SenderPolicy, TransactionSender
from app.db.base import utc_now
from app.db.session import Database
from app.domain.errors import TrustMallError
from app.outbox.calls import BatchCall, RowView, batch_calls
from app.outbox.models import OutboxRecord, RelayCounter, RelayKind, RelayLease, RelayStatus
from app.services import AppServices
from app.settings import Settings

log = structlog.get_logger(__name__)

LOG_CHUNK_BLOCKS = 50_000
LEASE_SECONDS = 15.0
ID_CHUNK = 200
MAX_BATCHES_PER_CYCLE = 64
# Refusals that say nothing about a record: the oracle lost its role, a contract is paused. The
# records wait (``hold_seconds``) instead of failing.
GLOBAL_REFUSALS = frozenset(
    {
        "AccessControlUnauthorizedAccount",
        "EnforcedPause",
        "EscrowEmptyBatch",
        "RegistryEmptyInput",
        "RegistryMerchantNotActive",
    }
)


class HeldBack(TrustMallError, RuntimeError):
    """A batch the contract refuses for a reason no record is to blame for."""


@dataclass
class CycleReport:
    """What one relay cycle did."""

    sent_transactions: int = 0
    sent_records: int = 0
    confirmed: int = 0
    requeued: int = 0
    failed: int = 0
    open_transactions: int = 0

    standing_by: bool = False  # another relayer holds the lease

    @property
    def more_work(self) -> bool:
        """Whether another cycle at once could do more (it sent, so more may be queued)."""
        return self.sent_transactions > 0


@dataclass
class _Plan:
    """What to do with one candidate batch, decided before anything is written."""

    send: list[RowView] = field(default_factory=list)
    calldata: bytes = b""
    gas: int = 0
    confirmed: dict[int, tuple[str, int]] = field(default_factory=dict)
    deferred: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    next_event_id: int | None = None

    def settled_ids(self) -> set[int]:
        return set(self.confirmed) | set(self.deferred) | set(self.failed)


class Relayer:
    """Relays one database's outbox with one oracle account on one chain."""

    def __init__(
        self,
        database: Database,
        suite: Suite,
        account: LocalAccount,
        *,
        batch_size: int,
        max_in_flight: int,
        confirmation_depth: int,
        sender_policy: SenderPolicy | None = None,
        max_attempts: int = 5,
        retry_after_seconds: float = 5.0,
        hold_seconds: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.suite = suite
        self.web3 = suite.web3
        self.account = account
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        self.depth = confirmation_depth
        self.max_attempts = max_attempts
        self.retry_after_seconds = retry_after_seconds
        self.hold_seconds = hold_seconds
        self.clock = clock
        policy = sender_policy or SenderPolicy()
        policy = replace(policy, confirmation_depth=confirmation_depth)
        self.sender = TransactionSender(self.web3, account, database, policy, clock)
        self.calls = batch_calls(
            suite.registry, suite.contracts.get("OrderEscrow"), suite.contracts.get("CreditLines")
        )
        # The verifier's errors surface through CreditLines.applyForCredit.
        verifier = suite.contracts.get("AttestationVerifier")
        self.decoder = RevertDecoder(
            [
                *([dict(entry) for entry in call.contract.abi] for call in self.calls.values()),
                *([[dict(entry) for entry in verifier.abi]] if verifier is not None else []),
            ]
        )
        self.counter_name = (
            f"custody-event-id:{suite.chain_id}:{suite.registry.address}:{account.address}"
        )
        self._custody_topic = HexBytes(suite.registry.events.CustodyRecorded().topic)
        self._submitter_topic = HexBytes(bytes(12) + bytes.fromhex(account.address[2:]))
        self._reconciled = False
        self._held_until: dict[RelayKind, float] = {}
        self.lease_name = f"relay:{suite.chain_id}:{account.address}"
        self.owner = uuid.uuid4().hex

    @classmethod
    def from_services(
        cls,
        services: AppServices,
        *,
        sender_policy: SenderPolicy | None = None,
        retry_after_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Relayer:
        """A relayer for an app: its database, its chain, the oracle key from its settings."""
        settings = services.settings
        account = load_signing_account(
            "oracle",
            settings.oracle_keystore,
            settings.oracle_keystore_passphrase,
            settings.oracle_private_key,
        )
        suite = load_suite(connect(settings.rpc_url), settings.deployments_dir, settings.abi_dir)
        return cls(
            services.database,
            suite,
            account,
            batch_size=settings.relay_batch_size,
            max_in_flight=settings.relay_max_in_flight,
            confirmation_depth=settings.confirmation_depth,
            sender_policy=sender_policy or sender_policy_of(settings),
            retry_after_seconds=(
                settings.relay_retry_after_seconds
                if retry_after_seconds is None
                else retry_after_seconds
            ),
            clock=clock,
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
            self._settle(report)
            self._send(report)
            return report
        except Exception:
            # Whatever went wrong (the node away, most often), look at the chain afresh first.
            self._reconciled = False
            raise

    def take_lease(self) -> bool:
        """Takes or renews this relayer's lease; False while another relayer holds it."""
        now = self.clock()
        try:
            with self.database.transaction() as session:
                if session.get(RelayLease, self.lease_name) is None:
                    session.add(RelayLease(name=self.lease_name, owner=self.owner, expires_at=0.0))
        except IntegrityError:
            pass  # another relayer made the row first
        with self.database.transaction() as session:
            # One statement, so two relayers cannot both win it.
            taken = session.execute(
                update(RelayLease)
                .where(
                    RelayLease.name == self.lease_name,
                    or_(RelayLease.owner == self.owner, RelayLease.expires_at < now),
                )
                .values(owner=self.owner, expires_at=now + LEASE_SECONDS)
                .execution_options(synchronize_session=False)
            )
        return bool(taken.rowcount)  # type: ignore[attr-defined]

    def release_lease(self) -> None:
        """Lets another relayer take over at once (on a clean stop)."""
        with self.database.transaction() as session:
            session.execute(
                update(RelayLease)
                .where(RelayLease.name == self.lease_name, RelayLease.owner == self.owner)
                .values(expires_at=0.0)
                .execution_options(synchronize_session=False)
            )

    def reconcile(self) -> None:
        """Brings the journal and the records in line with the chain; sends nothing."""
        self._sync_event_counter()
        self.sender.poll()
        self._settle(CycleReport())
        self._resolve_queued_ids()
        self._reconciled = True
        log.info("relay_reconciled", oracle=self.account.address, chain_id=self.suite.chain_id)

    # ------------------------------------------------------------------ settling

    def _settle(self, report: CycleReport) -> None:
        """Records of transactions that reached their end take that end."""
        with self.database.transaction() as session:
            _follow_reopened(session)
            rows = session.execute(
                select(
                    OutboxRecord.id,
                    OutboxRecord.attempts,
                    ChainTransaction.state,
                    ChainTransaction.succeeded,
                    ChainTransaction.tx_hash,
                    ChainTransaction.block_number,
                    ChainTransaction.nonce,
                )
                .join(ChainTransaction, OutboxRecord.transaction_id == ChainTransaction.id)
                .where(
                    OutboxRecord.status == RelayStatus.SUBMITTED,
                    ChainTransaction.state.in_((TxState.CONFIRMED, TxState.REPLACED)),
                )
            ).all()
            if not rows:
                return
            now = self.clock()
            stamp = utc_now()
            updates: list[dict[str, Any]] = []
            for record_id, attempts, state, succeeded, tx_hash, block, nonce in rows:
                if state == TxState.CONFIRMED and succeeded:
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
                reason = (
                    f"transaction {tx_hash} reverted in block {block}"
                    if state == TxState.CONFIRMED
                    else f"nonce {nonce} was used by a transaction the relayer did not sign"
                )
                give_up = state == TxState.CONFIRMED and attempts >= self.max_attempts
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
            session.execute(update(OutboxRecord), updates)
        log.info("relay_settled", confirmed=report.confirmed, requeued=report.requeued)

    def _backoff(self, attempts: int) -> float:
        return float(min(self.retry_after_seconds * 2 ** max(attempts - 1, 0), 300.0))

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
            report.failed += len(plan.failed)
            report.confirmed += len(plan.confirmed)
            put_off |= set(plan.deferred)
            tx_id = self._commit(kind, plan)
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
        eligible = and_(
            OutboxRecord.status == RelayStatus.QUEUED,
            or_(OutboxRecord.not_before.is_(None), OutboxRecord.not_before <= now),
            # The registry refuses events later than the block's time: wait for the chain.
            or_(OutboxRecord.kind != RelayKind.CUSTODY, OutboxRecord.occurred_at <= head_time),
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
            call = self.calls.get(kind)
            limit = self.batch_size
            if call is not None and call.max_records is not None:
                limit = min(limit, call.max_records)
            records = session.scalars(
                select(OutboxRecord)
                .where(eligible, OutboxRecord.kind == kind)
                .order_by(OutboxRecord.id)
                .limit(limit)
            ).all()
            rows = [_view(record) for record in records]
            if kind is RelayKind.ORDER_LOGISTICS:
                rows = _in_order(session, rows)
        return (kind, rows) if rows else None

    def _plan(self, kind: RelayKind, rows: list[RowView], head: int, gas_cap: int) -> _Plan:
        plan = _Plan()
        call = self.calls.get(kind)
        if call is None:
            raise HeldBack(f"no contract deployed for {kind} records")
        if kind is RelayKind.CUSTODY:
            rows = self._with_event_ids(rows, head, plan)
        send = [row for row in rows if row.id not in plan.settled_ids()]
        for _ in range(2 * len(rows) + 2):
            if not send:
                return plan
            data = call.encode(send)
            try:
                gas = self.sender.estimate_gas(call.address, data)
            except ContractLogicError as error:
                revert = self.decoder.decode(revert_data(error))
                send = self._without_refused(call, send, revert, head, plan)
                continue
            if gas > gas_cap * 9 // 10 and len(send) > 1:
                send = send[: len(send) // 2]
                continue
            plan.send, plan.calldata, plan.gas = send, data, min(gas, gas_cap)
            return plan
        raise HeldBack(f"could not settle a {kind} batch of {len(rows)} records")

    def _commit(self, kind: RelayKind, plan: _Plan) -> int | None:
        """Writes the plan in one database transaction: settled records, the counter, the signed
        transaction and its records. Returns the transaction to broadcast, if any."""
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
            if plan.next_event_id is not None:
                self._advance_counter(session, plan.next_event_id)
            tx_id: int | None = None
            if plan.send:
                tx = self.sender.prepare(
                    session,
                    to=self.calls[kind].address,
                    data=plan.calldata,
                    gas_limit=plan.gas,
                    purpose=f"outbox:{kind}",
                )
                tx_id = tx.id
                for row in plan.send:
                    updates.append(
                        {
                            "id": row.id,
                            "status": RelayStatus.SUBMITTED,
                            "transaction_id": tx.id,
                            "attempts": row.attempts + 1,
                            "custody_event_id": _id_text(row.custody_event_id),
                            "not_before": None,
                            "last_error": None,
                        }
                    )
            if updates:
                session.execute(update(OutboxRecord), updates)
        return tx_id

    # ------------------------------------------------------------------ refusals

    def _without_refused(
        self, call: BatchCall, send: list[RowView], revert: Revert, head: int, plan: _Plan
    ) -> list[RowView]:
        """The batch without what the contract refused, each refusal recorded in ``plan``."""
        if call.kind is RelayKind.CUSTODY:
            return self._without_refused_custody(send, revert, head, plan)
        if call.kind is RelayKind.CREDIT_APPLICATION:
            return self._without_refused_application(send, revert, head, plan)
        index, first = self._first_refused(call, send)
        if first.name in GLOBAL_REFUSALS or (index == 0 and first.name == "Unknown"):
            raise HeldBack(str(first))
        plan.failed[send[index].id] = str(first)
        return send[:index] + send[index + 1 :]

    def _without_refused_custody(
        self, send: list[RowView], revert: Revert, head: int, plan: _Plan
    ) -> list[RowView]:
        name, args = revert.name, revert.args
        if name in ("RegistryItemNotRegistered", "RegistryNotItemCustodian"):
            item = "0x" + bytes(args["itemId"]).hex()
            culprits = [row for row in send if row.payload["item_id"] == item]
            for row in culprits:
                plan.failed[row.id] = str(revert)
        elif name in (
            "RegistryEventAlreadyRecorded",
            "RegistryEventInFuture",
            "RegistryInvalidAction",
        ):
            event_id = int(args["eventId"])
            culprits = [row for row in send if row.custody_event_id == event_id]
            if name == "RegistryEventInFuture":
                for row in culprits:
                    plan.deferred[row.id] = str(revert)
            elif name == "RegistryInvalidAction":
                for row in culprits:
                    plan.failed[row.id] = str(revert)
            else:
                return self._after_spent_id(send, culprits, event_id, head, plan)
        else:
            raise HeldBack(str(revert))
        if not culprits:
            raise HeldBack(f"{revert} names no record of the batch")
        gone = {row.id for row in culprits}
        return [row for row in send if row.id not in gone]

    def _without_refused_application(
        self, send: list[RowView], revert: Revert, head: int, plan: _Plan
    ) -> list[RowView]:
        """An application is sent alone. Its attestation's nonce spent means it was decided
        already — by an earlier send of ours or by the borrower submitting it: confirmed from the
        decision's log. Any other refusal of the attestation fails the record."""
        if revert.name in GLOBAL_REFUSALS or revert.name == "Unknown":
            raise HeldBack(str(revert))
        for row in send:
            if revert.name == "AttestationNotYetValid":
                plan.deferred[row.id] = str(revert)
                continue
            decision = self._credit_decision(row) if revert.name == "AttestationNonceUsed" else None
            if decision is None:
                plan.failed[row.id] = str(revert)
            elif head - int(decision["blockNumber"]) >= self.depth:
                plan.confirmed[row.id] = (
                    HexBytes(decision["transactionHash"]).to_0x_hex(),
                    int(decision["blockNumber"]),
                )
            else:
                plan.deferred[row.id] = "waiting for an earlier send's depth"
        return []

    def _credit_decision(self, row: RowView) -> Any | None:
        """The CreditApproved or CreditDenied log that spent this record's attestation."""
        lines = self.calls[RelayKind.CREDIT_APPLICATION].contract
        borrower = row.payload["attestation"]["borrower"]
        nonce = int(row.payload["attestation"]["nonce"])
        start = self.suite.deployed_at_block("CreditLines")
        for event in (lines.events.CreditApproved, lines.events.CreditDenied):
            for entry in event().get_logs(
                argument_filters={"borrower": borrower}, from_block=start, to_block="latest"
            ):
                if int(entry["args"]["attestation"]["nonce"]) == nonce:
                    return entry
        return None

    def _after_spent_id(
        self, send: list[RowView], culprits: list[RowView], event_id: int, head: int, plan: _Plan
    ) -> list[RowView]:
        """An id of the batch is spent on chain: ours for this very event (confirm it from its
        log), or someone else's (this record gets a fresh id)."""
        if not culprits:
            raise HeldBack(f"event id {event_id} is spent and names no record of the batch")
        confirmed, waiting, foreign = self._resolve_recorded(culprits, head)
        plan.confirmed.update(confirmed)
        plan.deferred.update({row_id: "waiting for an earlier send's depth" for row_id in waiting})
        kept = [row for row in send if row.id not in confirmed and row.id not in waiting]
        # Someone else spends this oracle's ids (the key is shared): every id of the batch never
        # sent yet moves to a window of ids the chain shows free.
        movable = [row for row in kept if row.attempts == 0 or row.id in foreign]
        if not movable:
            return kept
        log.warning("custody_ids_taken", event_id=event_id, records=len(movable))
        start = self._free_window(
            max(plan.next_event_id or 0, event_id + 1, self._counter_value()), len(movable)
        )
        moved = {row.id: start + offset for offset, row in enumerate(movable)}
        plan.next_event_id = start + len(movable)
        return [
            replace(row, custody_event_id=moved[row.id]) if row.id in moved else row for row in kept
        ]

    def _free_window(self, start: int, count: int) -> int:
        """The first id from ``start`` such that ``count`` ids in a row are unspent on chain."""
        for _ in range(64):
            flags = self._recorded_flags(list(range(start, start + count)))
            spent = [offset for offset, flag in enumerate(flags) if flag]
            if not spent:
                return start
            start += spent[-1] + 1
        raise HeldBack(f"no free window of {count} custody ids found near {start}")

    def _first_refused(self, call: BatchCall, rows: Sequence[RowView]) -> tuple[int, Revert]:
        """The first record whose prefix of the batch reverts (bisection with ``eth_call``)."""
        low, high = 1, len(rows)
        while low < high:
            middle = (low + high) // 2
            if self._refusal(call, rows[:middle]) is None:
                low = middle + 1
            else:
                high = middle
        revert = self._refusal(call, rows[:high])
        if revert is None:
            raise HeldBack("the batch reverts but none of its prefixes does")
        return high - 1, revert

    def _refusal(self, call: BatchCall, rows: Sequence[RowView]) -> Revert | None:
        try:
            self.sender.call(call.address, call.encode(rows))
        except ContractLogicError as error:
            return self.decoder.decode(revert_data(error))
        return None

    # ------------------------------------------------------------------ custody event ids

    def _with_event_ids(self, rows: list[RowView], head: int, plan: _Plan) -> list[RowView]:
        """Rows sent before keep their ids (unless spent on chain — see ``_resolve_recorded``);
        new rows get the next ids of the counter."""
        sent_before = [row for row in rows if row.custody_event_id is not None]
        confirmed, waiting, foreign = self._resolve_recorded(sent_before, head)
        plan.confirmed.update(confirmed)
        plan.deferred.update({row_id: "waiting for an earlier send's depth" for row_id in waiting})
        next_id = self._counter_value()
        result: list[RowView] = []
        for row in rows:
            if row.custody_event_id is None or row.id in foreign:
                row = replace(row, custody_event_id=next_id)
                next_id += 1
            result.append(row)
        plan.next_event_id = next_id
        return result

    def _resolve_queued_ids(self) -> None:
        """Start-up check of queued records that already carry an id (sent before)."""
        with self.database.sessions() as session:
            records = session.scalars(
                select(OutboxRecord).where(
                    OutboxRecord.status == RelayStatus.QUEUED,
                    OutboxRecord.kind == RelayKind.CUSTODY,
                    OutboxRecord.custody_event_id.is_not(None),
                )
            ).all()
            rows = [_view(record) for record in records]
        if not rows:
            return
        head = int(self.web3.eth.block_number)
        confirmed, _waiting, foreign = self._resolve_recorded(rows, head)
        plan = _Plan(confirmed=confirmed)
        self._commit(RelayKind.CUSTODY, plan)
        if foreign:
            with self.database.transaction() as session:
                session.execute(
                    update(OutboxRecord)
                    .where(OutboxRecord.id.in_(foreign))
                    .values(custody_event_id=None)
                )
        log.info("relay_ids_reconciled", checked=len(rows), confirmed=len(confirmed))

    def _resolve_recorded(
        self, rows: Sequence[RowView], head: int
    ) -> tuple[dict[int, tuple[str, int]], set[int], set[int]]:
        """Which of these rows' ids are spent on chain: by this very event (confirmed, or
        waiting for depth) or by another one (foreign: the row needs a new id)."""
        confirmed: dict[int, tuple[str, int]] = {}
        waiting: set[int] = set()
        foreign: set[int] = set()
        spent = [row for row in rows if row.custody_event_id is not None]
        flags = self._recorded_flags([row.custody_event_id or 0 for row in spent])
        hits = [row for row, flag in zip(spent, flags, strict=True) if flag]
        if not hits:
            return confirmed, waiting, foreign
        logs = self._custody_logs([row.custody_event_id or 0 for row in hits])
        for row in hits:
            entry = logs.get(row.custody_event_id or 0)
            if entry is None or not _same_event(entry, row):
                foreign.add(row.id)
            elif head - int(entry["blockNumber"]) >= self.depth:
                confirmed[row.id] = (
                    HexBytes(entry["transactionHash"]).to_0x_hex(),
                    int(entry["blockNumber"]),
                )
            else:
                waiting.add(row.id)
        return confirmed, waiting, foreign

    def _recorded_flags(self, event_ids: Sequence[int]) -> list[bool]:
        registry = self.suite.registry
        flags: list[bool] = []
        for start in range(0, len(event_ids), ID_CHUNK):
            with self.web3.batch_requests() as batch:
                for event_id in event_ids[start : start + ID_CHUNK]:
                    batch.add(registry.functions.isEventRecorded(self.account.address, event_id))
                flags += [bool(result) for result in batch.execute()]
        return flags

    def _custody_logs(self, event_ids: Sequence[int]) -> dict[int, Any]:
        start_block = self.suite.deployed_at_block("ProductRegistry")
        found: dict[int, Any] = {}
        for start in range(0, len(event_ids), ID_CHUNK):
            topics = [HexBytes(i.to_bytes(32, "big")) for i in event_ids[start : start + ID_CHUNK]]
            entries = self.web3.eth.get_logs(
                {
                    "address": self.suite.registry.address,
                    "fromBlock": start_block,
                    "toBlock": "latest",
                    "topics": [self._custody_topic, None, self._submitter_topic, topics],
                }
            )
            for entry in entries:
                found[int.from_bytes(bytes(entry["topics"][3]), "big")] = entry
        return found

    def _sync_event_counter(self) -> None:
        """The counter starts above the highest id this oracle spent on the registry."""
        highest = -1
        registry = self.suite.registry
        head = int(self.web3.eth.block_number)
        start = self.suite.deployed_at_block("ProductRegistry")
        for low in range(start, head + 1, LOG_CHUNK_BLOCKS):
            entries = self.web3.eth.get_logs(
                {
                    "address": registry.address,
                    "fromBlock": low,
                    "toBlock": min(head, low + LOG_CHUNK_BLOCKS - 1),
                    "topics": [self._custody_topic, None, self._submitter_topic],
                }
            )
            for entry in entries:
                highest = max(highest, int.from_bytes(bytes(entry["topics"][3]), "big"))
        with self.database.transaction() as session:
            self._advance_counter(session, highest + 1)

    def _counter_value(self) -> int:
        with self.database.sessions() as session:
            counter = session.get(RelayCounter, self.counter_name)
            return 0 if counter is None else int(counter.value)

    def _advance_counter(self, session: Session, floor: int) -> None:
        counter = session.get(RelayCounter, self.counter_name)
        if counter is None:
            session.add(RelayCounter(name=self.counter_name, value=str(floor)))
        elif int(counter.value) < floor:
            counter.value = str(floor)


def _view(record: OutboxRecord) -> RowView:
    return RowView(
        id=record.id,
        kind=RelayKind(record.kind),
        subject=record.subject,
        payload=dict(record.payload),
        custody_event_id=None if record.custody_event_id is None else int(record.custody_event_id),
        attempts=record.attempts,
    )


def _id_text(event_id: int | None) -> str | None:
    return None if event_id is None else str(event_id)


def _same_event(entry: Any, row: RowView) -> bool:
    """Whether a CustodyRecorded log is this row's event (item, action, time, place, context)."""
    p = row.payload
    item = "0x" + bytes(entry["topics"][1]).hex()
    action, occurred_at, location, context = decode(
        ["uint8", "uint40", "bytes32", "bytes32"], bytes(entry["data"])
    )
    return (
        item == p["item_id"]
        and int(action) == int(p["action"])
        and int(occurred_at) == int(p["occurred_at"])
        and "0x" + bytes(location).hex() == p["location_hash"]
        and "0x" + bytes(context).hex() == p["context_hash"]
    )


def _in_order(session: Session, rows: list[RowView]) -> list[RowView]:
    """Logistics updates of one order go in the order they were accepted: a row waits while an
    earlier update of its order is neither in this batch nor applied on chain."""
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


def sender_policy_of(settings: Settings) -> SenderPolicy:
    """The transaction sender's patience and fees, as the settings give them."""
    cap = settings.relay_max_fee_gwei
    return SenderPolicy(
        confirmation_depth=settings.confirmation_depth,
        resend_after_seconds=settings.relay_resend_after_seconds,
        bump_after_seconds=settings.relay_fee_bump_after_seconds,
        fee_bump_percent=settings.relay_fee_bump_percent,
        priority_fee=round(settings.relay_priority_fee_gwei * GWEI),
        max_fee_per_gas=None if cap is None else round(cap * GWEI),
    )


def _follow_reopened(session: Session) -> None:
    """Confirmed records whose transaction is open again (the chain forgot it: a node restored
    from an older state; see ``TransactionSender.poll``) are submitted again, with it."""
    reopened = select(ChainTransaction.id).where(ChainTransaction.state.in_(OPEN_STATES))
    moved = session.execute(
        update(OutboxRecord)
        .where(
            OutboxRecord.status == RelayStatus.CONFIRMED,
            OutboxRecord.transaction_id.in_(reopened),
        )
        .values(status=RelayStatus.SUBMITTED, tx_hash=None, block_number=None, confirmed_at=None)
        .execution_options(synchronize_session=False)
    )
    count = int(moved.rowcount)  # type: ignore[attr-defined]
    if count:
        log.warning("relay_confirmed_records_reopened", records=count)
