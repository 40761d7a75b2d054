"""Custody events, sent in batches to ``ProductRegistry.recordCustody``.

Each record carries the oracle's event id (``app.outbox.custody_ids``), given before its first
send and kept: the registry refuses an id twice, so a re-sent batch cannot repeat an event. The
registry also refuses an event later than its block, so a record waits until the chain's time has
passed its own. A refusal names its item or its event id, so the record to blame is read off the
error instead of searched for; an id found spent is this very event (confirmed from its log) or
someone else's (a fresh id)."""

from __future__ import annotations

import structlog
from sqlalchemy import ColumnElement, and_, exists, select, update
from sqlalchemy.orm import Session, aliased
from web3.contract import Contract

from app.chain.contracts import Suite
from app.chain.reverts import Revert
from app.outbox.calls import VIEW_COLUMNS, BatchCall, RowView, bytes32_word, uint_word, view_of
from app.outbox.custody_ids import CustodyIds
from app.outbox.kinds.base import Commit, KindRelay, RelayContext
from app.outbox.kinds.batch_activation import ACTIVATION_SOURCE
from app.outbox.models import OutboxRecord, RelayKind, RelayStatus
from app.outbox.plan import HeldBack, Plan

log = structlog.get_logger(__name__)

# IProductRegistry.CustodyInput: itemId, eventId, action, occurredAt, locationHash, contextHash.
CUSTODY_TUPLE = "(bytes32,uint256,uint8,uint40,bytes32,bytes32)"


class CustodyRelay(KindRelay):
    """Custody events on the registry: each record's id given before its first send and spent
    once, a refusal read off the error that names its item or id, the id counter kept in step
    with the chain at start."""

    kind = RelayKind.CUSTODY
    contract_name = "ProductRegistry"
    function = "recordCustody"
    tuple_type = CUSTODY_TUPLE

    def __init__(self, call: BatchCall, context: RelayContext) -> None:
        super().__init__(call, context)
        self.ids = CustodyIds(
            context.database, context.suite, context.sender.address, context.depth
        )

    @classmethod
    def deployed(cls, suite: Suite) -> Contract | None:
        """The registry is the suite's core: without it the relayer does not start."""
        return suite.registry

    @staticmethod
    def encode_row(row: RowView) -> list[bytes]:
        p = row.payload
        if row.custody_event_id is None:
            raise ValueError(f"custody record {row.id} has no event id")
        return [
            bytes32_word(p["item_id"]),
            uint_word(row.custody_event_id, 256),
            uint_word(int(p["action"]), 8),
            uint_word(int(p["occurred_at"]), 40),
            bytes32_word(p["location_hash"]),
            bytes32_word(p["context_hash"]),
        ]

    def ready(self, head_time: int) -> ColumnElement[bool]:
        # The registry refuses events later than the block's time: wait for the chain. An item
        # being activated from its batch proof has no record yet: its events wait for it.
        activation = aliased(OutboxRecord)
        activating = exists().where(
            activation.source == ACTIVATION_SOURCE,
            activation.source_event_id == OutboxRecord.subject,
            activation.status.in_((RelayStatus.QUEUED, RelayStatus.SUBMITTED)),
        )
        return and_(OutboxRecord.occurred_at <= head_time, ~activating)

    def prepare(self, rows: list[RowView], head: int, plan: Plan) -> list[RowView]:
        return self.ids.with_event_ids(rows, head, plan)

    def commit(self, session: Session, plan: Plan) -> None:
        if plan.next_event_id is not None:
            self.ids.advance_counter(session, plan.next_event_id)

    def without_refused(
        self, send: list[RowView], revert: Revert, head: int, plan: Plan
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
                return self.ids.after_spent_id(send, culprits, event_id, head, plan)
        else:
            raise HeldBack(str(revert))
        if not culprits:
            raise HeldBack(f"{revert} names no record of the batch")
        gone = {row.id for row in culprits}
        return [row for row in send if row.id not in gone]

    def sync_with_chain(self) -> None:
        """The counter moves past the highest id this oracle ever spent on chain."""
        self.ids.sync_counter()

    def resolve_queued(self, commit: Commit) -> None:
        """Queued records that already carry an id (sent before) are checked with
        ``isEventRecorded``: confirmed when the chain holds this very event, given a fresh id
        when someone else spent theirs."""
        database = self.context.database
        with database.sessions() as session:
            records = session.execute(
                select(*VIEW_COLUMNS).where(
                    OutboxRecord.status == RelayStatus.QUEUED,
                    OutboxRecord.kind == self.kind,
                    OutboxRecord.custody_event_id.is_not(None),
                )
            ).all()
            rows = [view_of(record) for record in records]
        if not rows:
            return
        head = int(self.context.suite.web3.eth.block_number)
        confirmed, _waiting, foreign = self.ids.resolve_recorded(rows, head)
        commit(Plan(confirmed=confirmed))
        if foreign:
            with database.transaction() as session:
                session.execute(
                    update(OutboxRecord)
                    .where(OutboxRecord.id.in_(foreign))
                    .values(custody_event_id=None)
                )
        log.info("relay_ids_reconciled", checked=len(rows), confirmed=len(confirmed))
