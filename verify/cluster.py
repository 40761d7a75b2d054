"""Faults at scale (``harness.cluster_faults``): 30,000 carriers' events through a round-robin
front into two replicas of the service on PostgreSQL while the relay's leader is killed with
SIGKILL, then the other replica, then PostgreSQL is stopped in immediate mode and started again.
The chain judges: every accepted event once, none lost, the outbox empty, both replicas
answering. At smoke scale: 2,000 events at a slower pace, the same three faults."""

from __future__ import annotations

from harness.cluster_faults import ClusterPlan, run_cluster_faults
from verify.model import Cell, Section
from verify.scale import pick

PLAN = pick(
    ClusterPlan(events=30_000, events_per_second=400.0),
    ClusterPlan(events=2_000, events_per_second=50.0, deadline_seconds=600.0),
)
COLUMNS = ["Events", "Accepted", "Confirmed on chain", "Lost", "Duplicated", "Unexpected logs",
           "Outbox open or failed", "Replicas answering", "Requests (retried)", "Transactions",
           "Seconds"]  # fmt: skip


def run() -> Section:
    report = run_cluster_faults(PLAN)
    row: dict[str, Cell] = {
        "Events": PLAN.events,
        "Accepted": report.accepted,
        "Confirmed on chain": report.confirmed,
        "Lost": report.lost,
        "Duplicated": report.duplicated,
        "Unexpected logs": report.unexpected_logs,
        "Outbox open or failed": report.outbox_open + report.outbox_failed,
        "Replicas answering": report.replicas_answering,
        "Requests (retried)": f"{report.requests:,} ({report.retried_requests:,})",
        "Transactions": report.transactions,
        "Seconds": round(report.seconds),
    }
    faults = "; ".join(
        f"{fault.kind}" + (f" (replica {fault.replica})" if fault.replica else "")
        + f" at {fault.at_accepted:,} accepted, {fault.seconds_down:.1f} s until it answered"
        for fault in report.faults
    )  # fmt: skip
    return Section(
        key="cluster",
        title="Faults at scale: two replicas on PostgreSQL, each killed, the database restarted",
        columns=COLUMNS,
        rows=[row],
        passed=report.passed,
        notes=[
            f"Faults, in order: {faults}.",
            "PostgreSQL 15 from Debian's binaries, durable (fsync on); each replica as make api "
            "runs it (API and workers), the leases electing each worker's leader; a killed "
            "replica started again at once; the carriers' client sends every failed request "
            "again with its idempotency key. Lost, duplicated and unexpected are counted from "
            "the chain's CustodyRecorded logs, matched to events by their context hash.",
        ],
    )
