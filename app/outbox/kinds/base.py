"""What a relay kind decides, and what it decides when it has nothing of its own to say.

The lane (``app.outbox.lane``) sends every kind the same way: take the oldest queued records,
prepare them, simulate the batch, take out what the contract refuses, journal and broadcast; and
the settlement (``app.outbox.settlement``) ends every kind's transactions the same way. Where
kinds differ they ask the kind's relay: its entry point and how a record is encoded, which queued
records may go and which of them go together, what a record needs before it is simulated, what a
refusal means, what to check on chain at start, and what a succeeded transaction's receipt says
about its records. A new kind is a subclass in a module of its own, named in
``app.outbox.kinds.KIND_RELAYS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.types import BlockIdentifier

from app.chain.contracts import Suite
from app.chain.reverts import Revert, RevertDecoder, revert_data
from app.chain.sender import TransactionSender
from app.db.session import Database
from app.outbox.calls import BatchCall, RowView
from app.outbox.models import OutboxRecord, RelayKind
from app.outbox.plan import GLOBAL_REFUSALS, HeldBack, Plan

# Writes a plan of the kind (settled records, a transaction) in one database transaction.
Commit = Callable[[Plan], object]
# Records of succeeded transactions: transaction id -> (its hash, its record ids, oldest first).
SucceededSends = Mapping[int, tuple[str, list[int]]]


@dataclass(frozen=True)
class RelayContext:
    """What the relays of one sender work with."""

    database: Database
    suite: Suite
    sender: TransactionSender
    # Every relayed contract's errors (and those surfacing through them).
    decoder: RevertDecoder
    depth: int


class KindRelay:
    """One record kind, as one sender relays it."""

    kind: ClassVar[RelayKind]
    contract_name: ClassVar[str]
    function: ClassVar[str]
    tuple_type: ClassVar[str]
    per_record: ClassVar[bool] = False
    # Contracts whose custom errors reach the caller through this kind's entry point.
    error_contracts: ClassVar[tuple[str, ...]] = ()

    def __init__(self, call: BatchCall, context: RelayContext) -> None:
        self.call = call
        self.context = context

    # ------------------------------------------------------------------ the entry point

    @classmethod
    def deployed(cls, suite: Suite) -> Contract | None:
        """The kind's contract on this chain; without it the kind's records wait in the queue."""
        return suite.contracts.get(cls.contract_name)

    @classmethod
    def call_on(cls, contract: Contract) -> BatchCall:
        return BatchCall(
            cls.kind, contract, cls.function, cls.tuple_type, cls.encode_row, cls.per_record
        )

    @staticmethod
    def encode_row(row: RowView) -> list[bytes]:
        """The record's part of the calldata (``app.outbox.calls.RowEncoding``)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ choosing a batch

    def ready(self, head_time: int) -> ColumnElement[bool]:
        """Which queued records of the kind may go into the block after one of ``head_time``,
        beyond what holds for every kind (not backed off, not held, not put off)."""
        return true()

    def batch(self, session: Session, rows: list[RowView]) -> list[RowView]:
        """Which of the oldest ready records (oldest first) go together now."""
        return rows

    # ------------------------------------------------------------------ preparing and committing

    def prepare(self, rows: list[RowView], head: int, plan: Plan) -> list[RowView]:
        """The rows as they are to be simulated; what needs no send is recorded in ``plan``."""
        return rows

    def commit(self, session: Session, plan: Plan) -> None:
        """The kind's own writes, in the database transaction that journals the plan."""

    # ------------------------------------------------------------------ refusals

    def without_refused(
        self, send: list[RowView], revert: Revert, head: int, plan: Plan
    ) -> list[RowView]:
        """The batch without what the contract refused, each refusal recorded in ``plan``.

        By default the record blamed is the first whose prefix of the batch reverts: it fails
        with its error. A refusal that blames no record (a pause, a lost role, or an unknown
        error of the first record) holds the whole kind back (``HeldBack``)."""
        index, first = self._first_refused(send)
        if first.name in GLOBAL_REFUSALS or (index == 0 and first.name == "Unknown"):
            raise HeldBack(str(first))
        plan.failed[send[index].id] = str(first)
        return send[:index] + send[index + 1 :]

    def _first_refused(self, rows: Sequence[RowView]) -> tuple[int, Revert]:
        """The first record whose prefix of the batch reverts (bisection with ``eth_call``)."""
        low, high = 1, len(rows)
        while low < high:
            middle = (low + high) // 2
            if self._refusal(rows[:middle]) is None:
                low = middle + 1
            else:
                high = middle
        revert = self._refusal(rows[:high])
        if revert is None:
            raise HeldBack("the batch reverts but none of its prefixes does")
        return high - 1, revert

    def _refusal(self, rows: Sequence[RowView]) -> Revert | None:
        return self.refusal_of(self.call.encode(rows))

    def refusal_of(self, data: bytes, block: BlockIdentifier = "pending") -> Revert | None:
        """The contract's refusal of ``data`` from the relay's account at ``block``, or None."""
        try:
            self.context.sender.call(self.call.address, data, block)
        except ContractLogicError as error:
            return self.context.decoder.decode(revert_data(error))
        return None

    # ------------------------------------------------------------------ reconciling at start

    def sync_with_chain(self) -> None:
        """On the first cycle, before the journal is polled: what the kind keeps in step with
        the chain."""

    def resolve_queued(self, commit: Commit) -> None:
        """On the first cycle, once the journal is settled: queued records whose earlier sends
        may have reached the chain."""

    def follow_settled(self) -> None:
        """Every full cycle, after settling: records this kind settled without the chain's word
        that the chain may still overturn (most kinds have none)."""

    # ------------------------------------------------------------------ settling

    def refused_in_receipts(self, sends: SucceededSends) -> tuple[dict[int, str], set[int]]:
        """Records the contract refused although their transaction succeeded (record id ->
        reason), and the transactions whose receipt the node no longer has. By default a
        transaction that succeeded applied every record of it."""
        return {}, set()

    def sent_payloads(self, sends: SucceededSends) -> dict[int, dict[str, Any]]:
        """The payloads of the records ``sends`` carried, by record id: what receipts are read
        against."""
        ids = [record_id for _hash, record_ids in sends.values() for record_id in record_ids]
        with self.context.database.sessions() as session:
            query = select(OutboxRecord.id, OutboxRecord.payload).where(OutboxRecord.id.in_(ids))
            return dict(session.execute(query).all())
