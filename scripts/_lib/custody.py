"""Custody events on a deployed ProductRegistry: planning (ids, skips, problems) and recording
in chunks. Used by ``ape run merchant custody``; see ``scripts/_lib/registry.py`` for the ids
given to rows without one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scripts._lib.custody_inputs import CustodyEntry
from scripts._lib.inputs import UINT256_MAX
from scripts._lib.journal import Journal
from scripts._lib.registry import (
    DEFAULT_CHUNK_SIZE,
    ZERO_ADDRESS,
    PreflightError,
    Registry,
    RunResult,
    head_block,
    hex_of,
    require_active_merchant,
    send_in_chunks,
)

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI


@dataclass(frozen=True)
class PlannedEvent:
    entry: CustodyEntry
    event_id: int

    def as_input(self) -> tuple[bytes, int, int, int, bytes, bytes]:
        e = self.entry
        return (
            e.item_id,
            self.event_id,
            int(e.action),
            e.occurred_at,
            e.location_hash,
            e.context_hash,
        )


@dataclass
class CustodyPlan:
    submitter_is_oracle: bool
    to_send: list[PlannedEvent] = field(default_factory=list)
    done: list[CustodyEntry] = field(default_factory=list)


def plan_custody(registry: Registry, submitter: str, entries: list[CustodyEntry]) -> CustodyPlan:
    """Pre-flight for custody events: items known and ours (unless oracle), times not in the
    future, event ids free or spent on the very same event; assigns ids to rows without one."""
    from ape import chain

    contract = registry.contract
    is_oracle = bool(contract.hasRole(contract.ORACLE_ROLE(), submitter))
    if not is_oracle:
        require_active_merchant(registry, submitter)
    plan = CustodyPlan(submitter_is_oracle=is_oracle)
    problems: list[str] = []
    now = int(chain.blocks.head.timestamp)
    owners: dict[bytes, str] = {}
    for entry in entries:
        if entry.item_id not in owners:
            owners[entry.item_id] = str(contract.itemOf(entry.item_id).merchant)
        owner = owners[entry.item_id]
        if owner == ZERO_ADDRESS:
            problems.append(
                f"{entry.where}: item {hex_of(entry.item_id)} is not registered "
                "(a batch item must be activated first)"
            )
        elif not is_oracle and owner != submitter:
            problems.append(
                f"{entry.where}: item {hex_of(entry.item_id)} belongs to merchant {owner}, "
                f"not to {submitter}"
            )
        if entry.occurred_at > now:
            problems.append(
                f"{entry.where}, field 'occurred_at': {entry.occurred_at} is in the future "
                f"(latest block time {now})"
            )

    recorded: dict[int, tuple[bytes, int, int, bytes, bytes]] = {}
    for log in contract.CustodyRecorded.range(
        registry.from_block, head_block() + 1, search_topics={"submitter": submitter}
    ):
        recorded[int(log.eventId)] = (
            bytes(log.itemId),
            int(log.action),
            int(log.occurredAt),
            bytes(log.locationHash),
            bytes(log.contextHash),
        )
    recorded_events = set(recorded.values())

    explicit = [e.event_id for e in entries if e.event_id is not None]
    next_id = max([*recorded, *explicit], default=-1) + 1
    for entry in entries:
        if entry.event_id is not None:
            spent = entry.event_id in recorded or contract.isEventRecorded(
                submitter, entry.event_id
            )
            if not spent:
                plan.to_send.append(PlannedEvent(entry, entry.event_id))
            elif recorded.get(entry.event_id) == entry.natural_key:
                plan.done.append(entry)
            else:
                problems.append(
                    f"{entry.where}, field 'event_id': {entry.event_id} is already recorded by "
                    f"{submitter} for another event"
                )
        elif entry.natural_key in recorded_events:
            plan.done.append(entry)
        else:
            while contract.isEventRecorded(submitter, next_id):
                next_id += 1
            if next_id > UINT256_MAX:
                problems.append(f"{entry.where}: no event id left after {UINT256_MAX}")
                continue
            plan.to_send.append(PlannedEvent(entry, next_id))
            next_id += 1
    if problems:
        raise PreflightError(problems)
    return plan


def record_custody(
    registry: Registry,
    account: AccountAPI,
    plan: CustodyPlan,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    journal: Journal | None = None,
    dry_run: bool = False,
    on_chunk: Callable[[int], None] | None = None,
) -> RunResult:
    """Records the planned events with ``recordCustody``, ``chunk_size`` per transaction."""
    return send_in_chunks(
        account,
        registry.contract.recordCustody,
        plan.to_send,
        lambda event: event.as_input(),
        lambda event: str(event.event_id),
        RunResult(skipped=len(plan.done)),
        chunk_size=chunk_size,
        journal=journal,
        dry_run=dry_run,
        on_chunk=on_chunk,
    )
