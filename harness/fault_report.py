"""What the fault campaign (``harness.faults``) runs and what it reports: its plan, each fault it
injected, and the chain's verdict."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field


class FaultPlan(BaseModel):
    """What to run: how many events, in what requests, and which faults."""

    events: int = Field(default=10_000, gt=0)
    request_events: int = Field(default=250, gt=0, le=1_000)
    clients: int = Field(default=2, gt=0)
    # The carriers' pace: a stream, not one burst (faults strike while it flows).
    events_per_second: float = Field(default=500.0, gt=0)
    node_kills: int = Field(default=2, ge=0)
    service_kills: int = Field(default=2, ge=0)
    snapshot_seconds: float = Field(default=2.0, gt=0)
    # A node fault waits (this long at most) until the service holds records confirmed in blocks
    # newer than the node's last snapshot, so that the kill takes confirmed work back.
    bite_seconds: float = Field(default=30.0, ge=0)
    # Orders whose keeper duties (half releases, half refunds) come due during the run, one group
    # just before each fault.
    keeper_orders: int = Field(default=100, ge=0)
    deadline_seconds: float = Field(default=600.0, gt=0)


class Fault(BaseModel):
    """One fault injected: what was killed, when, and what it cost."""

    kind: str = Field(description="'node' or 'service'")
    at_accepted: int = Field(description="events accepted when it struck")
    head_before: int
    head_after: int = Field(description="the chain's head once the node answered again")
    confirmed_rolled_back: int = Field(
        0, description="records the service held confirmed in blocks the fault took away"
    )
    restart_seconds: float
    duties_made_due: int = Field(0, description="keeper duties made due just before it struck")
    duties_open: int = Field(0, description="keeper records queued or submitted when it struck")
    duties_confirmed: int = Field(
        0, description="keeper records the service held confirmed when it struck"
    )
    duties_rolled_back: int = Field(
        0, description="keeper outcomes on chain in blocks the fault took away"
    )

    @property
    def blocks_rolled_back(self) -> int:
        return max(0, self.head_before - self.head_after)


class FaultReport(BaseModel):
    """What the chain shows after the run."""

    plan: FaultPlan
    events_sent: int
    requests: int
    retried_requests: int
    accepted: int
    confirmed: int = Field(description="accepted events with at least one log on chain")
    lost: int
    duplicated: int
    unexpected_logs: int
    outbox_open: int = Field(description="records still queued or submitted")
    outbox_failed: int
    outbox_confirmed: int
    faults: list[Fault]
    transactions: int
    seconds: float
    keeper_duties: int = Field(0, description="keeper duties made due")
    keeper_executed: int = Field(0, description="duties with their outcome on chain")
    keeper_missed: int = Field(0, description="duties made due with no outcome on chain")
    keeper_twice: int = Field(0, description="duties with more than one outcome on chain")
    keeper_wrong: int = Field(
        0, description="outcomes not the duty's own (a refund for a release) or not by the keeper"
    )
    keeper_outbox_open: int = Field(0, description="keeper records still queued or submitted")
    keeper_outbox_failed: int = 0
    keeper_transactions: int = Field(
        0, description="transactions holding the outcomes (releases due together share one)"
    )

    @property
    def blocks_rolled_back(self) -> int:
        return sum(fault.blocks_rolled_back for fault in self.faults)

    @property
    def confirmed_rolled_back(self) -> int:
        return sum(fault.confirmed_rolled_back for fault in self.faults)

    @property
    def duties_rolled_back(self) -> int:
        return sum(fault.duties_rolled_back for fault in self.faults)

    @property
    def exactly_once(self) -> bool:
        return (
            self.accepted == self.plan.events
            and self.lost == 0
            and self.duplicated == 0
            and self.unexpected_logs == 0
            and self.confirmed == self.accepted
            and self.outbox_open == 0
            and self.outbox_failed == 0
            and self.keeper_exactly_once
        )

    @property
    def keeper_exactly_once(self) -> bool:
        """Every keeper duty made due done once on chain, by the keeper, its outbox settled."""
        return (
            self.keeper_duties == self.plan.keeper_orders
            and self.keeper_executed == self.keeper_duties
            and self.keeper_missed == 0
            and self.keeper_twice == 0
            and self.keeper_wrong == 0
            and self.keeper_outbox_open == 0
            and self.keeper_outbox_failed == 0
        )

    def summary(self) -> str:
        kinds = Counter(fault.kind for fault in self.faults)
        return (
            f"accepted={self.accepted} confirmed={self.confirmed} lost={self.lost} "
            f"duplicated={self.duplicated} unexpected={self.unexpected_logs} "
            f"outbox_open={self.outbox_open} outbox_failed={self.outbox_failed} "
            f"faults=node:{kinds['node']},service:{kinds['service']} "
            f"blocks_rolled_back={self.blocks_rolled_back} "
            f"confirmed_rolled_back={self.confirmed_rolled_back} retried={self.retried_requests} "
            f"transactions={self.transactions} keeper_duties={self.keeper_duties} "
            f"keeper_executed={self.keeper_executed} keeper_missed={self.keeper_missed} "
            f"keeper_twice={self.keeper_twice} keeper_wrong={self.keeper_wrong} "
            f"keeper_rolled_back={self.duties_rolled_back} "
            f"keeper_outbox_open={self.keeper_outbox_open} "
            f"keeper_outbox_failed={self.keeper_outbox_failed} seconds={self.seconds:.1f}"
        )
