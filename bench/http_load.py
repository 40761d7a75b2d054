"""A load generator for the service's read path: keep-alive connections asking for random
paths as fast as they are answered, each request's latency recorded.

asyncio with raw HTTP/1.1 on loopback: an HTTP client library would spend more CPU than the server
it measures, on the same two cores.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def load(port: int, paths: list[str], seconds: float, connections: int) -> LoadResult:
    """``connections`` keep-alive connections asking for random ``paths`` for ``seconds``."""
    return run_coroutine(run_load(port, paths, seconds, connections))


def run_coroutine(coroutine: Any) -> LoadResult:
    try:
        import uvloop

        result: LoadResult = uvloop.run(coroutine)
    except ImportError:
        result = asyncio.run(coroutine)
    return result


async def run_load(port: int, paths: list[str], seconds: float, connections: int) -> LoadResult:
    latencies: list[float] = []
    errors = [0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _connection(port, paths, deadline, latencies, errors, seed)
            for seed in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    return LoadResult(len(latencies), errors[0], elapsed, latencies)


async def _connection(
    port: int,
    paths: list[str],
    deadline: float,
    latencies: list[float],
    errors: list[int],
    seed: int,
) -> None:
    """One keep-alive connection asking for random paths until the deadline."""
    chooser = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    host = f"127.0.0.1:{port}".encode()
    try:
        while time.perf_counter() < deadline:
            path = chooser.choice(paths).encode()
            sent = time.perf_counter()
            writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - sent)
            if not head.startswith(b"HTTP/1.1 200"):
                errors[0] += 1
    finally:
        writer.close()
