"""Fault injection with real processes: carriers' events and merchants' signed requests stream
into the service while the chain node and the service are killed with SIGKILL and restarted; then
the chain is read to see whether every accepted event and request landed exactly once.

The set-up is the relay benchmark's (``harness.suite``): a fresh Anvil, the suite deployed by
``ape run deploy``, 1,000 registered items, the service as ``make api`` runs it (uvicorn,
``app.main:create_app``, a SQLite file, its relayer and indexer on). Then:

* **the node** saves its state (``anvil_dumpState``, written to a file atomically) every
  ``snapshot_seconds``, keeping only whole dumps (Anvil's can tear: ``fault_node.torn_dump``);
  a node fault is ``kill -9`` and a restart with ``--load-state`` from the
  last saved file, so the chain goes back in time: blocks mined since the snapshot vanish, with
  the relayer's transactions in them (confirmed or not) and the nonces they used;
* **the service** is killed with ``kill -9`` (no shutdown, no lease released) and started again
  on the same database.

Faults strike at fixed fractions of the stream (alternating node and service; the fraction of
each stream accepted, averaged over the streams), while requests are in flight: the merchants'
requests keep pace with the carriers' events and wait at each fault's mark until its strike
begins.

**Merchants** (``harness.request_faults``, when the plan sends ``merchant_requests``): fresh
approved merchants post signed ``registerItems`` requests, each merchant its own in nonce order,
which the service relays with the keeper's key through the forwarder's ``executeBatch``. A service
fault then also waits (at most ``bite_seconds``) until some of them are in flight: journalled and
sent, not settled.

**The keeper** (``app.keeper``) runs in the same service, with a key of its own and a cycle every
second. The set-up opens ``keeper_orders`` orders (``harness.keeper_orders``) in as many groups as
there are faults: half delivered, whose release comes due after their dispute window, half never
shipped, whose refund comes due after their ship-by; each group's deadlines an hour after the
previous group's. Just before each fault the chain's clock is moved past one group's deadlines,
and the fault strikes once the keeper has queued some of them (after at most ``bite_seconds``),
while they are queued, in flight or just mined. The node keeps its clock across a restart (a
live chain's time never goes back, whatever blocks a reorganisation takes away): Anvil restarted
from a saved state would go back to the wall clock, so the harness sets it forward again.

The carriers' client behaves as a carrier should: every request has an ``Idempotency-Key``, and a
request that fails (connection refused or reset, a 5xx, a 503 while the node is away) is sent
again, freshly signed, until it is answered. An event is *accepted* when a ``202`` lists it as
accepted.

The verdict is the chain's, not the service's. For the carriers: every ``CustodyRecorded`` log
the oracle submitted is read, and matched to its carrier event by its context hash (each event
carries a unique reference). ``lost`` = accepted events with no log, ``duplicated`` = accepted
events with more than one log, ``unexpected`` = logs that match no accepted event. For the keeper:
every order's ``OrderReleased`` and ``OrderRefunded`` logs are read; ``missed`` = duties made due
with no outcome on chain, ``twice`` = duties with more than one, and every outcome must be the
duty's own, called by the keeper. For the merchants: the forwarder's ``ExecutedForwardRequest``
log of each accepted (signer, nonce), one and successful, and each item's ``ItemRegistered`` log,
one and under its merchant; every request's status ``confirmed``. The service's outbox must hold
no queued, submitted or failed record at the end, of any kind.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak
from web3 import Web3

from harness.fault_node import Node
from harness.fault_report import Fault, FaultPlan, FaultReport
from harness.fault_service import (
    CUSTODY_KIND,
    KEEPER_KIND,
    Carrier,
    Service,
    event_bodies,
    reference_of,
)
from harness.keeper_orders import OUTCOME_EVENTS, EscrowDriver, KeeperDuties
from harness.merchant_requests import MerchantDriver
from harness.request_faults import MerchantClients, MerchantRequests, wait_in_flight
from harness.suite import ORACLE, deploy_with_items

__all__ = ["Fault", "FaultPlan", "FaultReport", "run_faults"]

# ---------------------------------------------------------------------------------------- the run


@dataclass
class Run:
    """What one run drives: the node, the service, the carriers, the keeper's duties and the
    merchants (None when the plan sends no request)."""

    plan: FaultPlan
    node: Node
    service: Service
    carrier: Carrier
    keeper: KeeperDuties
    merchants: MerchantClients | None
    requests: MerchantRequests | None

    def progress(self) -> float:
        """The fraction of each stream accepted so far, averaged over the streams."""
        parts = [len(self.carrier.accepted) / self.plan.events] if self.plan.events else []
        if self.merchants is not None:
            parts.append(self.merchants.progress)
        return sum(parts) / len(parts)


def run_faults(plan: FaultPlan, base: Path | None = None) -> FaultReport:
    """Runs the plan in ``base`` (a temporary directory when None); the chain's verdict."""
    if base is None:
        with tempfile.TemporaryDirectory(prefix="faults-") as scratch:
            return run_faults(plan, Path(scratch))
    started = time.monotonic()
    deadline = started + plan.deadline_seconds
    node = Node(base, plan.snapshot_seconds)
    node.start()
    service: Service | None = None
    try:
        w3, registry, items = deploy_with_items(node.url, base)
        keeper = KeeperDuties.set_up(
            EscrowDriver.of_deployment(w3, base), plan.keeper_orders, len(_schedule(plan))
        )
        requests = (
            MerchantRequests.set_up(MerchantDriver.of_deployment(w3, base), plan)
            if plan.merchant_requests
            else None
        )
        node.save()  # the set-up survives every node fault
        node.start_background()
        service = Service(base, node, keeper.key)
        service.start()
        bodies = event_bodies(items, "fault", plan.events, plan.request_events)
        carrier = Carrier(service, deadline)
        merchants = (
            None
            if requests is None
            else MerchantClients(service, requests.lanes, deadline, plan.requests_per_second)
        )
        run = Run(plan, node, service, carrier, keeper, merchants, requests)
        faults: list[Fault] = []
        try:
            _stream(run, bodies, faults)
            keeper.make_all_due(node)
            _wait_settled(service, keeper, deadline)
        finally:
            carrier.close()
            if merchants is not None:
                merchants.close()
            node.stop_background()
        report = _verdict(plan, started, w3, registry, carrier, service, keeper, faults)
        report.torn_snapshots = node.torn_dumps
        if requests is not None and merchants is not None:
            report.merchant = requests.verdict(service, merchants)
        return report
    finally:
        if service is not None:
            service.stop()
        node.kill()


def _stream(run: Run, bodies: list[bytes], faults: list[Fault]) -> None:
    """Posts every body and every merchant's requests while the faults strike at their
    fractions of the stream."""
    plan = run.plan
    kinds = _schedule(plan)
    marks = [(index + 1) / (len(kinds) + 1) for index in range(len(kinds))]
    done = threading.Event()
    begun = [0]  # faults whose strike has begun

    def chaos() -> None:
        for kind, mark in zip(kinds, marks, strict=True):
            while run.progress() < mark:
                if done.wait(0.01):
                    return
            begun[0] += 1
            faults.append(_strike(run, kind))

    def along() -> float:
        """How far the merchants' requests may go: as far as the carriers' events, and no
        further than the next fault's mark until its strike begins. A strike first waits for the
        keeper, then for requests in flight: the requests past its mark are sent meanwhile, so
        a slow machine cannot finish them before it."""
        cap = marks[begun[0]] if begun[0] < len(marks) else 1.0
        carrier = len(run.carrier.accepted) / plan.events if plan.events else 1.0
        return min(carrier, cap)

    began = time.monotonic()
    gap = plan.request_events / plan.events_per_second

    def paced(index: int) -> None:
        # Request i leaves no earlier than i gaps after the start: a steady stream.
        done.wait(max(0.0, began + index * gap - time.monotonic()))
        run.carrier.post(bodies[index])

    with ThreadPoolExecutor(plan.clients + 2) as pool:
        striker = pool.submit(chaos)
        merchants = (
            None if run.merchants is None else pool.submit(run.merchants.stream, began, done, along)
        )
        try:
            list(pool.map(paced, range(len(bodies))))
            if merchants is not None:
                merchants.result()
        finally:
            done.set()
        striker.result()


def _schedule(plan: FaultPlan) -> list[str]:
    """Node and service faults, alternating, node first."""
    kinds: list[str] = []
    node, service = plan.node_kills, plan.service_kills
    while node or service:
        if node:
            kinds.append("node")
            node -= 1
        if service:
            kinds.append("service")
            service -= 1
    return kinds


def _strike(run: Run, kind: str) -> Fault:
    if kind != "node":
        return _strike_now(run, kind)
    # The node's snapshots stop before the keeper's group is made due, until the kill: the block
    # that makes it due, its duties and the records confirmed meanwhile all lie above the last
    # snapshot, for the kill to take back (on a slow machine a snapshot taken after they landed
    # left the kill nothing to take).
    with run.node.saving:
        return _strike_now(run, kind)


def _strike_now(run: Run, kind: str) -> Fault:
    node, service, keeper, bite = run.node, run.service, run.keeper, run.plan.bite_seconds
    accepted = len(run.carrier.accepted)
    group = [duty.order_id for duty in keeper.make_due(node)]
    # Strike once the keeper has queued some of the group's duties: while they are queued, in
    # flight or just mined.
    until = time.monotonic() + bite
    while group and not service.keeper_records(group) and time.monotonic() < until:
        time.sleep(0.02)
    due = [duty.order_id for duty in keeper.due]
    if kind == "node":
        until = time.monotonic() + bite
        while time.monotonic() < until and not _takes_work_back(run, group, node.saved_head):
            time.sleep(0.05)
    duties = service.keeper_records(due)
    landed = keeper.landed_above(due, -1) if kind == "node" else []
    ran = run.requests.executed_blocks() if run.requests and kind == "node" else []
    # A service kill strikes while merchants' requests are in flight: journalled and sent in a
    # batch, not settled; a node kill takes what it finds.
    in_flight = (0, 0)
    if run.merchants is not None:
        in_flight = wait_in_flight(service, time.monotonic() + (bite if kind == "service" else 0))
    head_before = node.head()
    began = time.monotonic()
    if kind == "node":
        node.kill()
        node.start()
    else:
        service.kill()
        service.start()
    head_after = node.head()
    return Fault(
        kind=kind,
        at_accepted=accepted,
        head_before=head_before,
        head_after=head_after,
        confirmed_rolled_back=service.confirmed_above(head_after) if kind == "node" else 0,
        restart_seconds=time.monotonic() - began,
        duties_made_due=len(group),
        duties_open=duties.get("queued", 0) + duties.get("submitted", 0),
        duties_confirmed=duties.get("confirmed", 0),
        duties_rolled_back=sum(1 for block in landed if block > head_after),
        at_requests=0 if run.merchants is None else len(run.merchants.accepted),
        requests_in_flight=in_flight[0],
        request_batches_in_flight=in_flight[1],
        requests_rolled_back=sum(1 for block in ran if block > head_after),
    )


def _takes_work_back(run: Run, group: list[str], saved: int) -> bool:
    """Whether a node kill now takes work back: records confirmed above the last snapshot, some
    of the group's duties done in blocks above it, and (when merchants post) some of their
    requests run above it."""
    return (
        run.service.newest_confirmed_block() > saved
        and (not group or bool(run.keeper.landed_above(group, saved)))
        and (run.requests is None or max(run.requests.executed_blocks(), default=-1) > saved)
    )


def _wait_settled(service: Service, keeper: KeeperDuties, deadline: float) -> None:
    """Until no record is queued or submitted, and every duty made due has a record confirmed or
    failed (the service's own view; the chain judges after)."""
    due = [duty.order_id for duty in keeper.due]
    while time.monotonic() < deadline:
        outbox = service.outbox()
        duties = service.keeper_records(due)
        settled = duties.get("confirmed", 0) + duties.get("failed", 0)
        if not outbox.get("queued") and not outbox.get("submitted") and settled >= len(due):
            return
        time.sleep(0.1)
    raise TimeoutError(
        f"the outbox did not settle before the deadline: {service.outbox()}, keeper duties "
        f"{service.keeper_records(due)} of {len(due)}"
    )


def _verdict(
    plan: FaultPlan,
    started: float,
    w3: Web3,
    registry: Any,
    carrier: Carrier,
    service: Service,
    keeper: KeeperDuties,
    faults: list[Fault],
) -> FaultReport:
    logs = registry.events.CustodyRecorded().get_logs(
        from_block=0, argument_filters={"submitter": ORACLE.address}
    )
    by_context = Counter(bytes(log.args.contextHash) for log in logs)
    expected = {keccak(text=reference_of(event_id)): event_id for event_id in carrier.accepted}
    landed = {context: by_context.get(context, 0) for context in expected}
    outbox = service.outbox_of(CUSTODY_KIND)
    duties = keeper.due
    outcomes = keeper.driver.outcomes(duty.order_id for duty in duties)
    done = [outcomes.get(duty.order_id, []) for duty in duties]
    kept = service.outbox_of(KEEPER_KIND)
    return FaultReport(
        plan=plan,
        events_sent=plan.events,
        requests=carrier.requests,
        retried_requests=carrier.retried,
        accepted=len(carrier.accepted),
        confirmed=sum(1 for count in landed.values() if count >= 1),
        lost=sum(1 for count in landed.values() if count == 0),
        duplicated=sum(1 for count in landed.values() if count > 1),
        unexpected_logs=sum(
            count for context, count in by_context.items() if context not in expected
        ),
        outbox_open=outbox.get("queued", 0) + outbox.get("submitted", 0),
        outbox_failed=outbox.get("failed", 0),
        outbox_confirmed=outbox.get("confirmed", 0),
        faults=faults,
        transactions=len({log.transactionHash for log in logs}),
        seconds=time.monotonic() - started,
        keeper_duties=len(duties),
        keeper_executed=sum(1 for found in done if found),
        keeper_missed=sum(1 for found in done if not found),
        keeper_twice=sum(1 for found in done if len(found) > 1),
        keeper_wrong=sum(
            1
            for duty, found in zip(duties, done, strict=True)
            for outcome in found
            if outcome.event != OUTCOME_EVENTS[duty.duty] or outcome.by != keeper.keeper
        ),
        keeper_outbox_open=kept.get("queued", 0) + kept.get("submitted", 0),
        keeper_outbox_failed=kept.get("failed", 0),
        keeper_transactions=len({outcome.tx_hash for found in done for outcome in found}),
    )


if __name__ == "__main__":
    report = run_faults(FaultPlan(events=int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
    # A command-line run for a quick look; `python -m verify --only faults` is the campaign.
    sys.stdout.write(report.summary() + "\n")
    for fault in report.faults:
        sys.stdout.write(fault.model_dump_json() + "\n")
