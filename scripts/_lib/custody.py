"""Custody events on a deployed ProductRegistry (``ape run merchant custody``): which rows are
done, and the ids of rows without one.

Rows without ``event_id`` are skipped when this submitter already recorded the very same event
(item, action, time, location and context); the others get the next free ids *in sequence* — one
past the highest id this submitter has used on this registry (from its ``CustodyRecorded`` logs)
or given in the file — so that 256 consecutive ids share one storage word of the contract's
bitmap (random ids would each cost a fresh slot). A row whose id this submitter spent on the
very same event is skipped; every other rule (the item's custodian, a time in the future, an id
spent on another event) is the registry's to refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scripts._lib.chain import Stop
from scripts._lib.custody_inputs import CustodyEntry
from scripts._lib.inputs import UINT256_MAX
from scripts._lib.registry import Registry


@dataclass(frozen=True)
class PlannedEvent:
    entry: CustodyEntry
    event_id: int

    @property
    def where(self) -> str:
        return self.entry.where

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
    to_send: list[PlannedEvent] = field(default_factory=list)
    done: list[CustodyEntry] = field(default_factory=list)


def plan_custody(registry: Registry, submitter: str, entries: list[CustodyEntry]) -> CustodyPlan:
    """Skips events already recorded by ``submitter``; gives ids to rows without one."""
    contract = registry.contract
    recorded = {
        int(log.eventId): (
            bytes(log.itemId),
            int(log.action),
            int(log.occurredAt),
            bytes(log.locationHash),
            bytes(log.contextHash),
        )
        for log in registry.logs("CustodyRecorded", {"submitter": submitter})
    }
    recorded_events = set(recorded.values())
    explicit = [e.event_id for e in entries if e.event_id is not None]
    next_id = max([*recorded, *explicit], default=-1) + 1
    plan = CustodyPlan()
    for entry in entries:
        if entry.event_id is not None:
            if recorded.get(entry.event_id) == entry.natural_key:
                plan.done.append(entry)
            else:
                plan.to_send.append(PlannedEvent(entry, entry.event_id))
        elif entry.natural_key in recorded_events:
            plan.done.append(entry)
        else:
            while contract.isEventRecorded(submitter, next_id):
                next_id += 1
            if next_id > UINT256_MAX:
                raise Stop(f"{entry.where}: no event id left after {UINT256_MAX}")
            plan.to_send.append(PlannedEvent(entry, next_id))
            next_id += 1
    return plan


def id_ranges(ids: list[int]) -> str:
    """``1-3, 7``: ids as runs."""
    spans: list[list[int]] = []
    for value in sorted(ids):
        if spans and spans[-1][1] + 1 == value:
            spans[-1][1] = value
        else:
            spans.append([value, value])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
