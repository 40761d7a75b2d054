"""Load (issue 6): the shopper's verification endpoint and the carriers' ingestion endpoint held at
their benchmark rates together for ``VERIFY_LOAD_SECONDS`` (600 by default), counting errors and
sampling the service's memory.

Set-up as the fault campaign's (``tests.support.faults``: a fresh Anvil with an empty block every
second, the suite deployed, 1,000 registered items, the service under uvicorn with its relayer and
indexer). ``GET /v1/items/{id}`` on random registered items from 8 keep-alive connections (the
load generator of ``bench.verify``); meanwhile signed requests of 500 new events each, paced at
1,000 events/s (``bench.relay``'s target). Memory is the service's resident set size each second:
flat means the end is within 10 % + 20 MiB of the value after the warm-up."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx
from eth_utils.crypto import keccak
from web3 import Web3

from app.chain.contracts import load_abi
from app.ingest.auth import API_KEY_HEADER, SIGNATURE_HEADER, signature_header
from bench.relay import _deploy, _register_items
from bench.verify import LoadResult, _run, _run_load
from tests.support.faults import EVENTS_PATH, Node, Service, event_bodies
from verify.model import Cell, Section

SECONDS = float(os.environ.get("VERIFY_LOAD_SECONDS", "600"))
WARM_UP_SECONDS = min(30.0, SECONDS / 10)
CONNECTIONS = 8
REQUEST_EVENTS = 500
ITEMS_RPS_TARGET = 2_000
EVENTS_PER_SECOND_TARGET = 1_000
FLAT_FRACTION = 0.10
FLAT_SLACK_MIB = 20.0


class Ingestion:
    """Signed requests of new events at a steady pace until stopped; counts what was answered."""

    def __init__(self, service: Service, items: list[str]) -> None:
        self.service = service
        self.items = items
        self.accepted = 0
        self.errors = 0
        self.requests = 0
        self.seconds = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        gap = REQUEST_EVENTS / EVENTS_PER_SECOND_TARGET
        started = time.monotonic()
        with httpx.Client(timeout=60) as client:
            while not self.stop.is_set():
                # Request n leaves n gaps after the start: the pace holds whatever one took.
                self.stop.wait(max(0.0, started + self.requests * gap - time.monotonic()))
                if self.stop.is_set():
                    break
                [body] = event_bodies(
                    self.items, f"load-{self.requests}", REQUEST_EVENTS, REQUEST_EVENTS
                )
                headers = {
                    "Content-Type": "application/json",
                    API_KEY_HEADER: self.service.api_key,
                    SIGNATURE_HEADER: signature_header(self.service.secret, body),
                    "Idempotency-Key": keccak(body).hex(),
                }
                self.requests += 1
                try:
                    answer = client.post(
                        f"{self.service.url}{EVENTS_PATH}", content=body, headers=headers
                    )
                except httpx.HTTPError:
                    self.errors += 1
                    continue
                if answer.status_code == 202:
                    self.accepted += len(answer.json()["accepted"])
                else:
                    self.errors += 1
        self.seconds = time.monotonic() - started


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kib / 1024


def run() -> Section:
    with tempfile.TemporaryDirectory(prefix="verify-load-") as scratch:
        base = Path(scratch)
        node = Node(base, snapshot_seconds=10**6)  # no state saving: nothing is killed here
        node.start()
        service = Service(base, node)
        try:
            _deploy(node.url, base)
            w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 60}))
            record = (base / "deployments" / "1337.json").read_text()
            address = json.loads(record)["contracts"]["ProductRegistry"]["address"]
            registry = w3.eth.contract(
                address=Web3.to_checksum_address(address),
                abi=load_abi(base / "abi", "ProductRegistry"),
            )
            items = _register_items(w3, registry)
            node.start_background()
            service.start()
            assert service.process is not None
            pid = service.process.pid
            paths = [f"/v1/items/{item}" for item in items]
            _wait_indexed(service, paths[-1])
            _run(_run_load(service.port, paths, WARM_UP_SECONDS, CONNECTIONS))
            return _measure(service, pid, paths, items)
        finally:
            node.stop_background()
            service.stop()
            node.kill()


def _wait_indexed(service: Service, path: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if httpx.get(f"{service.url}{path}", timeout=5).status_code == 200:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{path} was not indexed in time")


def _measure(service: Service, pid: int, paths: list[str], items: list[str]) -> Section:
    samples: list[float] = [rss_mib(pid)]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(1.0):
            samples.append(rss_mib(pid))

    ingestion = Ingestion(service, items)
    threads = [threading.Thread(target=sample), threading.Thread(target=ingestion.run)]
    for thread in threads:
        thread.start()
    try:
        reads: LoadResult = _run(_run_load(service.port, paths, SECONDS, CONNECTIONS))
    finally:
        ingestion.stop.set()
        stop.set()
        for thread in threads:
            thread.join()
    outbox = service.outbox()
    after_warm_up, end, peak = samples[0], samples[-1], max(samples)
    flat = end <= after_warm_up * (1 + FLAT_FRACTION) + FLAT_SLACK_MIB
    events_rate = ingestion.accepted / ingestion.seconds if ingestion.seconds else 0.0
    rows: list[dict[str, Cell]] = [
        {
            "Endpoint": "GET /v1/items/{id}",
            "Target": f">= {ITEMS_RPS_TARGET:,} req/s",
            "Held": f"{reads.rps:,.0f} req/s",
            "Requests": reads.requests,
            "Errors": reads.errors,
            "p99 ms": round(reads.percentile_ms(0.99), 2),
        },
        {
            "Endpoint": "POST /v1/logistics/events",
            "Target": f">= {EVENTS_PER_SECOND_TARGET:,} events/s",
            "Held": f"{events_rate:,.0f} events/s",
            "Requests": ingestion.requests,
            "Errors": ingestion.errors,
            "p99 ms": "",
        },
    ]
    passed = (
        reads.errors == 0
        and ingestion.errors == 0
        and reads.rps >= ITEMS_RPS_TARGET
        and events_rate >= EVENTS_PER_SECOND_TARGET * 0.99
        and flat
    )
    return Section(
        key="load",
        title=f"Load: verification and ingestion together for {SECONDS:.0f} s",
        columns=["Endpoint", "Target", "Held", "Requests", "Errors", "p99 ms"],
        rows=rows,
        passed=passed,
        notes=[
            f"Service memory (RSS): {after_warm_up:.1f} MiB after a {WARM_UP_SECONDS:.0f} s "
            f"warm-up, {end:.1f} MiB at the end, {peak:.1f} MiB at the peak "
            f"({len(samples)} samples); flat: {'yes' if flat else 'NO'} (bound: end <= "
            f"{FLAT_FRACTION:.0%} + {FLAT_SLACK_MIB:.0f} MiB over the after-warm-up value).",
            f"Outbox at the end: {outbox}. Client, service, relayer, indexer and Anvil share the "
            "machine's cores.",
        ],
    )
