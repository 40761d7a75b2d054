"""What the fault campaign (``harness.faults``) runs and what it reports: its plan, each fault it
injected, and the chain's verdict."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field, model_validator


class FaultPlan(BaseModel):
    """What to run: how many events, in what requests, and which faults."""

    events: int = Field(default=10_000, ge=0)
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
    # Merchants' signed requests (harness.request_faults) streamed beside the carriers' events:
    # `merchants` fresh merchants, each posting its share as a run of registerItems requests of
    # `request_items` items, nonces in order. A service fault strikes while some are in flight.
    merchant_requests: int = Field(default=0, ge=0)
    merchants: int = Field(default=10, gt=0)
    request_items: int = Field(default=3, gt=0, le=100)
    requests_per_second: float = Field(default=20.0, gt=0)
    deadline_seconds: float = Field(default=600.0, gt=0)

    @model_validator(mode="after")
    def _something_to_send(self) -> FaultPlan:
        if self.events == 0 and self.merchant_requests == 0:
            raise ValueError("a plan sends carrier events, merchant requests or both")
        if self.merchant_requests % self.merchants:
            raise ValueError("merchant_requests is a whole number of requests per merchant")
        return self

    @property
    def requests_per_merchant(self) -> int:
        return self.merchant_requests // self.merchants


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
    at_requests: int = Field(0, description="merchant requests accepted when it struck")
    requests_in_flight: int = Field(
        0,
        description="merchant requests journalled and sent in a batch, not settled, when it struck",
    )
    request_batches_in_flight: int = Field(0, description="the transactions holding them")
    requests_rolled_back: int = Field(
        0, description="merchant requests run on chain in blocks the fault took away"
    )

    @property
    def blocks_rolled_back(self) -> int:
        return max(0, self.head_before - self.head_after)


class MerchantRequestsReport(BaseModel):
    """The chain's verdict on merchants' signed requests: the forwarder's ExecutedForwardRequest
    log of each accepted (signer, nonce), the registry's ItemRegistered log of each item."""

    planned: int
    accepted: int
    answered_after_restart: int = Field(
        description="accepted by a service killed before it answered: the resend was answered "
        "request_replayed"
    )
    retried_posts: int
    executed: int = Field(
        description="accepted requests whose call ran once on chain and succeeded"
    )
    lost: int = Field(description="accepted requests with no ExecutedForwardRequest log")
    twice: int = Field(description="accepted requests with more than one log")
    reverted: int = Field(description="accepted requests whose call ran and reverted")
    unexpected: int = Field(description="logs of these merchants matching no accepted request")
    items: int = Field(description="items the accepted requests register")
    items_registered: int = Field(description="items registered once, under their merchant")
    items_missing: int
    items_twice: int
    items_wrong_merchant: int
    outbox_open: int = Field(description="records still queued or submitted")
    outbox_failed: int
    outbox_confirmed: int
    status_confirmed: int = Field(description="requests whose GET status says confirmed")
    transactions: int = Field(description="executeBatch transactions that ran them")

    @property
    def exactly_once(self) -> bool:
        every = self.accepted == self.planned
        return (
            every
            and self.executed == self.accepted
            and self.lost == self.twice == self.reverted == self.unexpected == 0
            and self.items_registered == self.items
            and self.items_missing == self.items_twice == self.items_wrong_merchant == 0
            and self.outbox_open == self.outbox_failed == 0
            and self.outbox_confirmed == self.accepted
            and self.status_confirmed == self.accepted
        )

    def summary(self) -> str:
        return (
            f"requests_accepted={self.accepted}/{self.planned} "
            f"requests_executed={self.executed} requests_lost={self.lost} "
            f"requests_twice={self.twice} requests_reverted={self.reverted} "
            f"requests_unexpected={self.unexpected} items={self.items_registered}/{self.items} "
            f"items_missing={self.items_missing} items_twice={self.items_twice} "
            f"requests_outbox_open={self.outbox_open} requests_outbox_failed={self.outbox_failed} "
            f"requests_status_confirmed={self.status_confirmed} "
            f"requests_answered_after_restart={self.answered_after_restart} "
            f"request_transactions={self.transactions}"
        )


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
    merchant: MerchantRequestsReport | None = Field(
        default=None, description="merchants' signed requests, when the plan sends any"
    )
    torn_snapshots: int = Field(
        default=0, description="node dumps discarded as torn (a block mined while Anvil wrote them)"
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
    def requests_rolled_back(self) -> int:
        return sum(fault.requests_rolled_back for fault in self.faults)

    @property
    def requests_in_flight_at_service_kills(self) -> int:
        return sum(f.requests_in_flight for f in self.faults if f.kind == "service")

    @property
    def merchant_exactly_once(self) -> bool:
        """Every merchant request accepted and run once on chain (when the plan sends any)."""
        if self.plan.merchant_requests == 0:
            return self.merchant is None
        return self.merchant is not None and self.merchant.exactly_once

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
            and self.merchant_exactly_once
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
            + ("" if self.merchant is None else " " + self.merchant.summary())
            + f" requests_in_flight_at_service_kills={self.requests_in_flight_at_service_kills}"
            f" requests_rolled_back={self.requests_rolled_back}"
            f" torn_snapshots={self.torn_snapshots}"
        )
