"""Custody events on a deployed ProductRegistry (``ape run merchant custody``): which rows are
done, and the ids of rows without one, handed out as ``app.domain.custody_ids`` says. A row this
submitter already recorded (the same id and content, or without an id the same content) is
skipped; every other rule (the item's custodian, a time in the future, an id spent on another
event) is the registry's to refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.custody_ids import custody_key, first_unspent, free_ids
from app.domain.custody_rows import CustodyEntry
from scripts._lib.chain import Stop
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
        int(log.eventId): custody_key(
            log.itemId, log.action, log.occurredAt, log.locationHash, log.contextHash
        )
        for log in registry.logs("CustodyRecorded", {"submitter": submitter})
    }
    said = set(recorded.values())
    explicit = [e.event_id for e in entries if e.event_id is not None]
    fresh = [e for e in entries if e.event_id is None and e.natural_key not in said]
    try:
        ids = iter(
            free_ids(
                first_unspent([*recorded, *explicit]),
                len(fresh),
                lambda window: [contract.isEventRecorded(submitter, i) for i in window],
            )
        )
    except ValueError as exc:
        raise Stop(f"{exc}; nothing was sent") from None
    plan = CustodyPlan()
    for entry in entries:
        if entry.event_id is not None:
            if recorded.get(entry.event_id) == entry.natural_key:
                plan.done.append(entry)
            else:
                plan.to_send.append(PlannedEvent(entry, entry.event_id))
        elif entry.natural_key in said:
            plan.done.append(entry)
        else:
            plan.to_send.append(PlannedEvent(entry, next(ids)))
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
