"""`make demo-cluster`: the same story on the platform's scaled-out shape. PostgreSQL (started from
Debian's binaries in a temporary directory), two replicas of the service on it, each running the
API and the background workers, and a round-robin front that every actor talks to; one Anvil.
At the end it shows that both replicas answered, and that each background duty was led by one
process at a time (the leases in the database)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import create_engine, text

from harness.cluster import ServiceCluster
from harness.postgres import postgres
from tools.demo_support import HOST, say

REPLICAS = 2


@contextlib.contextmanager
def oracle_cluster(
    workdir: Path, settings_for: Callable[[str, str], dict[str, str]], port: int
) -> Iterator[ServiceCluster]:
    """The cluster on a fresh PostgreSQL database; ``settings_for(url, database_url)`` gives the
    replicas' environment."""
    with postgres(durable=True) as server:
        database_url = server.create_database("trustmall")
        say(f"started PostgreSQL on 127.0.0.1:{server.port} (data: {server.data_dir})")
        url = f"http://{HOST}:{port}"
        cluster = ServiceCluster(settings_for(url, database_url), port, workdir / "cluster",
                                 REPLICAS)  # fmt: skip
        try:
            cluster.start()
            ports = ", ".join(str(replica.port) for replica in cluster.replicas)
            sys.stdout.write(
                f"started {REPLICAS} replicas of the service (ports {ports}) on that database, "
                f"behind a round-robin front at {url} (API docs {url}/docs; logs: "
                f"{workdir / 'cluster'})\n"
            )
            yield cluster
        finally:
            cluster.close()
            _show_leaders(database_url)


def show_cluster(cluster: ServiceCluster) -> None:
    """Which replica answered how many connections, as the front counted them."""
    if cluster.front is None:
        return
    counted = [
        line for line in cluster.front.log.read_text().splitlines() if line.startswith("conn")
    ]
    if counted:
        sys.stdout.write(f"  the front's {counted[-1]}\n")


def _show_leaders(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            leases = connection.execute(text("SELECT name, owner FROM relay_leases")).all()
    finally:
        engine.dispose()
    for name, owner in sorted(leases):
        sys.stdout.write(f"  lease {name!r}: held by one process ({owner[:8]}…) at a time\n")
