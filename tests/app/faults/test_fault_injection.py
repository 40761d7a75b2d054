"""While carrier events stream in and keeper duties come due, the chain node is killed with
SIGKILL and restarted from its saved state, and the service is killed with SIGKILL and restarted;
the chain then holds every accepted event exactly once, every duty made due done exactly once by
the keeper, and the outbox is empty. Real processes throughout (Anvil, uvicorn, SQLite): see
``harness.faults``.

This is the campaign's smoke: 2,000 events and 6 keeper duties (3 due before each fault), one
kill of each kind, every check of the full run.
The campaign itself (10,000 events with two kills of each, then 30,000 with five) is
`make verify` (``python -m verify --only faults``, verify/faults.py), where its figures are
reported.
"""

from __future__ import annotations

from pathlib import Path

from harness.faults import FaultPlan, run_faults

SMOKE = FaultPlan(
    events=2_000, node_kills=1, service_kills=1, keeper_orders=6, deadline_seconds=300
)


def test_every_accepted_event_and_due_duty_lands_once_through_node_and_service_kills(
    tmp_path: Path,
) -> None:
    report = run_faults(SMOKE, tmp_path)
    print(report.summary())
    kinds = [fault.kind for fault in report.faults]
    assert kinds.count("node") == 1 and kinds.count("service") == 1, kinds
    # The node came back from an older state: blocks the relayer had sent into were gone. (Whether
    # they held records already confirmed depends on timing; the campaign's runs require it.)
    assert report.blocks_rolled_back > 0, report.faults
    assert report.accepted == SMOKE.events
    assert report.confirmed == report.accepted
    assert report.lost == 0 and report.duplicated == 0 and report.unexpected_logs == 0
    assert report.outbox_open == 0 and report.outbox_failed == 0
    assert report.outbox_confirmed == report.accepted
    # The keeper: each fault struck after a group of 3 duties was made due.
    assert [fault.duties_made_due for fault in report.faults] == [3, 3]
    assert report.keeper_duties == SMOKE.keeper_orders
    assert report.keeper_executed == report.keeper_duties
    assert report.keeper_missed == 0 and report.keeper_twice == 0 and report.keeper_wrong == 0
    assert report.keeper_outbox_open == 0 and report.keeper_outbox_failed == 0
    # Releases due together share a releaseDue transaction; every other duty has one of its own.
    assert 0 < report.keeper_transactions <= report.keeper_duties
    assert report.exactly_once
