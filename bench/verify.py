"""Shopper verification: ``GET /v1/items/{id}`` under load on loopback.

The service runs as it does in production (uvicorn, one process, its background workers on) in a
subprocess against this run's Anvil and a SQLite file. The index holds 100,000 items: a few dozen
real ones, registered on chain and indexed by the service's own indexer, and the bulk inserted
straight into the index's tables (same rows the indexer writes: an item and its two custody
events each) because registering 100,000 items on chain would take the whole time budget. A
load generator in this process (``bench.http_load``: asyncio, raw HTTP/1.1 keep-alive
connections) asks for random items and records each request's latency; ``?fresh=true`` is
measured beside it on the real items. The service's memory is its resident set size, at rest after
a warm-up and at its peak under load.
"""

from __future__ import annotations

import asyncio
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.context import BenchContext

# LoadResult and load stay importable from here: verify/load.py (the load campaign) uses them.
from bench.http_load import LoadResult as LoadResult
from bench.http_load import load as load
from bench.http_load import run_coroutine, run_load
from bench.indexed_items import CUSTODY_PER_ITEM, INDEXED_ITEMS, REAL_ITEMS, build_index, deploy
from bench.model import Peer, Row, Target
from bench.pages import Measured, page_rows
from bench.replicas import replica_rows
from bench.split_pages import split_rows
from harness.nodes import free_port
from harness.service import ServiceProcess, service_environment

SECTION = "Shopper verification"

INDEXED_SECONDS = 10.0
FRESH_SECONDS = 5.0
WARM_UP_SECONDS = 2.0
INDEXED_CONNECTIONS = 8
FRESH_CONNECTIONS = 4
# uvicorn as this benchmark runs it: no access log, uvloop's event loop, httptools' parser.
UVICORN_ARGS = ("--no-access-log", "--loop", "uvloop", "--http", "httptools")

RPS_TARGET = Target(2_000, ">=")
P99_TARGET = Target(25)

# Keys of Anvil's public test mnemonic (never real money): the service's oracle is TEST::3 here.
ORACLE_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"


def run(ctx: BenchContext) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as scratch:
        base = Path(scratch)
        deployments, abi = deploy(ctx, base)
        database = base / "service.db"
        index = build_index(
            ctx.rpc_url,
            deployments,
            abi,
            database,
            verifier=str(ctx.verifier.address),
            merchant=str(ctx.merchant.address),
        )
        database_mib = database.stat().st_size / 2**20
        service = verification_service(
            ctx.rpc_url, deployments, abi, database, base / "service.log"
        )
        with service:
            indexed_paths = index.paths()
            fresh_paths = [f"{path}?fresh=true" for path in index.paths(index.real)]
            rest = _memory(service)
            _check_answers(service, indexed_paths, fresh_paths)
            load(service.port, indexed_paths, WARM_UP_SECONDS, INDEXED_CONNECTIONS)
            cpu_before = service.cpu_seconds()
            indexed, peak = _measured_load(
                service, indexed_paths, INDEXED_SECONDS, INDEXED_CONNECTIONS
            )
            cpu_per_request_us = (service.cpu_seconds() - cpu_before) / indexed.requests * 1e6
            fresh, fresh_peak = _measured_load(
                service, fresh_paths, FRESH_SECONDS, FRESH_CONNECTIONS
            )
            peak = peak.peak(fresh_peak)
            one_process = Measured(indexed, cpu_per_request_us)
            pages, page_figures = page_rows(
                service,
                lambda path: _get(service, path),
                index.page_paths(),
                index.link_paths(),
                one_process,
            )
        split = split_rows(
            service.env,
            base,
            UVICORN_ARGS,
            {"json": indexed_paths, "page": index.page_paths(), "link": index.link_paths()},
            {"json": one_process, **page_figures},
        )
        replicas = replica_rows(
            ctx.rpc_url,
            deployments,
            abi,
            index,
            base,
            Measured(indexed, cpu_per_request_us),
            oracle_key=ORACLE_KEY,
            uvicorn_args=UVICORN_ARGS,
        )
    if indexed.errors or fresh.errors:
        raise RuntimeError(f"errors under load: {indexed.errors} indexed, {fresh.errors} fresh")
    bulk_note = (
        f"{INDEXED_ITEMS:,} items inserted straight into the index's tables (each with "
        f"{CUSTODY_PER_ITEM} custody events) + {REAL_ITEMS} registered on chain and indexed"
    )
    load_note = (
        f"{INDEXED_CONNECTIONS} keep-alive connections for {INDEXED_SECONDS:.0f} s, random items; "
        "uvicorn, one process, workers on; client and server on the same 2 cores"
    )
    fresh_note = f"{FRESH_CONNECTIONS} connections for {FRESH_SECONDS:.0f} s on the real items"
    return [
        Row(
            "verify.indexed_rps",
            "`GET /v1/items/{id}` from the index: requests per second",
            round(indexed.rps),
            "req/s",
            target=RPS_TARGET,
            peer=Peer("`?fresh=true`", round(fresh.rps)),
            note=f"{load_note}; {bulk_note}",
        ),
        Row(
            "verify.indexed_p50_ms",
            "`GET /v1/items/{id}` from the index: p50 latency",
            round(indexed.percentile_ms(0.50), 2),
            "ms",
            peer=Peer("`?fresh=true`", round(fresh.percentile_ms(0.50), 2)),
        ),
        Row(
            "verify.indexed_p99_ms",
            "`GET /v1/items/{id}` from the index: p99 latency",
            round(indexed.percentile_ms(0.99), 2),
            "ms",
            target=P99_TARGET,
            peer=Peer("`?fresh=true`", round(fresh.percentile_ms(0.99), 2)),
            note=fresh_note,
        ),
        Row(
            "verify.indexed_cpu_us",
            "`GET /v1/items/{id}` from the index: service CPU time per request",
            round(cpu_per_request_us),
            "µs",
            note="user + system time of the service process over the measured load, divided by "
            "the requests answered: what the throughput would be on a core of its own "
            f"(~{1e6 / cpu_per_request_us:,.0f} req/s), whatever else the machine runs",
        ),
        Row(
            "verify.fresh_rps",
            "`GET /v1/items/{id}?fresh=true` (contract views and logs): requests per second",
            round(fresh.rps),
            "req/s",
            note=fresh_note,
        ),
        Row(
            "verify.rss_rest_mib",
            "Service memory (RSS) at rest, 100,000 items indexed",
            round(rest.rss, 1),
            "MiB",
            note=f"started, index built, no request yet: {rest.anon:.0f} MiB anonymous + "
            f"{rest.file:.0f} MiB file-backed (code and mapped files)",
        ),
        Row(
            "verify.rss_load_mib",
            "Service memory (RSS) at its peak under load",
            round(peak.rss, 1),
            "MiB",
            note=f"{peak.anon:.0f} MiB anonymous + {peak.file:.0f} MiB file-backed, mostly the "
            f"SQLite file ({database_mib:.0f} MiB on disk), which the read path maps",
        ),
        *pages,
        *split,
        *replicas,
    ]


# ------------------------------------------------------------------------------ the service


@dataclass(frozen=True)
class Memory:
    rss: float
    anon: float
    file: float

    def peak(self, other: Memory) -> Memory:
        return other if other.rss > self.rss else self


def verification_service(
    rpc_url: str, deployments: Path, abi: Path, database: Path, log: Path
) -> ServiceProcess:
    """The service as this benchmark runs it (not started yet): uvicorn with ``UVICORN_ARGS``,
    one process, its background workers on, development settings, confirmation depth 0."""
    env = service_environment(
        rpc_url=rpc_url,
        deployments_dir=deployments,
        abi_dir=abi,
        database=database,
        oracle_key=ORACLE_KEY,
        sources={},
        environment="development",
        confirmation_depth=0,
    )
    return ServiceProcess(env, free_port(), log, uvicorn_args=UVICORN_ARGS)


def _memory(service: ServiceProcess) -> Memory:
    return Memory(service.rss_mib(), service.rss_mib("RssAnon"), service.rss_mib("RssFile"))


def _get(service: ServiceProcess, path: str) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{service.url}{path}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def _check_answers(service: ServiceProcess, indexed: list[str], fresh: list[str]) -> None:
    """The measured requests answer what a shopper should read, before anything is timed."""
    import json

    for path in (indexed[0], indexed[-1], fresh[0]):
        status, body = _get(service, path)
        answer = json.loads(body)
        if status != 200 or answer["verdict"] != "authentic" or len(answer["custody"]) != 2:
            raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")


# ------------------------------------------------------------------------------ the load


def _measured_load(
    service: ServiceProcess, paths: list[str], seconds: float, connections: int
) -> tuple[LoadResult, Memory]:
    """Runs the load while sampling the service's memory; the peak resident set size."""
    peak = _memory(service)

    async def sampled() -> LoadResult:
        nonlocal peak
        running = asyncio.ensure_future(run_load(service.port, paths, seconds, connections))
        while not running.done():
            peak = peak.peak(_memory(service))
            await asyncio.wait({running}, timeout=0.25)
        return running.result()

    result = run_coroutine(sampled())
    return result, peak
