"""Merchants' signed requests: how many ``POST /v1/merchant/requests`` the service accepts a second,
each checked as in production (the EIP-712 signature recovered, the merchant's standing read from
the registry, the nonce from the forwarder, the daily quotas, the call simulated as the forwarder
would make it) and kept durably in the outbox before its ``202``.

Set-up, all its own: a fresh Anvil (cancun, chain id 1337) mining each transaction at once, plus
an empty block every second, the suite deployed by `ape run deploy` into a temporary directory,
fresh merchants approved on the registry (holding no ETH), and their requests signed ahead
(``harness.merchant_requests``): ``registerItems`` of new SKU items, each merchant's nonces 0, 1,
... in order. The service runs split as it scales on one machine: ``API_PROCESSES`` API processes
(``python -m app.serve``: uvicorn in each, a listening socket each, `app.main:create_app`, uvloop
and httptools, no access log, their background tasks off) and the workers' own process
(``python -m app.worker``: the relayer sends the accepted requests with the keeper's key in
`executeBatch` batches while more arrive), on one SQLite file. Beside it, on fresh merchants and
a fresh database each: the service as one process (uvicorn, API and background workers together,
as `make api` runs it), and that process with its background workers off (the API alone).

The load: raw HTTP/1.1 keep-alive connections in this process (``bench.http_load``), at most
``CONCURRENCY`` requests in flight;
every merchant posts its own requests one after another (the service takes a signer's next nonce
only, so a merchant's requests cannot overlap), all merchants at once. Many merchants, so that the
nonces do not serialise the load. A warm-up of a few merchants goes first. Every answer must be a
``202``; afterwards every request must be relayed and confirmed on chain (depth 2).
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from web3 import Web3

from app.chain.contracts import connect
from bench.context import BenchContext
from bench.http_load import post_lanes
from bench.model import Peer, Row, Target
from bench.verify import UVICORN_ARGS
from harness.merchant_requests import REQUESTS_PATH, MerchantDriver, SignedRequest
from harness.nodes import anvil_command, free_port, running
from harness.service import FACTORY, ServiceProcess, WorkerProcess, service_environment
from harness.suite import (
    CONFIRMATION_DEPTH,
    ORACLE,
    block_ticker,
    deploy,
    wait_outbox_confirmed,
)

SECTION = "Merchants' signed requests"

MERCHANTS = 50
REQUESTS_PER_MERCHANT = 40
BIG_MERCHANTS = 10
BIG_REQUESTS_PER_MERCHANT = 10
BIG_ITEMS = 100
WARM_UP_MERCHANTS = 10
WARM_UP_REQUESTS = 5
CONCURRENCY = 16
API_PROCESSES = 2
DEADLINE_SECONDS = 300.0
RATE_TARGET = Target(200, ">=")


@dataclass(frozen=True)
class Fired:
    """One load: how many requests, how long, each one's latency, the answers by status."""

    requests: int
    seconds: float
    latencies: list[float]
    statuses: Counter[int]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    @property
    def all_accepted(self) -> bool:
        return self.statuses == Counter({202: self.requests})


@dataclass(frozen=True)
class Shape:
    """How the service runs: its API processes, and whether its background workers run in a
    process of their own (``split``), in the API process, or not at all."""

    label: str
    api_processes: int
    workers: bool
    split: bool = False


SPLIT = Shape("split", API_PROCESSES, workers=True, split=True)
ONE_PROCESS = Shape("one-process", 1, workers=True)
API_ALONE = Shape("api-alone", 1, workers=False)


@dataclass(frozen=True)
class Measured:
    """One shape's loads; the CPU per request over the 1-item load of its API processes and,
    split, of its workers' process."""

    one: Fired
    many: Fired | None
    cpu_ms: float
    worker_cpu_ms: float | None
    confirmed_in: float | None


def run(ctx: BenchContext | None = None) -> list[Row]:
    """Measures; ``ctx`` (the shared bench node) is not used: this suite brings its own."""
    del ctx
    with tempfile.TemporaryDirectory(prefix="bench-requests-") as scratch:
        base = Path(scratch)
        port = free_port()
        with running(anvil_command(port), port, base / "anvil.log") as node:
            deploy(node.rpc_url, base)
            w3 = connect(node.rpc_url, timeout=60)
            driver = MerchantDriver.of_deployment(w3, base)
            with block_ticker(w3):
                whole = _measure(driver, node.rpc_url, base / SPLIT.label, SPLIT)
                single = _measure(driver, node.rpc_url, base / ONE_PROCESS.label, ONE_PROCESS)
                alone = _measure(driver, node.rpc_url, base / API_ALONE.label, API_ALONE)
    one, many = whole.one, whole.many
    assert many is not None and whole.confirmed_in is not None and whole.worker_cpu_ms is not None
    load = (
        f"{CONCURRENCY} in flight, {MERCHANTS} merchants of {REQUESTS_PER_MERCHANT} requests, each "
        f"merchant's in nonce order; all answered 202; {API_PROCESSES} API processes (python "
        "-m app.serve) and the workers' process (python -m app.worker) relaying the accepted "
        "requests meanwhile, on one SQLite file; client, service and Anvil on the same 2 cores"
    )
    return [
        Row(
            "requests.accepted_per_second",
            f"`POST /v1/merchant/requests`: signed requests accepted per second "
            f"(`registerItems`, 1 item; {one.requests:,} requests)",
            round(one.rate, 1),
            "req/s",
            target=RATE_TARGET,
            peer=Peer("one process, API and workers (make api)", round(single.one.rate, 1)),
            note=f"{one.seconds:.2f} s; {load}; each request: EIP-712 signer recovered, "
            "merchantStanding, forwarder nonce and the call simulated (eth_call as the forwarder "
            "makes it) in one JSON-RPC batch, quotas counted, outbox record and request row in "
            "one transaction",
        ),
        Row(
            "requests.accepted_per_second_api_alone",
            "`POST /v1/merchant/requests` (1 item): accepted per second by one API process, "
            "nothing relaying",
            round(alone.one.rate, 1),
            "req/s",
            note="uvicorn, one process, background workers off: what one process serves when "
            "another machine relays",
        ),
        Row(
            "requests.p50_ms",
            "`POST /v1/merchant/requests` (1 item): p50 latency",
            round(one.percentile_ms(0.50), 2),
            "ms",
            peer=Peer("the API alone", round(alone.one.percentile_ms(0.50), 2)),
        ),
        Row(
            "requests.p99_ms",
            "`POST /v1/merchant/requests` (1 item): p99 latency",
            round(one.percentile_ms(0.99), 2),
            "ms",
            peer=Peer("the API alone", round(alone.one.percentile_ms(0.99), 2)),
        ),
        Row(
            "requests.service_cpu_ms",
            "`POST /v1/merchant/requests` (1 item): API processes' CPU time per accepted request",
            round(whole.cpu_ms, 2),
            "ms",
            peer=Peer("one process, API and workers", round(single.cpu_ms, 2)),
            note=f"user + system time of the {API_PROCESSES} API processes and uvicorn's "
            "supervisor over the load, divided by the requests accepted "
            f"(~{1000 / whole.cpu_ms:,.0f} req/s on a core of their own); the workers' process "
            f"meanwhile {whole.worker_cpu_ms:.2f} ms a request; the API alone in one process "
            f"{alone.cpu_ms:.2f} ms",
        ),
        Row(
            "requests.accepted_per_second_100_items",
            f"`POST /v1/merchant/requests`: signed requests of {BIG_ITEMS} items accepted per "
            f"second ({many.requests:,} requests)",
            round(many.rate, 1),
            "req/s",
            note=f"{many.seconds:.2f} s; {BIG_MERCHANTS} merchants of {BIG_REQUESTS_PER_MERCHANT} "
            f"requests, {CONCURRENCY} in flight at most; p50 {many.percentile_ms(0.5):.1f} ms, "
            f"p99 {many.percentile_ms(0.99):.1f} ms; all answered 202",
        ),
        Row(
            "requests.all_confirmed_seconds",
            f"All accepted requests relayed and confirmed on chain (depth {CONFIRMATION_DEPTH}), "
            "after the last was accepted",
            round(whole.confirmed_in, 2),
            "s",
            note="the keeper's key sending them in executeBatch batches; checked from the "
            "service's outbox",
        ),
    ]


def _measure(driver: MerchantDriver, rpc_url: str, workdir: Path, shape: Shape) -> Measured:
    """A warm-up, then the loads, on a service of its own (a fresh database) and fresh
    merchants; with workers, the relayer sends what is accepted, and every request must be
    confirmed on chain at the end; without, only the API answers."""
    workdir.mkdir()
    warm_up = _lanes(driver, WARM_UP_MERCHANTS, WARM_UP_REQUESTS, 1, f"{shape.label}-warm")
    small = _lanes(driver, MERCHANTS, REQUESTS_PER_MERCHANT, 1, f"{shape.label}-one")
    env = _environment(driver.w3, rpc_url, workdir, background=shape.workers and not shape.split)
    api = ServiceProcess(
        env,
        free_port(),
        workdir / "service.log",
        FACTORY,
        UVICORN_ARGS,
        api_processes=shape.api_processes if shape.split else 0,
    )
    with (
        api,
        WorkerProcess(env, workdir / "worker.log") if shape.split else nullcontext() as worker,
    ):
        _checked(fire(api.url, warm_up), "warm-up")
        cpu_before = api.cpu_seconds()
        worker_before = worker.cpu_seconds() if worker else 0.0
        one = _checked(fire(api.url, small), "1 item")
        cpu_ms = (api.cpu_seconds() - cpu_before) / one.requests * 1000
        worker_ms = (worker.cpu_seconds() - worker_before) / one.requests * 1000 if worker else None
        if not shape.workers:
            return Measured(one, None, cpu_ms, None, None)
        big = _lanes(
            driver, BIG_MERCHANTS, BIG_REQUESTS_PER_MERCHANT, BIG_ITEMS, f"{shape.label}-many"
        )
        many = _checked(fire(api.url, big), f"{BIG_ITEMS} items")
        total = sum(len(lane) for lanes in (warm_up, small, big) for lane in lanes)
        return Measured(one, many, cpu_ms, worker_ms, _confirmed_in(api, total))


def _lanes(
    driver: MerchantDriver, merchants: int, per_merchant: int, items: int, label: str
) -> list[list[SignedRequest]]:
    return driver.sign(driver.approve(merchants, f"Bench {label}"), per_merchant, items, label)


def _environment(w3: Web3, rpc_url: str, workdir: Path, *, background: bool) -> dict[str, str]:
    """The service's settings: a database in ``workdir``, the keeper's key a fresh funded
    account of no role; the API processes' background workers on or off (the workers' own
    process runs them whatever this says)."""
    keeper = Account.create()
    w3.provider.make_request("anvil_setBalance", [keeper.address, hex(100 * 10**18)])  # type: ignore[arg-type]
    return service_environment(
        rpc_url=rpc_url,
        deployments_dir=workdir.parent / "deployments",
        abi_dir=workdir.parent / "abi",
        database=workdir / "service.db",
        oracle_key=ORACLE.key.hex(),
        sources={},
        keeper_private_key="0x" + bytes(keeper.key).hex(),
        confirmation_depth=CONFIRMATION_DEPTH,
        run_background_tasks=str(background).lower(),
    )


def fire(url: str, lanes: list[list[SignedRequest]], concurrency: int = CONCURRENCY) -> Fired:
    """Every lane's requests posted in order, the lanes at once, ``concurrency`` in flight at
    most (``bench.http_load.post_lanes``: raw HTTP/1.1, so that the load costs the two cores
    little beside the service); a lane stops at its first answer other than 202 (its next nonce
    would be refused)."""
    bodies = [[json.dumps(request.body).encode() for request in lane] for lane in lanes]
    posted = post_lanes(int(url.rsplit(":", 1)[1]), REQUESTS_PATH, bodies, concurrency)
    return Fired(len(posted.statuses), posted.seconds, posted.latencies, Counter(posted.statuses))


def _checked(fired: Fired, label: str) -> Fired:
    if not fired.all_accepted:
        raise RuntimeError(f"{label}: not every request was answered 202: {dict(fired.statuses)}")
    return fired


def _confirmed_in(service: ServiceProcess, count: int) -> float:
    return wait_outbox_confirmed(service.env["TRUSTMALL_DATABASE_URL"], count, DEADLINE_SECONDS)
