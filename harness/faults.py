"""Fault injection with real processes: carriers' events stream into the service while the chain
node and the service are killed with SIGKILL and restarted; then the chain is read to see whether
every accepted event landed exactly once.

The set-up is the relay benchmark's (``harness.suite``): a fresh Anvil, the suite deployed by
``ape run deploy``, 1,000 registered items, the service as ``make api`` runs it (uvicorn,
``app.main:create_app``, a SQLite file, its relayer and indexer on). Then:

* **the node** saves its state (``anvil_dumpState``, written to a file atomically) every
  ``snapshot_seconds``; a node fault is ``kill -9`` and a restart with ``--load-state`` from the
  last saved file, so the chain goes back in time: blocks mined since the snapshot vanish, with
  the relayer's transactions in them (confirmed or not) and the nonces they used;
* **the service** is killed with ``kill -9`` (no shutdown, no lease released) and started again
  on the same database.

Faults strike at fixed fractions of the stream (alternating node and service), while requests are
in flight.

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
duty's own, called by the keeper. The service's outbox must hold no queued, submitted or failed
record at the end, of either kind.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from eth_utils.crypto import keccak
from pydantic import BaseModel, Field
from web3 import Web3

from app.domain.source_signature import API_KEY_HEADER, SIGNATURE_HEADER, signature_header
from harness.keeper_orders import HOUR, OUTCOME_EVENTS, Duty, EscrowDriver
from harness.nodes import ROOT, anvil_command, free_port, wait_for_rpc
from harness.suite import ORACLE, CarrierService, deploy_with_items

CARRIER = "fault-carrier"
EVENTS_PATH = "/v1/logistics/events"
CONFIRMATION_DEPTH = 2
NODE_START_TIMEOUT = 60.0
KEEPER_INTERVAL_SECONDS = 1.0
# Relay kinds as the service's outbox names them (app.outbox.models.RelayKind), not imported: that
# module would add the outbox's tables to the metadata of a process that makes only the index's.
CUSTODY_KIND = "custody"
KEEPER_KIND = "keeper_duty"
# A group's refunds come due this long after the ship-by of the set-up (the releases' window).
REFUND_LEAD_SECONDS = 600


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


# ---------------------------------------------------------------------------------------- node


class Node:
    """An Anvil process that can be killed and brought back from its last saved state."""

    def __init__(self, base: Path, snapshot_seconds: float) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = base / "anvil-state.json"
        self.log = base / "anvil.log"
        self.snapshot_seconds = snapshot_seconds
        self.process: subprocess.Popen[bytes] | None = None
        self.saved_head = -1  # the saved state holds no block above this one
        # How far the chain's clock runs ahead of the wall clock (moved by `advance_to`).
        self.clock_offset = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        extra = ["--load-state", str(self.state)] if self.state.exists() else []
        deadline = time.monotonic() + NODE_START_TIMEOUT
        while True:
            with self.log.open("ab") as out:
                process = subprocess.Popen(
                    anvil_command(self.port, *extra),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=ROOT,
                    start_new_session=True,
                )
            try:
                wait_for_rpc(self.url, process, NODE_START_TIMEOUT)
            except RuntimeError:
                # The port of the killed node may not be free yet: try again until the deadline.
                if time.monotonic() > deadline:
                    raise
                continue
            if self.clock_offset:
                self._keep_clock()
            with self._lock:
                self.process = process
            return

    def advance_to(self, timestamp: int) -> None:
        """The chain's clock moved to ``timestamp`` (a block mined at it) and on from there."""
        if timestamp > self.head_time():
            self._rpc("evm_setNextBlockTimestamp", [timestamp])
            self._rpc("evm_mine", [])
            self.clock_offset = timestamp - time.time()

    def _keep_clock(self) -> None:
        """After a restart from a saved state: the next block no earlier than the chain's clock
        would be without the fault (Anvil's own goes back to the wall clock)."""
        self._rpc(
            "evm_setNextBlockTimestamp",
            [max(self.head_time(), int(time.time() + self.clock_offset))],
        )

    def head_time(self) -> int:
        block = self._rpc("eth_getBlockByNumber", ["latest", False])
        return int(block["timestamp"], 16)

    def _rpc(self, method: str, params: list[Any]) -> Any:
        answer = httpx.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
            timeout=10,
        ).json()
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def kill(self) -> None:
        """``kill -9``: nothing is saved on the way down."""
        with self._lock:
            process, self.process = self.process, None
        if process is not None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def save(self) -> None:
        """The node's state now, written atomically (a torn file never replaces a whole one)."""
        answer = httpx.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": "anvil_dumpState", "params": []},
            timeout=30,
        ).json()
        data = gzip.decompress(bytes.fromhex(answer["result"][2:]))
        head = self.head()
        temporary = self.state.with_suffix(".tmp")
        temporary.write_bytes(data)
        os.replace(temporary, self.state)
        self.saved_head = head

    def head(self) -> int:
        answer = httpx.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []},
            timeout=10,
        ).json()
        return int(answer["result"], 16)

    def start_background(self) -> None:
        """A snapshot every ``snapshot_seconds``, and an empty block every second (a live chain
        keeps making blocks: the last batches reach their depth). Both ride out the node's
        absences."""
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._every, args=(self.snapshot_seconds, self.save)),
            threading.Thread(target=self._every, args=(1.0, self._mine)),
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    def stop_background(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _mine(self) -> None:
        httpx.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []},
            timeout=5,
        )

    def _every(self, seconds: float, action: Any) -> None:
        while not self._stop.wait(seconds):
            with self._lock:
                alive = self.process is not None
            if alive:
                # The node may die in the middle: the next round tries again.
                with contextlib.suppress(httpx.HTTPError, KeyError, ValueError, OSError):
                    action()


# ---------------------------------------------------------------------------------------- service


RELAY_LEASE_SECONDS = 5.0


class Service(CarrierService):
    """The service as ``make api`` runs it, on one database; killed and restarted at will (on the
    same port and database)."""

    def __init__(self, base: Path, node: Node, keeper_key: str) -> None:
        super().__init__(
            node.url,
            base,
            base,
            carrier=CARRIER,
            requests_per_minute=60_000,
            environment="test",
            confirmation_depth=CONFIRMATION_DEPTH,
            keeper_private_key=keeper_key,
            keeper_interval_seconds=KEEPER_INTERVAL_SECONDS,
            # A killed service's successor takes its key over once the lease runs out.
            relay_lease_seconds=RELAY_LEASE_SECONDS,
        )

    def outbox_of(self, kind: str) -> dict[str, int]:
        """Records of one relay kind by status."""
        rows = self.query(
            "SELECT status, count(*) FROM outbox_records WHERE kind = ? GROUP BY status", (kind,)
        )
        return {str(status): int(count) for status, count in rows}

    def keeper_records(self, order_ids: list[str]) -> dict[str, int]:
        """The keeper's records of these orders by status."""
        found: dict[str, int] = {}
        for start in range(0, len(order_ids), 500):
            chunk = order_ids[start : start + 500]
            rows = self.query(
                "SELECT status, count(*) FROM outbox_records WHERE kind = ? AND subject IN "
                f"({','.join('?' * len(chunk))}) GROUP BY status",
                (KEEPER_KIND, *chunk),
            )
            for status, count in rows:
                found[str(status)] = found.get(str(status), 0) + int(count)
        return found

    def newest_confirmed_block(self) -> int:
        rows = self.query("SELECT max(block_number) FROM outbox_records WHERE status = 'confirmed'")
        return -1 if rows[0][0] is None else int(rows[0][0])

    def confirmed_above(self, block: int) -> int:
        rows = self.query(
            "SELECT count(*) FROM outbox_records WHERE status = 'confirmed' AND block_number > ?",
            (block,),
        )
        return int(rows[0][0])


# ---------------------------------------------------------------------------------------- carrier


def reference_of(event_id: str) -> str:
    """Each event's unique waybill reference: its context hash on chain names it."""
    return f"AWB {event_id}"


def event_bodies(items: list[str], label: str, count: int, per_request: int) -> list[bytes]:
    occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 120))
    actions = ("shipped", "in_transit", "delivered")
    events = [
        {
            "event_id": f"{label}-{i}",
            "item_id": items[i % len(items)],
            "action": actions[i % 3],
            "occurred_at": occurred,
            "location": f"urn:epc:id:sgln:9506000.{i % 97:05d}.0",
            "reference": reference_of(f"{label}-{i}"),
        }
        for i in range(count)
    ]
    return [
        json.dumps(events[start : start + per_request]).encode()
        for start in range(0, count, per_request)
    ]


class Carrier:
    """Posts signed requests and keeps at each until it is answered, as a carrier should."""

    def __init__(self, service: Service, deadline: float) -> None:
        self.service = service
        self.deadline = deadline
        self.accepted: set[str] = set()
        self.requests = 0
        self.retried = 0
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=60)

    def close(self) -> None:
        self._client.close()

    def post(self, body: bytes) -> None:
        key = keccak(body).hex()
        last_timestamp = 0
        attempt = 0
        while time.monotonic() < self.deadline:
            # A new signature each time (a signature is accepted once), never in the same second.
            timestamp = max(int(time.time()), last_timestamp + 1)
            last_timestamp = timestamp
            headers = {
                "Content-Type": "application/json",
                API_KEY_HEADER: self.service.api_key,
                SIGNATURE_HEADER: signature_header(self.service.secret, body, timestamp),
                "Idempotency-Key": key,
            }
            attempt += 1
            with self._lock:
                self.requests += 1
                self.retried += attempt > 1
            try:
                answer = self._client.post(
                    f"{self.service.url}{EVENTS_PATH}", content=body, headers=headers
                )
            except httpx.TransportError:
                self._wait_for_service()
                continue
            if answer.status_code == 202:
                accepted = {entry["event_id"] for entry in answer.json()["accepted"]}
                with self._lock:
                    self.accepted |= accepted
                return
            if answer.status_code >= 500 or answer.status_code == 401:
                # 503 while the node is away; 401 signature_replayed when the service kept the
                # signature and died before answering: send again, signed anew.
                self._wait_for_service()
                continue
            raise RuntimeError(f"request refused: {answer.status_code} {answer.text[:300]}")
        raise TimeoutError("a request was not answered before the deadline")

    def _wait_for_service(self) -> None:
        while time.monotonic() < self.deadline:
            with contextlib.suppress(httpx.HTTPError):
                if self._client.get(f"{self.service.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.05)


# ---------------------------------------------------------------------------------------- the run


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
        node.save()  # the set-up survives every node fault
        node.start_background()
        service = Service(base, node, keeper.key)
        service.start()
        bodies = event_bodies(items, "fault", plan.events, plan.request_events)
        carrier = Carrier(service, deadline)
        faults: list[Fault] = []
        try:
            _stream(plan, bodies, carrier, node, service, keeper, faults)
            keeper.make_all_due(node)
            _wait_settled(service, keeper, deadline)
        finally:
            carrier.close()
            node.stop_background()
        return _verdict(plan, started, w3, registry, carrier, service, keeper, faults)
    finally:
        if service is not None:
            service.stop()
        node.kill()


class KeeperDuties:
    """The keeper's orders in groups, one per fault, each group made due just before its fault;
    and the keeper's key."""

    def __init__(self, driver: EscrowDriver, groups: list[list[Duty]], key: str) -> None:
        self.driver = driver
        self.groups = groups
        self.key = key
        self.keeper = driver.w3.eth.account.from_key(key).address
        self.made_due = 0  # groups made due so far, in order

    @classmethod
    def set_up(cls, driver: EscrowDriver, orders: int, faults: int) -> KeeperDuties:
        """``orders`` orders in ``faults`` groups (at least one), releases and refunds in turn,
        each group's deadlines an hour after the previous group's; a funded keeper key."""
        count = max(1, faults)
        now, window = driver.block_time(), driver.min_window
        kinds = [(index % count, (index // count) % 2 == 0) for index in range(orders)]
        releases = [window + group * HOUR for group, release in kinds if release]
        refunds = [
            now + window + group * HOUR + REFUND_LEAD_SECONDS
            for group, release in kinds
            if not release
        ]
        made = iter(driver.delivered(releases, now + 5 * 86_400) if releases else [])
        unshipped = iter(driver.unshipped(refunds) if refunds else [])
        groups: list[list[Duty]] = [[] for _ in range(count)]
        for group, release in kinds:
            groups[group].append(next(made) if release else next(unshipped))
        key = "0x" + bytes(driver.funded_account().key).hex()
        return cls(driver, groups, key)

    def make_due(self, node: Node) -> list[Duty]:
        """The next group's deadlines passed on the chain's clock; that group (none left: [])."""
        if self.made_due >= len(self.groups):
            return []
        group = self.groups[self.made_due]
        if group:
            node.advance_to(max(duty.due_at for duty in group) + 1)
        self.made_due += 1
        return group

    def make_all_due(self, node: Node) -> None:
        while self.made_due < len(self.groups):
            self.make_due(node)

    @property
    def due(self) -> list[Duty]:
        return [duty for group in self.groups[: self.made_due] for duty in group]

    def landed_above(self, order_ids: list[str], block: int) -> list[int]:
        """The blocks above ``block`` holding outcomes of these orders."""
        found = self.driver.outcomes(order_ids, from_block=block + 1)
        return [outcome.block_number for outcomes in found.values() for outcome in outcomes]


def _stream(
    plan: FaultPlan,
    bodies: list[bytes],
    carrier: Carrier,
    node: Node,
    service: Service,
    keeper: KeeperDuties,
    faults: list[Fault],
) -> None:
    """Posts every body while the faults strike at their fractions of the accepted events."""
    kinds = _schedule(plan)
    marks = [plan.events * (index + 1) // (len(kinds) + 1) for index in range(len(kinds))]
    done = threading.Event()

    def chaos() -> None:
        for kind, mark in zip(kinds, marks, strict=True):
            while len(carrier.accepted) < mark:
                if done.wait(0.01):
                    return
            accepted = len(carrier.accepted)
            faults.append(_strike(kind, accepted, node, service, keeper, plan.bite_seconds))

    began = time.monotonic()
    gap = plan.request_events / plan.events_per_second

    def paced(index: int) -> None:
        # Request i leaves no earlier than i gaps after the start: a steady stream.
        done.wait(max(0.0, began + index * gap - time.monotonic()))
        carrier.post(bodies[index])

    with ThreadPoolExecutor(plan.clients + 1) as pool:
        striker = pool.submit(chaos)
        try:
            list(pool.map(paced, range(len(bodies))))
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


def _strike(
    kind: str, accepted: int, node: Node, service: Service, keeper: KeeperDuties, bite: float
) -> Fault:
    group = [duty.order_id for duty in keeper.make_due(node)]
    # Strike once the keeper has queued some of the group's duties: while they are queued, in
    # flight or just mined.
    until = time.monotonic() + bite
    while group and not service.keeper_records(group) and time.monotonic() < until:
        time.sleep(0.02)
    due = [duty.order_id for duty in keeper.due]
    if kind == "node":
        # Strike when it takes work back: records confirmed above the last snapshot, and some of
        # the group's duties done in blocks above it.
        until = time.monotonic() + bite
        while time.monotonic() < until:
            saved = node.saved_head
            if service.newest_confirmed_block() > saved and (
                not group or keeper.landed_above(group, saved)
            ):
                break
            time.sleep(0.02)
    duties = service.keeper_records(due)
    landed = keeper.landed_above(due, -1) if kind == "node" else []
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
