"""Item reads scaled out: the same index as ``bench.verify``'s, in PostgreSQL, served by two
replicas of the service (each as ``make api`` runs it, workers on, the leases electing one
indexer), measured in the same run beside one process on SQLite.

The load generator spreads its keep-alive connections over the replicas in turn, as a
round-robin front would (a front process of our own would spend the same two cores the replicas
need; a production balancer runs elsewhere).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from bench.http_load import load
from bench.indexed_items import IndexedItems, index_into
from bench.model import Peer, Row
from bench.pages import Measured
from harness.nodes import free_port
from harness.postgres import postgres
from harness.service import ServiceProcess, service_environment

REPLICAS = 2
SECONDS = 10.0
WARM_UP_SECONDS = 2.0
CONNECTIONS = 8


def replica_rows(
    rpc_url: str,
    deployments: Path,
    abi: Path,
    index: IndexedItems,
    base: Path,
    one_process: Measured,
    *,
    oracle_key: str,
    uvicorn_args: tuple[str, ...],
) -> list[Row]:
    """``GET /v1/items/{id}`` on two replicas over PostgreSQL; ``one_process`` is this run's
    figure of one process on SQLite."""
    with postgres(durable=True) as server:
        database_url = server.create_database("reads")
        on_postgres = index_into(rpc_url, deployments, abi, database_url, index.real)
        env = service_environment(
            rpc_url=rpc_url,
            deployments_dir=deployments,
            abi_dir=abi,
            database=database_url,
            oracle_key=oracle_key,
            sources={},
            environment="development",
            confirmation_depth=0,
        )
        replicas = [
            ServiceProcess(env, free_port(), base / f"replica-{n}.log", uvicorn_args=uvicorn_args)
            for n in range(1, REPLICAS + 1)
        ]
        with contextlib.ExitStack() as running:
            for replica in replicas:
                running.enter_context(replica)
            ports = [replica.port for replica in replicas]
            paths = on_postgres.paths()
            load(ports, paths, WARM_UP_SECONDS, CONNECTIONS)
            cpu_before = sum(replica.cpu_seconds() for replica in replicas)
            result = load(ports, paths, SECONDS, CONNECTIONS)
            cpu_us = (sum(r.cpu_seconds() for r in replicas) - cpu_before) / result.requests * 1e6
    if result.errors:
        raise RuntimeError(f"{result.errors} of {result.requests} reads failed on the replicas")
    note = (
        f"{CONNECTIONS} keep-alive connections spread over {REPLICAS} replicas for "
        f"{SECONDS:.0f} s, random items of the same 100,000; PostgreSQL 15 (Debian's binaries, "
        "durable) on the same 2 cores as the replicas, the client and Anvil"
    )
    return [
        Row(
            "verify.replicas_postgres_rps",
            f"`GET /v1/items/{{id}}` on {REPLICAS} replicas over PostgreSQL: requests per second",
            round(result.rps),
            "req/s",
            peer=Peer("one process on SQLite, this run", round(one_process.result.rps)),
            note=note,
        ),
        Row(
            "verify.replicas_postgres_p99_ms",
            f"`GET /v1/items/{{id}}` on {REPLICAS} replicas over PostgreSQL: p99 latency",
            round(result.percentile_ms(0.99), 2),
            "ms",
            peer=Peer(
                "one process on SQLite, this run", round(one_process.result.percentile_ms(0.99), 2)
            ),
            note=f"p50 {result.percentile_ms(0.50):.2f} ms",
        ),
        Row(
            "verify.replicas_postgres_cpu_us",
            f"`GET /v1/items/{{id}}` on {REPLICAS} replicas over PostgreSQL: the replicas' CPU "
            "time per request",
            round(cpu_us),
            "µs",
            peer=Peer("one process on SQLite, this run", round(one_process.cpu_us)),
            note="user + system time of both replicas over the load, per request answered "
            "(PostgreSQL's own time not included: it is the database server's)",
        ),
    ]
