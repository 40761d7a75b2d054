"""The shopper's reads on the service deployed for throughput, as README's "Service" says to run
it: API processes (``python -m app.serve --workers 2``, a listening socket each, background tasks
off) beside the workers' own process
(``python -m app.worker``: indexer, relayer, keeper, deliverer), on the same SQLite file and items
as ``bench.verify``'s one process, in the same run. One Python process answers on one core at a
time (the GIL); two use both, with the load generator and Anvil on the same two cores.

The page targets are this deployment's: it is how a platform serves shoppers' scans. The one
process's figures stay beside them as peers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bench.model import Peer, Row
from bench.pages import (
    AUTHENTIC_BANNER,
    CONNECTIONS,
    SECONDS,
    Measured,
    measure,
    read_rows,
)
from harness.nodes import free_port
from harness.service import ServiceProcess, WorkerProcess

API_PROCESSES = 2


def split_rows(
    env: Mapping[str, str],
    base: Path,
    uvicorn_args: tuple[str, ...],
    reads: Mapping[str, list[str]],
    one_process: Mapping[str, Measured],
) -> list[Row]:
    """``reads``: the JSON item paths, the item pages and the GS1 link pages (keys ``json``,
    ``page``, ``link``), measured in turn on API processes and a workers' process."""
    api_env = {**env, "TRUSTMALL_RUN_BACKGROUND_TASKS": "false"}
    api = ServiceProcess(
        api_env,
        free_port(),
        base / "split-api.log",
        uvicorn_args=uvicorn_args,
        api_processes=API_PROCESSES,
    )
    with api, WorkerProcess(env, base / "split-worker.log"):
        _check(api, reads)
        measured = {name: measure(api, paths) for name, paths in reads.items()}
    shape = (
        f"{API_PROCESSES} API processes (python -m app.serve --workers {API_PROCESSES}, background "
        "tasks off) "
        f"and the workers' process; {CONNECTIONS} keep-alive connections for {SECONDS:.0f} s, "
        "random items of the 100,000, in English"
    )
    json = measured["json"]
    rows = [
        Row(
            "verify.split_json_rps",
            "`GET /v1/items/{id}`, API processes + workers' process: requests per second",
            round(json.result.rps),
            "req/s",
            peer=Peer("one process, this run", round(one_process["json"].result.rps)),
            note=f"{shape}; {_spread(json)}; p99 {json.result.percentile_ms(0.99):.2f} ms",
        )
    ]
    labels = {
        "page": ("verify.split_page", "`GET /verify/{id}` (the item's page)"),
        "link": ("verify.split_link_page", "`GET /01/{gtin}/21/{serial}` (the label's link)"),
    }
    for name, (key, label) in labels.items():
        rows += read_rows(
            key,
            f"{label}, API processes + workers' process",
            measured[name],
            json,
            peer="JSON on the same processes",
            note=f"{shape}; {_spread(measured[name])}; one process, this run: "
            f"{one_process[name].result.rps:,.0f} req/s",
            p99_note="; one process, this run: p99 "
            f"{one_process[name].result.percentile_ms(0.99):.2f} ms",
            cpu_note="user + system time of the API processes over the load, per request "
            "answered (the workers' process is not counted: it serves no request)",
            targets=True,
        )
    return rows


def _spread(measured: Measured) -> str:
    """How the load fell on the API processes: the kernel gives each connection to one of them
    by a hash, so 8 connections may split 6 to 2, and the row then measures less than both."""
    return (
        f"the busier API process did {measured.busiest_share:.0%} of their work "
        f"(50% is an even split)"
    )


def _check(api: ServiceProcess, reads: Mapping[str, list[str]]) -> None:
    """Each kind of read answers what a shopper should see, before anything is timed."""
    import urllib.request

    for name, paths in reads.items():
        with urllib.request.urlopen(f"{api.url}{paths[0]}", timeout=10) as response:
            body = response.read()
        wanted = b'"verdict":"authentic"' if name == "json" else AUTHENTIC_BANNER
        if response.status != 200 or wanted not in body.replace(b": ", b":"):
            raise RuntimeError(f"{paths[0]} answered {response.status}: {body[:300]!r}")
