"""The oracle's custody event ids, handed out as ``app.domain.custody_ids`` says: each custody
record gets its id before its first send and keeps it; the counter (in the database) starts above
the highest id the oracle ever spent; an id found spent on chain is either this very event
(confirmed from its log) or someone else's (the record gets a fresh id the chain shows free)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import structlog
from hexbytes import HexBytes
from sqlalchemy.orm import Session

from app.chain.contracts import Suite
from app.chain.log_ranges import logs_in_ranges
from app.db.session import Database
from app.domain.abi_types import from_hex
from app.domain.custody_ids import custody_key, first_unspent, free_ids, key_of_log
from app.outbox.calls import RowView
from app.outbox.models import RelayCounter
from app.outbox.plan import WAITING_FOR_DEPTH, HeldBack, Plan

log = structlog.get_logger(__name__)

ID_CHUNK = 200

# (confirmed: record -> (tx hash, block), waiting for depth, spent by another event)
Resolution = tuple[dict[int, tuple[str, int]], set[int], set[int]]


class CustodyIds:
    """One oracle's custody event ids on one registry, and the counter that hands them out."""

    def __init__(self, database: Database, suite: Suite, oracle: str, depth: int) -> None:
        self.database = database
        self.suite = suite
        self.web3 = suite.web3
        self.oracle = oracle
        self.depth = depth
        self.counter_name = f"custody-event-id:{suite.chain_id}:{suite.registry.address}:{oracle}"
        self._custody_topic = HexBytes(suite.registry.events.CustodyRecorded().topic)
        self._submitter_topic = HexBytes(bytes(12) + bytes.fromhex(oracle[2:]))

    # ------------------------------------------------------------------ giving ids

    def with_event_ids(self, rows: list[RowView], head: int, plan: Plan) -> list[RowView]:
        """Rows sent before keep their ids (unless spent on chain — see ``resolve_recorded``);
        new rows get the next ids of the counter."""
        sent_before = [row for row in rows if row.custody_event_id is not None]
        confirmed, waiting, foreign = self.resolve_recorded(sent_before, head)
        plan.confirmed.update(confirmed)
        plan.deferred.update({row_id: WAITING_FOR_DEPTH for row_id in waiting})
        next_id = self.counter_value()
        result: list[RowView] = []
        for row in rows:
            if row.custody_event_id is None or row.id in foreign:
                row = replace(row, custody_event_id=next_id)
                next_id += 1
            result.append(row)
        plan.next_event_id = next_id
        return result

    def after_spent_id(
        self, send: list[RowView], culprits: list[RowView], event_id: int, head: int, plan: Plan
    ) -> list[RowView]:
        """An id of the batch is spent on chain: ours for this very event (confirm it from its
        log), or someone else's (this record gets a fresh id)."""
        if not culprits:
            raise HeldBack(f"event id {event_id} is spent and names no record of the batch")
        confirmed, waiting, foreign = self.resolve_recorded(culprits, head)
        plan.confirmed.update(confirmed)
        plan.deferred.update({row_id: WAITING_FOR_DEPTH for row_id in waiting})
        kept = [row for row in send if row.id not in confirmed and row.id not in waiting]
        # Someone else spends this oracle's ids (the key is shared): every id of the batch never
        # sent yet moves to ids the chain shows free.
        movable = [row for row in kept if row.attempts == 0 or row.id in foreign]
        if not movable:
            return kept
        log.warning("custody_ids_taken", event_id=event_id, records=len(movable))
        start = max(plan.next_event_id or 0, event_id + 1, self.counter_value())
        try:
            ids = free_ids(start, len(movable), self.recorded_flags)
        except ValueError as error:
            raise HeldBack(str(error)) from None
        moved = {row.id: event_id for row, event_id in zip(movable, ids, strict=True)}
        plan.next_event_id = ids[-1] + 1
        return [
            replace(row, custody_event_id=moved[row.id]) if row.id in moved else row for row in kept
        ]

    # ------------------------------------------------------------------ reading the chain

    def resolve_recorded(self, rows: Sequence[RowView], head: int) -> Resolution:
        """Which of these rows' ids are spent on chain: by this very event (confirmed, or
        waiting for depth) or by another one (foreign: the row needs a new id)."""
        confirmed: dict[int, tuple[str, int]] = {}
        waiting: set[int] = set()
        foreign: set[int] = set()
        spent = [row for row in rows if row.custody_event_id is not None]
        flags = self.recorded_flags([row.custody_event_id or 0 for row in spent])
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

    def recorded_flags(self, event_ids: Sequence[int]) -> list[bool]:
        registry = self.suite.registry
        flags: list[bool] = []
        for start in range(0, len(event_ids), ID_CHUNK):
            with self.web3.batch_requests() as batch:
                for event_id in event_ids[start : start + ID_CHUNK]:
                    batch.add(registry.functions.isEventRecorded(self.oracle, event_id))
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

    # ------------------------------------------------------------------ the counter

    def sync_counter(self) -> None:
        """The counter starts above the highest id this oracle spent on the registry."""
        spent: list[int] = []
        registry = self.suite.registry
        start = self.suite.deployed_at_block("ProductRegistry")
        topics = [self._custody_topic, None, self._submitter_topic]
        for entry in logs_in_ranges(self.web3, registry.address, topics, start):
            spent.append(int.from_bytes(bytes(entry["topics"][3]), "big"))
        with self.database.transaction() as session:
            self.advance_counter(session, first_unspent(spent))

    def counter_value(self) -> int:
        with self.database.sessions() as session:
            counter = session.get(RelayCounter, self.counter_name)
            return 0 if counter is None else int(counter.value)

    def advance_counter(self, session: Session, floor: int) -> None:
        counter = session.get(RelayCounter, self.counter_name)
        if counter is None:
            session.add(RelayCounter(name=self.counter_name, value=str(floor)))
        elif int(counter.value) < floor:
            counter.value = str(floor)


def _same_event(entry: Any, row: RowView) -> bool:
    """Whether a CustodyRecorded log is this row's event (item, action, time, place, context)."""
    p = row.payload
    said = custody_key(from_hex(p["item_id"]), p["action"], p["occurred_at"],
                       from_hex(p["location_hash"]), from_hex(p["context_hash"]))  # fmt: skip
    return key_of_log(bytes(entry["topics"][1]), bytes(entry["data"])) == said
