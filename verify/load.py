"""Load: the shopper's verification endpoint and the carriers' ingestion endpoint, each
held at its benchmark rate in its benchmark's own set-up for ``VERIFY_LOAD_SECONDS`` (600 by
default), one after the other, counting errors and sampling the service's memory every second.

Phase 1, reads (``bench.verify``'s set-up): a fresh Anvil, the suite deployed, an index of 100,000
items (24 registered on chain and indexed, the rest inserted into the index's tables), the service
under uvicorn with ``--no-access-log --loop uvloop --http httptools``. ``GET /v1/items/{id}`` on
random items from 8 keep-alive connections, as fast as they are answered (``bench.verify``'s load
generator), in windows of 10 s. Held: >= 2,000 req/s and p99 <= 25 ms over the phase.

Phase 2, ingestion (``bench.relay``'s set-up): a fresh Anvil with an empty block every second, the
suite deployed by ``ape run deploy``, 1,000 registered items, the whole service (relayer and
indexer) under uvicorn, confirmation depth 2. Signed requests of 500 new events paced at 1,000
events/s (request n leaves n pace gaps after the start, up to 4 in flight). Held: the events sent
in the measured time accepted at >= 99 % of the pace; the service's count of confirmed records
growing at >= 99 % of it (least-squares slope of the per-second counts); at the end, no
unconfirmed record older than 30 s; after the load, every accepted record confirmed within 120 s
and none failed.

Both phases warm up (``min(30 s, a tenth of the time)``) before the clock starts. Memory is the
service's resident set size each second, all of it (VmRSS) and its anonymous part (RssAnon: the
heap, where a leak shows). Flat means the anonymous part at the end is within 10 % + 20 MiB of its
value after the warm-up. VmRSS is reported beside it but not judged: its file-backed part is mostly
the SQLite file that the read path maps (136 MiB in phase 1, a mapping per connection), whose
mapped pages come and go with SQLite's remapping and the kernel's paging: in phase 1 it swung by
tens of MiB, up or down, while the anonymous part stayed within 1 MiB."""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from eth_account import Account
from eth_utils.crypto import keccak

from app.domain.source_signature import API_KEY_HEADER, SIGNATURE_HEADER, signature_header
from bench.indexed_items import build_index
from bench.verify import ORACLE_KEY, LoadResult, load, verification_service
from harness.fault_service import EVENTS_PATH, event_bodies
from harness.nodes import anvil_command, free_port, running
from harness.service import ServiceProcess, cpu_seconds
from harness.suite import (
    ADMIN,
    MERCHANT,
    CarrierService,
    block_ticker,
    deploy,
    deploy_with_items,
)
from verify.model import Cell, Section
from verify.scale import pick

SECONDS = float(os.environ.get("VERIFY_LOAD_SECONDS", pick("600", "10")))
WARM_UP_SECONDS = min(30.0, SECONDS / 10)
# Reads: bench.verify's connections and targets, measured in windows of this length.
CONNECTIONS = 8
WINDOW_SECONDS = 10.0
ITEMS_RPS_TARGET = 2_000
ITEMS_P99_MS_TARGET = 25.0
# Ingestion: bench.relay's request size, clients and target.
REQUEST_EVENTS = 500
CLIENTS = 4
EVENTS_PER_SECOND_TARGET = 1_000
RATE_TOLERANCE = 0.99
LAG_BOUND_SECONDS = 30.0
DRAIN_SECONDS = 120.0
# Memory.
FLAT_FRACTION = 0.10
FLAT_SLACK_MIB = 20.0

COLUMNS = [
    "Phase",
    "Target",
    "Held",
    "Requests",
    "Errors",
    "p99 ms",
    "Slowest 10 s",
    "Backlog at end",
    "Confirmation lag p50 / p99 / max",
    "RSS after warm-up MiB",
    "RSS end MiB",
    "RSS peak MiB",
    "Anonymous MiB",
    "Flat",
    "Other processes' CPU",
    "Passed",
]


# ---------------------------------------------------------------------------------------- memory


@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic()
    rss: float
    anon: float
    confirmed: int | None = None


class Sampler:
    """Every second until stopped: the service's memory (and, given ``confirmed``, its count of
    confirmed records). ``mark`` takes a sample at once (after the warm-up, at the end)."""

    def __init__(self, service: ServiceProcess, confirmed: Callable[[], int] | None = None) -> None:
        self.service = service
        self.confirmed = confirmed
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def mark(self) -> Sample:
        sample = Sample(
            time.monotonic(),
            self.service.rss_mib(),
            self.service.rss_mib("RssAnon"),
            None if self.confirmed is None else self.confirmed(),
        )
        self.samples.append(sample)
        return sample

    def between(self, start: Sample, end: Sample) -> list[Sample]:
        return [sample for sample in self.samples if start.at <= sample.at <= end.at]

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.mark()


@dataclass(frozen=True)
class Memory:
    after_warm_up: Sample
    end: Sample
    peak: float
    samples: int

    @property
    def flat(self) -> bool:
        return self.end.anon <= self.after_warm_up.anon * (1 + FLAT_FRACTION) + FLAT_SLACK_MIB

    @classmethod
    def of(cls, sampler: Sampler, after_warm_up: Sample, end: Sample) -> Memory:
        measured = sampler.between(after_warm_up, end)
        return cls(after_warm_up, end, max(sample.rss for sample in measured), len(measured))

    def cells(self) -> dict[str, Cell]:
        return {
            "RSS after warm-up MiB": round(self.after_warm_up.rss, 1),
            "RSS end MiB": round(self.end.rss, 1),
            "RSS peak MiB": round(self.peak, 1),
            "Anonymous MiB": f"{self.after_warm_up.anon:.1f} -> {self.end.anon:.1f}",
            "Flat": self.flat,
        }

    def note(self, phase: str) -> str:
        return (
            f"{phase}: RSS {self.after_warm_up.rss:.1f} MiB after the warm-up "
            f"({self.after_warm_up.anon:.1f} MiB anonymous), {self.end.rss:.1f} MiB at the end "
            f"({self.end.anon:.1f} MiB anonymous), {self.peak:.1f} MiB at the peak; "
            f"{self.samples} samples; flat: {'yes' if self.flat else 'NO'}."
        )


# ---------------------------------------------------------------------------------------- cpu


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used so far: by the whole machine, and by this campaign's own processes (this
    one, the service, the node). Their difference over a phase is what other processes took."""

    machine: float
    ours: float

    @classmethod
    def now(cls, *pids: int) -> Cpu:
        # /proc/stat's first line: user nice system idle iowait irq softirq steal (clock ticks).
        ticks = [int(value) for value in Path("/proc/stat").read_text().split()[1:9]]
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
        return cls(busy, time.process_time() + sum(cpu_seconds(pid) for pid in pids))

    def others_since(self, start: Cpu, seconds: float) -> str:
        others = max(0.0, (self.machine - start.machine) - (self.ours - start.ours)) / seconds
        return f"{others:.2f} of {os.cpu_count()} cores"


# ---------------------------------------------------------------------------------------- the run


def run() -> Section:
    with tempfile.TemporaryDirectory(prefix="verify-load-") as scratch:
        base = Path(scratch)
        reads = _reads(base / "reads")
        ingestion = _ingestion(base / "ingestion")
    phases = [reads, ingestion]
    return Section(
        key="load",
        title=f"Load: verification, then ingestion, each held for {SECONDS:.0f} s",
        columns=COLUMNS,
        rows=[phase.row for phase in phases],
        passed=all(phase.passed for phase in phases),
        notes=[
            f"Each phase in its benchmark's own set-up, one after the other, after a "
            f"{WARM_UP_SECONDS:.0f} s warm-up. Reads: bench.verify's (a fresh Anvil, 100,000 "
            "items in the index, uvicorn --no-access-log --loop uvloop --http httptools, 8 "
            "keep-alive connections asking for random items as fast as they are answered). "
            "Ingestion: bench.relay's (a fresh Anvil with an empty block every second, the whole "
            f"service with relayer and indexer, confirmation depth 2), signed requests of "
            f"{REQUEST_EVENTS} new events paced at {EVENTS_PER_SECOND_TARGET:,} events/s, up to "
            f"{CLIENTS} in flight.",
            f"Held: reads at >= {ITEMS_RPS_TARGET:,} req/s with p99 <= {ITEMS_P99_MS_TARGET:.0f} "
            f"ms over the phase; ingestion accepted and confirmed at >= {RATE_TOLERANCE:.0%} of "
            f"the pace (confirmed: the slope of the service's per-second count of confirmed "
            f"records), no unconfirmed record older than {LAG_BOUND_SECONDS:.0f} s at the end, "
            f"every accepted record confirmed within {DRAIN_SECONDS:.0f} s after the load, none "
            "failed. 'Confirmation lag' is confirmed_at - accepted_at of the records accepted in "
            "the measured time, in seconds.",
            f"Memory: flat means the anonymous resident memory (RssAnon) at the end <= its value "
            f"after the warm-up + {FLAT_FRACTION:.0%} + {FLAT_SLACK_MIB:.0f} MiB ('Anonymous "
            "MiB': after the warm-up -> at the end). The whole RSS is shown but not judged: its "
            "file-backed part is mostly the SQLite file that the read path maps, whose mapped "
            "pages come and go with SQLite's remapping and the kernel's paging, up or down by "
            "tens of MiB whatever the service allocates. "
            + reads.memory.note("Reads")
            + " "
            + ingestion.memory.note("Ingestion"),
            *ingestion.notes,
            "Client, service, relayer, indexer and Anvil share the machine's cores; 'Other "
            "processes' CPU' is the machine's busy time over the measured time less this "
            "campaign's own processes' (client, service, Anvil): a phase measured while other "
            "work ran is slower for it.",
        ],
    )


@dataclass
class Phase:
    row: dict[str, Cell]
    memory: Memory
    passed: bool
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------- reads


def _reads(base: Path) -> Phase:
    port = free_port()
    with running(anvil_command(port), port, base / "anvil.log") as node:
        deploy(node.rpc_url, base, oracle=Account.from_key(ORACLE_KEY).address)
        index = build_index(
            node.rpc_url,
            base / "deployments",
            base / "abi",
            base / "service.db",
            verifier=ADMIN.address,
            merchant=MERCHANT.address,
        )
        paths = index.paths()
        log = base / "service.log"
        service = verification_service(
            node.rpc_url, base / "deployments", base / "abi", base / "service.db", log
        )
        with service, Sampler(service) as sampler:
            load(service.port, paths, WARM_UP_SECONDS, CONNECTIONS)
            cpu = Cpu.now(service.pid, node.process.pid)
            after_warm_up = sampler.mark()
            windows = _windows(service.port, paths)
            end = sampler.mark()
            others = Cpu.now(service.pid, node.process.pid).others_since(
                cpu, end.at - after_warm_up.at
            )
    memory = Memory.of(sampler, after_warm_up, end)
    seconds = end.at - after_warm_up.at
    requests = sum(window.requests for window in windows)
    errors = sum(window.errors for window in windows)
    rps = requests / seconds
    latencies = [latency for window in windows for latency in window.latencies]
    p99 = LoadResult(requests, errors, seconds, latencies).percentile_ms(0.99) if latencies else 0
    slowest = min(window.rps for window in windows)
    held = rps >= ITEMS_RPS_TARGET and p99 <= ITEMS_P99_MS_TARGET
    passed = held and errors == 0 and memory.flat
    row: dict[str, Cell] = {
        "Phase": "1. GET /v1/items/{id}",
        "Target": f">= {ITEMS_RPS_TARGET:,} req/s, p99 <= {ITEMS_P99_MS_TARGET:.0f} ms",
        "Held": f"{rps:,.0f} req/s",
        "Requests": requests,
        "Errors": errors,
        "p99 ms": round(p99, 2),
        "Slowest 10 s": f"{slowest:,.0f} req/s",
        **memory.cells(),
        "Other processes' CPU": others,
        "Passed": passed,
    }
    return Phase(row, memory, passed)


def _windows(port: int, paths: list[str]) -> list[LoadResult]:
    """The load for ``SECONDS`` in windows of ``WINDOW_SECONDS``; a window whose connections
    failed (reset, closed) counts as one error with what it had not answered."""
    deadline = time.monotonic() + SECONDS
    windows: list[LoadResult] = []
    while (left := deadline - time.monotonic()) > 0.1:
        seconds = min(WINDOW_SECONDS, left)
        began = time.monotonic()
        try:
            windows.append(load(port, paths, seconds, CONNECTIONS))
        except (OSError, EOFError):
            windows.append(LoadResult(0, 1, time.monotonic() - began, []))
    return windows


# ---------------------------------------------------------------------------------------- ingestion


@dataclass(frozen=True)
class Sent:
    index: int
    at: float  # time.monotonic()
    accepted: int
    seconds: float


class Ingestion:
    """Signed requests of ``REQUEST_EVENTS`` new events, request n sent ``n * GAP`` after the
    start (or as soon after as a client is free), until ``count`` were sent or it is stopped."""

    GAP = REQUEST_EVENTS / EVENTS_PER_SECOND_TARGET

    def __init__(self, service: CarrierService, items: list[str], count: int) -> None:
        self.service = service
        self.items = items
        self.count = count
        self.sent: list[Sent] = []
        self.errors = 0
        self.started = 0.0
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        self.started = time.monotonic()
        limits = httpx.Limits(max_connections=CLIENTS)
        with httpx.Client(timeout=60, limits=limits) as client, ThreadPoolExecutor(CLIENTS) as pool:

            def paced(index: int) -> None:
                if not self.stop.wait(max(0.0, self.scheduled(index) - time.monotonic())):
                    self._post(client, index)

            list(pool.map(paced, range(self.count)))

    def scheduled(self, index: int) -> float:
        return self.started + index * self.GAP

    def rate_from(self, first: int) -> float:
        """Events per second accepted from request ``first`` on: their events over the time from
        the first one's scheduled send to one gap after the last one's actual send (a request
        sent late stretches it)."""
        measured = [sent for sent in self.sent if sent.index >= first]
        if not measured:
            return 0.0
        span = max(sent.at for sent in measured) + self.GAP - self.scheduled(first)
        return sum(sent.accepted for sent in measured) / span

    def _post(self, client: httpx.Client, index: int) -> None:
        # Each request's events spread over every item in turn.
        offset = index * REQUEST_EVENTS % len(self.items)
        items = self.items[offset:] + self.items[:offset]
        [body] = event_bodies(items, f"load-{index}", REQUEST_EVENTS, REQUEST_EVENTS)
        headers = {
            "Content-Type": "application/json",
            API_KEY_HEADER: self.service.api_key,
            SIGNATURE_HEADER: signature_header(self.service.secret, body),
            "Idempotency-Key": keccak(body).hex(),
        }
        sent = time.monotonic()
        accepted = 0
        try:
            answer = client.post(f"{self.service.url}{EVENTS_PATH}", content=body, headers=headers)
            if answer.status_code == 202:
                accepted = len(answer.json()["accepted"])
        except httpx.HTTPError:
            pass
        with self._lock:
            self.sent.append(Sent(index, sent, accepted, time.monotonic() - sent))
            self.errors += accepted != REQUEST_EVENTS

    @property
    def accepted(self) -> int:
        return sum(sent.accepted for sent in self.sent)

    def p99_ms(self) -> float:
        ordered = sorted(sent.seconds for sent in self.sent)
        return _quantile(ordered, 0.99) * 1000 if ordered else 0.0


def _ingestion(base: Path) -> Phase:
    port = free_port()
    with running(anvil_command(port), port, base / "anvil.log") as node:
        w3, _, items = deploy_with_items(node.rpc_url, base)
        warm_up_requests = round(WARM_UP_SECONDS / Ingestion.GAP)
        count = warm_up_requests + round(SECONDS / Ingestion.GAP)
        with block_ticker(w3), CarrierService(node.rpc_url, base, base) as service:
            ingestion = Ingestion(service, items, count)
            with Sampler(service, lambda: _confirmed(service)) as sampler:
                sender = threading.Thread(target=ingestion.run, name="ingestion")
                sender.start()
                try:
                    time.sleep(WARM_UP_SECONDS)
                    cpu = Cpu.now(service.pid, node.process.pid)
                    after_warm_up = sampler.mark()
                    first_measured = _last_id(service)
                    time.sleep(max(0.0, after_warm_up.at + SECONDS - time.monotonic()))
                    end = sampler.mark()
                    others = Cpu.now(service.pid, node.process.pid).others_since(
                        cpu, end.at - after_warm_up.at
                    )
                    backlog, oldest = _backlog(service)
                except BaseException:
                    ingestion.stop.set()
                    raise
                finally:
                    sender.join()
            last_measured = _last_id(service)
            drained = _drain(service)
            outbox = service.outbox()
            lags = _lags(service, first_measured, last_measured)
    memory = Memory.of(sampler, after_warm_up, end)
    accepted_rate = ingestion.rate_from(warm_up_requests)
    confirmed_rate = _slope(sampler.between(after_warm_up, end))
    floor = EVENTS_PER_SECOND_TARGET * RATE_TOLERANCE
    total_accepted = ingestion.accepted
    all_confirmed = (
        drained is not None
        and outbox.get("confirmed", 0) == total_accepted
        and not outbox.get("failed")
    )
    held = (
        accepted_rate >= floor
        and confirmed_rate >= floor
        and oldest <= LAG_BOUND_SECONDS
        and all_confirmed
    )
    passed = held and ingestion.errors == 0 and memory.flat
    lag_cell = (
        f"{_quantile(lags, 0.5):.1f} / {_quantile(lags, 0.99):.1f} / {max(lags):.1f} s"
        if lags
        else "none confirmed"
    )
    row: dict[str, Cell] = {
        "Phase": "2. POST /v1/logistics/events, relayed and confirmed",
        "Target": f">= {EVENTS_PER_SECOND_TARGET:,} events/s",
        "Held": f"{accepted_rate:,.0f} accepted, {confirmed_rate:,.0f} confirmed events/s",
        "Requests": len(ingestion.sent),
        "Errors": ingestion.errors,
        "p99 ms": round(ingestion.p99_ms(), 2),
        "Backlog at end": f"{backlog:,} records, oldest {oldest:.1f} s",
        "Confirmation lag p50 / p99 / max": lag_cell,
        **memory.cells(),
        "Other processes' CPU": others,
        "Passed": passed,
    }
    drain_note = (
        f"the backlog drained in {drained:.1f} s after the load"
        if drained is not None
        else f"the backlog did NOT drain within {DRAIN_SECONDS:.0f} s after the load"
    )
    notes = [
        f"Ingestion: {total_accepted:,} events accepted in all (warm-up included), {drain_note}; "
        f"outbox at the end: {outbox}."
    ]
    return Phase(row, memory, passed, notes)


def _confirmed(service: CarrierService) -> int:
    rows = service.query("SELECT count(*) FROM outbox_records WHERE status = 'confirmed'")
    return int(rows[0][0])


def _last_id(service: CarrierService) -> int:
    rows = service.query("SELECT coalesce(max(id), 0) FROM outbox_records")
    return int(rows[0][0])


def _backlog(service: CarrierService) -> tuple[int, float]:
    """Records not yet confirmed, and how long ago the oldest of them was accepted (seconds)."""
    [(count, age)] = service.query(
        "SELECT count(*), coalesce((julianday('now') - julianday(min(accepted_at))) * 86400, 0) "
        "FROM outbox_records WHERE status IN ('queued', 'submitted')"
    )
    return int(count), float(age)


def _drain(service: CarrierService) -> float | None:
    """Seconds until no record is queued or submitted; None if not within ``DRAIN_SECONDS``."""
    began = time.monotonic()
    while time.monotonic() - began < DRAIN_SECONDS:
        if _backlog(service)[0] == 0:
            return time.monotonic() - began
        time.sleep(0.2)
    return None


def _lags(service: CarrierService, after_id: int, up_to_id: int) -> list[float]:
    """confirmed_at - accepted_at (seconds) of the confirmed records with ids in the range."""
    rows = service.query(
        "SELECT (julianday(confirmed_at) - julianday(accepted_at)) * 86400 FROM outbox_records "
        "WHERE id > ? AND id <= ? AND status = 'confirmed'",
        (after_id, up_to_id),
    )
    return sorted(float(lag) for (lag,) in rows)


def _quantile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _slope(samples: list[Sample]) -> float:
    """Records confirmed per second: the least-squares slope of the per-second counts."""
    points = [(sample.at, sample.confirmed) for sample in samples if sample.confirmed is not None]
    if len(points) < 2:
        return 0.0
    return statistics.linear_regression(
        [at for at, _ in points], [float(count) for _, count in points]
    ).slope
