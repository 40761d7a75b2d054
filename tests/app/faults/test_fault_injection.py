"""Issue 6: while 10,000 carrier events stream in, the chain node is killed with SIGKILL and
restarted from its saved state, and the service is killed with SIGKILL and restarted, twice each;
the chain then holds every accepted event exactly once and the outbox is empty. Real processes
throughout (Anvil, uvicorn, SQLite): see ``harness.faults``."""

from __future__ import annotations

from pathlib import Path

from harness.faults import FaultPlan, run_faults


def test_every_accepted_event_lands_once_through_node_and_service_kills(tmp_path: Path) -> None:
    report = run_faults(FaultPlan(events=10_000, deadline_seconds=420), tmp_path)
    print(report.summary())
    kinds = [fault.kind for fault in report.faults]
    assert kinds.count("node") == 2 and kinds.count("service") == 2, kinds
    # The node faults took confirmed work away: the relayer had to notice and send it again.
    assert report.blocks_rolled_back > 0 and report.confirmed_rolled_back > 0, report.faults
    assert report.accepted == 10_000
    assert report.confirmed == report.accepted
    assert report.lost == 0 and report.duplicated == 0 and report.unexpected_logs == 0
    assert report.outbox_open == 0 and report.outbox_failed == 0
    assert report.outbox_confirmed == report.accepted
