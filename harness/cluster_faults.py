"""Faults at scale: carriers' events stream through a round-robin front into two replicas of the
service on one PostgreSQL database, while the replica leading the relay is killed with SIGKILL,
then the other replica, then PostgreSQL is stopped in immediate mode (a crash: recovery on the
next start) and started again. The chain judges, as in ``harness.faults``: every accepted event
must be on chain exactly once, the outbox must end empty, and both replicas must answer again.

Set-up: a fresh Anvil with the suite and 1,000 items (``harness.suite``), an empty block every
second; PostgreSQL from Debian's binaries, durable (fsync on); each replica as ``make api`` runs it
(API and workers; the leases in the database elect the relay's, the indexer's and the keeper's
leader). A killed replica is started again at once, so a kill is a crash and a restart, and the
lease of a killed leader passes to the other replica when it runs out. The carriers' client is
``harness.fault_service.Carrier``: idempotency keys, and every failed request sent again, signed
anew, until it is answered.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from eth_utils.crypto import keccak
from pydantic import BaseModel, Field

from harness.cluster import ServiceFront
from harness.fault_service import Carrier, event_bodies, reference_of
from harness.nodes import anvil_command, free_port, running
from harness.postgres import PostgresServer, postgres
from harness.service import ServiceProcess, answers
from harness.suite import ORACLE, CarrierService, block_ticker, database_rows, deploy_with_items

# The kinds of fault, in the order they strike (at 1/4, 2/4 and 3/4 of the stream).
CHAIN_ID = 1337
FAULTS = ("relay leader killed", "other replica killed", "PostgreSQL restarted (immediate)")


class ClusterPlan(BaseModel):
    events: int = 30_000
    request_events: int = 100
    events_per_second: float = 400.0
    clients: int = 8
    deadline_seconds: float = 1_200.0


class ClusterFault(BaseModel):
    kind: str
    at_accepted: int = Field(description="events accepted when it struck")
    replica: int | None = Field(default=None, description="the replica killed (1 or 2)")
    seconds_down: float = Field(description="until the killed part answered again")


class ClusterReport(BaseModel):
    plan: ClusterPlan
    requests: int
    retried_requests: int
    accepted: int
    confirmed: int
    lost: int
    duplicated: int
    unexpected_logs: int
    outbox_open: int
    outbox_failed: int
    faults: list[ClusterFault]
    replicas_answering: int
    transactions: int
    seconds: float

    @property
    def passed(self) -> bool:
        return (
            self.accepted == self.plan.events
            and self.lost == 0
            and self.duplicated == 0
            and self.unexpected_logs == 0
            and self.outbox_open == 0
            and self.outbox_failed == 0
            and self.replicas_answering == 2
            and len(self.faults) == len(FAULTS)
        )


@dataclass(frozen=True)
class _Endpoint:
    """What the carriers' client needs of a service: where, and the carrier's credentials."""

    url: str
    api_key: str
    secret: str


def run_cluster_faults(plan: ClusterPlan, base: Path | None = None) -> ClusterReport:
    if base is None:
        with tempfile.TemporaryDirectory(prefix="cluster-faults-") as scratch:
            return run_cluster_faults(plan, Path(scratch))
    started = time.monotonic()
    deadline = started + plan.deadline_seconds
    port = free_port()
    with running(anvil_command(port), port, base / "anvil.log") as node:
        w3, registry, items = deploy_with_items(node.rpc_url, base)
        start_block = int(w3.eth.block_number) + 1
        with block_ticker(w3), postgres(durable=True) as server:
            database_url = server.create_database("cluster")
            first = CarrierService(node.rpc_url, base, base / "replica-1",
                                   database_url=database_url)  # fmt: skip
            second = ServiceProcess(first.env, free_port(), base / "replica-2" / "service.log")
            replicas = [first, second]
            front = ServiceFront(free_port(), [first.port, second.port], base)
            try:
                for replica in replicas:
                    replica.start()
                front.start()
                endpoint = _Endpoint(f"http://127.0.0.1:{front.port}", first.api_key,
                                     first.secret)  # fmt: skip
                carrier = Carrier(endpoint, deadline)  # type: ignore[arg-type]
                faults: list[ClusterFault] = []
                try:
                    bodies = event_bodies(items, "cluster", plan.events, plan.request_events)
                    _stream(plan, carrier, bodies, faults, replicas, server, database_url)
                    _wait_settled(database_url, len(carrier.accepted), deadline)
                finally:
                    carrier.close()
                answering = sum(answers(f"{replica.url}/readyz", timeout=5) for replica in replicas)
                outbox = dict(
                    database_rows(
                        database_url, "SELECT status, count(*) FROM outbox_records GROUP BY status"
                    )
                )
            finally:
                front.stop()
                for replica in replicas:
                    replica.stop()
        logs = registry.events.CustodyRecorded().get_logs(
            from_block=start_block, argument_filters={"submitter": ORACLE.address}
        )
    by_context = Counter(bytes(log.args.contextHash) for log in logs)
    expected = {keccak(text=reference_of(event_id)) for event_id in carrier.accepted}
    landed = [by_context.get(context, 0) for context in expected]
    return ClusterReport(
        plan=plan,
        requests=carrier.requests,
        retried_requests=carrier.retried,
        accepted=len(carrier.accepted),
        confirmed=sum(1 for count in landed if count >= 1),
        lost=sum(1 for count in landed if count == 0),
        duplicated=sum(1 for count in landed if count > 1),
        unexpected_logs=sum(n for context, n in by_context.items() if context not in expected),
        outbox_open=int(outbox.get("queued", 0)) + int(outbox.get("submitted", 0)),
        outbox_failed=int(outbox.get("failed", 0)),
        faults=faults,
        replicas_answering=answering,
        transactions=len({log.transactionHash for log in logs}),
        seconds=time.monotonic() - started,
    )


def _stream(
    plan: ClusterPlan,
    carrier: Carrier,
    bodies: list[bytes],
    faults: list[ClusterFault],
    replicas: list[ServiceProcess],
    server: PostgresServer,
    database_url: str,
) -> None:
    """Posts every body at the plan's pace while the faults strike at 1/4, 2/4 and 3/4."""
    done = threading.Event()
    strikes: list[Callable[[], ClusterFault]] = [
        lambda: _kill(replicas, _relay_leader(replicas, database_url), FAULTS[0], carrier),
        lambda: _kill(replicas, 2 - (faults[0].replica or 1), FAULTS[1], carrier),
        lambda: _restart_database(server, replicas, carrier),
    ]

    def chaos() -> None:
        for number, strike in enumerate(strikes, start=1):
            while len(carrier.accepted) < plan.events * number / (len(strikes) + 1):
                if done.wait(0.01):
                    return
            faults.append(strike())

    began = time.monotonic()
    gap = plan.request_events / plan.events_per_second

    def paced(index: int) -> None:
        done.wait(max(0.0, began + index * gap - time.monotonic()))
        carrier.post(bodies[index])

    with ThreadPoolExecutor(plan.clients + 1) as pool:
        striker = pool.submit(chaos)
        try:
            list(pool.map(paced, range(len(bodies))))
        finally:
            done.set()
        striker.result()


def _relay_leader(replicas: list[ServiceProcess], database_url: str) -> int:
    """The index (0 or 1) of the replica holding the oracle's relay lease (its process id leads
    the lease's owner)."""
    rows = database_rows(
        database_url,
        "SELECT owner FROM relay_leases WHERE name = ?",
        (f"relay:{CHAIN_ID}:{ORACLE.address}",),
    )
    pids = {int(str(owner).split(":", 1)[0]) for (owner,) in rows}
    for index, replica in enumerate(replicas):
        if replica.process is not None and replica.process.pid in pids:
            return index
    return 0


def _kill(replicas: list[ServiceProcess], index: int, kind: str, carrier: Carrier) -> ClusterFault:
    at = len(carrier.accepted)
    struck = time.monotonic()
    replicas[index].kill()
    replicas[index].start()
    return ClusterFault(kind=kind, at_accepted=at, replica=index + 1,
                        seconds_down=time.monotonic() - struck)  # fmt: skip


def _restart_database(
    server: PostgresServer, replicas: list[ServiceProcess], carrier: Carrier
) -> ClusterFault:
    at = len(carrier.accepted)
    struck = time.monotonic()
    server.stop("immediate")
    server.start()
    for replica in replicas:
        _until_ready(replica.url, struck + 120)
    return ClusterFault(kind=FAULTS[2], at_accepted=at, seconds_down=time.monotonic() - struck)


def _until_ready(url: str, deadline: float) -> None:
    while time.monotonic() < deadline and not answers(f"{url}/readyz", timeout=5):
        time.sleep(0.1)


def _wait_settled(database_url: str, accepted: int, deadline: float) -> None:
    """Until every accepted event's record is confirmed and none is open."""
    while time.monotonic() < deadline:
        rows = dict(
            database_rows(
                database_url, "SELECT status, count(*) FROM outbox_records GROUP BY status"
            )
        )
        if (
            rows.get("confirmed", 0) >= accepted
            and not rows.get("queued")
            and not rows.get("submitted")
        ):
            return
        time.sleep(0.2)
    raise TimeoutError("the outbox did not settle before the deadline")
