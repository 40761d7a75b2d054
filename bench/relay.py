"""Relay throughput: 10,000 carrier events from HTTP acceptance to confirmed on chain,
beside a naive relayer (one transaction per event, each receipt awaited) in the same run.

Set-up, all its own: a fresh Anvil (cancun, chain id 1337) mining each transaction at once, plus
an empty block every second (so the last batches reach their depth), the suite deployed by
`ape run deploy` into a temporary directory, 1,000 registered items. The service is started as
`make api` starts it (uvicorn, `app.main:create_app`, a SQLite file in the temporary directory,
its background workers on) on a free loopback port, and loaded over HTTP with httpx: signed
requests of 500 events, four at a time. Before the clock starts, a warm-up of 1,000 events goes
through end to end (a service that has been running: connections open, the items known). The
clock runs from the first measured request until the service's database shows every record
confirmed at the default depth (2 blocks); then the chain is checked: one CustodyRecorded log by
the oracle per event, every event id once.

Three configurations, one after the other on the same node: the relayer alone (the app without
its indexer worker: what the relay itself sustains), the whole service (relayer and indexer in
one process, sharing two cores with Anvil and the load generator), and the relayer alone on
PostgreSQL (started from Debian's binaries, durable) instead of SQLite. The targets apply to the
relay on each database; the whole service's figure is shown beside them.

The naive relayer then sends 300 events from the same oracle key, one `recordCustody` each
(web3.py: build with its gas estimate, sign, send, await the receipt polling every 5 ms); its rate
is extrapolated to 10,000 events.
"""

from __future__ import annotations

import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from eth_utils.crypto import keccak
from fastapi import FastAPI
from web3 import Web3
from web3.contract import Contract

from app.domain.source_signature import signature_header
from app.main import create_app
from bench.context import BenchContext
from bench.model import Peer, Row, Target
from harness.nodes import anvil_command, free_port, running
from harness.postgres import postgres
from harness.service import FACTORY
from harness.suite import (
    CONFIRMATION_DEPTH,
    ITEMS,
    ORACLE,
    CarrierService,
    block_ticker,
    deploy_with_items,
    wait_outbox_confirmed,
)

SECTION = "Relay throughput"

EVENTS = 10_000
WARM_UP_EVENTS = 1_000
REQUEST_EVENTS = 500
CLIENTS = 4
NAIVE_SAMPLE = 300
DEADLINE_SECONDS = 180.0
RATE_TARGET = Target(1_000, ">=")
SPEEDUP_TARGET = Target(20, ">=")

FULL_SERVICE = FACTORY
RELAYER_ONLY = "bench.relay:relayer_only_app"


@dataclass(frozen=True)
class RelayRun:
    seconds: float
    accept_seconds: float
    transactions: int

    @property
    def rate(self) -> float:
        return EVENTS / self.seconds


def relayer_only_app() -> FastAPI:
    """The service as `create_app` builds it, without its indexer worker."""
    app = create_app()
    app.state.services.workers.pop("indexer")
    return app


def run(ctx: BenchContext | None = None) -> list[Row]:
    """Measures; ``ctx`` (the shared bench node) is not used: this suite brings its own."""
    del ctx
    with tempfile.TemporaryDirectory(prefix="bench-relay-") as scratch:
        base = Path(scratch)
        port = free_port()
        with running(anvil_command(port), port, base / "anvil.log") as node:
            w3, registry, items = deploy_with_items(node.rpc_url, base)
            runs: dict[str, RelayRun] = {}
            with block_ticker(w3), postgres(durable=True) as server:
                databases = {"postgres": server.create_database("relay")}
                for label, factory in (
                    ("relayer", RELAYER_ONLY),
                    ("service", FULL_SERVICE),
                    ("postgres", RELAYER_ONLY),
                ):
                    workdir = base / label
                    workdir.mkdir()
                    with CarrierService(
                        node.rpc_url,
                        base,
                        workdir,
                        factory=factory,
                        database_url=databases.get(label),
                    ) as service:
                        runs[label] = _relay(w3, registry, service, items, label)
            naive_rate = _naive(w3, registry, items)
    relay, whole, on_postgres = runs["relayer"], runs["service"], runs["postgres"]
    naive = Peer(f"naive relayer, {NAIVE_SAMPLE} events extrapolated", round(naive_rate, 1))
    return [
        Row(
            "relay.events_per_second",
            f"{EVENTS:,} carrier events, HTTP acceptance to confirmed (depth "
            f"{CONFIRMATION_DEPTH}) on chain: the relay",
            round(relay.rate, 1),
            "events/s",
            target=RATE_TARGET,
            peer=naive,
            note=f"{relay.seconds:.2f} s; {relay.transactions} transactions (about "
            f"{EVENTS // relay.transactions:,} events each); the app without its indexer worker",
        ),
        Row(
            "relay.events_per_second_postgres",
            f"The same {EVENTS:,} events, the relay on PostgreSQL",
            round(on_postgres.rate, 1),
            "events/s",
            target=RATE_TARGET,
            peer=Peer("the relay on SQLite, this run", round(relay.rate, 1)),
            note=f"{on_postgres.seconds:.2f} s; {on_postgres.transactions} transactions; "
            "PostgreSQL 15 from Debian's binaries on the same machine, fsync on (a durable "
            "server), the service's pool as configured by default; acceptance "
            f"{EVENTS / on_postgres.accept_seconds:,.0f} events/s",
        ),
        Row(
            "relay.speedup_vs_naive",
            "Relay rate over the naive relayer's (one transaction per event)",
            round(relay.rate / naive_rate, 1),
            "x",
            target=SPEEDUP_TARGET,
            note=f"naive: {naive_rate:.1f} events/s, so {EVENTS / naive_rate:.0f} s for "
            f"{EVENTS:,} events",
        ),
        Row(
            "relay.events_per_second_whole_service",
            f"The same {EVENTS:,} events, the whole service (relayer and indexer in one process)",
            round(whole.rate, 1),
            "events/s",
            peer=naive,
            note=f"{whole.seconds:.2f} s; {whole.transactions} transactions; the indexer decodes "
            "and stores every CustodyRecorded log meanwhile, on the same two cores",
        ),
        Row(
            "relay.acceptance_events_per_second",
            f"HTTP acceptance alone (relay only): {EVENTS // REQUEST_EVENTS} signed requests of "
            f"{REQUEST_EVENTS} events, {CLIENTS} at a time",
            round(EVENTS / relay.accept_seconds, 1),
            "events/s",
            note="each request: key, HMAC, replay check, validation, items checked, outbox "
            f"rows and idempotency record in one transaction; whole service: "
            f"{EVENTS / whole.accept_seconds:,.0f} events/s",
        ),
        Row(
            "relay.naive_events_per_second",
            "Peer: naive relayer, one `recordCustody` transaction per event",
            round(naive_rate, 1),
            "events/s",
            note="web3.py build (gas estimate) + sign + send + receipt, the same oracle key",
        ),
    ]


# ---------------------------------------------------------------------------------------- runs


def _relay(
    w3: Web3, registry: Contract, service: CarrierService, items: list[str], label: str
) -> RelayRun:
    """A warm-up, then the measured run; checks every event is on chain once."""
    warm_up = _bodies(items, f"{label}-warm", WARM_UP_EVENTS)
    measured = _bodies(items, label, EVENTS)
    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=CLIENTS)) as client:

        def post(body: bytes) -> None:
            headers = {
                "Content-Type": "application/json",
                "TrustMall-Api-Key": service.api_key,
                "TrustMall-Signature": signature_header(service.secret, body),
                "Idempotency-Key": keccak(body).hex(),
            }
            answer = client.post(
                f"{service.url}/v1/logistics/events", content=body, headers=headers
            )
            if answer.status_code != 202 or len(answer.json()["accepted"]) != REQUEST_EVENTS:
                raise RuntimeError(f"request refused: {answer.status_code} {answer.text[:300]}")

        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(post, warm_up))
            wait_outbox_confirmed(service.database, WARM_UP_EVENTS, DEADLINE_SECONDS)
            start_block = int(w3.eth.block_number) + 1
            started = time.perf_counter()
            list(pool.map(post, measured))
            accepted = time.perf_counter()
            wait_outbox_confirmed(service.database, WARM_UP_EVENTS + EVENTS, DEADLINE_SECONDS)
            finished = time.perf_counter()

    logs = registry.events.CustodyRecorded().get_logs(
        from_block=start_block, argument_filters={"submitter": ORACLE.address}
    )
    ids = {int(log.args.eventId) for log in logs}
    if len(logs) != EVENTS or len(ids) != EVENTS:
        raise RuntimeError(
            f"expected {EVENTS} events once each, found {len(logs)} ({len(ids)} ids)"
        )
    transactions = len({log.transactionHash for log in logs})
    return RelayRun(finished - started, accepted - started, transactions)


def _bodies(items: list[str], label: str, count: int) -> list[bytes]:
    occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 120))
    actions = ("shipped", "in_transit", "delivered")
    events = [
        {
            "event_id": f"{label}-{i}",
            "item_id": items[i % ITEMS],
            "action": actions[(i // ITEMS) % 3],
            "occurred_at": occurred,
            "location": f"urn:epc:id:sgln:9506000.{i % 97:05d}.0",
            "reference": f"AWB {i // 50:06d}",
        }
        for i in range(count)
    ]
    return [
        json.dumps(events[start : start + REQUEST_EVENTS]).encode()
        for start in range(0, count, REQUEST_EVENTS)
    ]


def _naive(w3: Web3, registry: Contract, items: list[str]) -> float:
    """One transaction per event, each receipt awaited; events per second."""
    spent = registry.events.CustodyRecorded().get_logs(
        from_block=0, argument_filters={"submitter": ORACLE.address}
    )
    first_id = max(int(log.args.eventId) for log in spent) + 1
    occurred = int(w3.eth.get_block("latest")["timestamp"]) - 60
    location, context = keccak(text="naive-location"), keccak(text="naive-reference")
    started = time.perf_counter()
    for i in range(NAIVE_SAMPLE):
        item = bytes.fromhex(items[i % ITEMS][2:])
        function = registry.functions.recordCustody(
            [(item, first_id + i, 3, occurred, location, context)]
        )
        tx = function.build_transaction(
            {"from": ORACLE.address, "nonce": w3.eth.get_transaction_count(ORACLE.address)}
        )
        tx_hash = w3.eth.send_raw_transaction(ORACLE.sign_transaction(tx).raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.005)
        if receipt["status"] != 1:
            raise RuntimeError(f"naive transaction {tx_hash.hex()} failed")
    return NAIVE_SAMPLE / (time.perf_counter() - started)
