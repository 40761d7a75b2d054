"""A load generator for the service's read path: keep-alive connections asking for random
paths as fast as they are answered, each request's latency recorded.

asyncio with raw HTTP/1.1 on loopback: an HTTP client library would spend more CPU than the server
it measures, on the same two cores.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

Result = TypeVar("Result")


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


def load(
    port: int | Sequence[int], paths: list[str], seconds: float, connections: int
) -> LoadResult:
    """``connections`` keep-alive connections asking for random ``paths`` for ``seconds``; with
    several ports (replicas), the connections are spread over them in turn."""
    return run_coroutine(run_load(port, paths, seconds, connections))


def run_coroutine(coroutine: Coroutine[Any, Any, Result]) -> Result:
    try:
        import uvloop

        return uvloop.run(coroutine)
    except ImportError:
        return asyncio.run(coroutine)


async def run_load(
    port: int | Sequence[int], paths: list[str], seconds: float, connections: int
) -> LoadResult:
    ports = [port] if isinstance(port, int) else list(port)
    latencies: list[float] = []
    errors = [0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _connection(ports[seed % len(ports)], paths, deadline, latencies, errors, seed)
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
            status, _body = await _answer(reader)
            latencies.append(time.perf_counter() - sent)
            if status != 200:
                errors[0] += 1
    finally:
        writer.close()


@dataclass(frozen=True)
class Posted:
    """Bodies posted in lanes: each answer's status and latency, and how long it all took."""

    statuses: list[int]
    latencies: list[float]
    seconds: float


def post_lanes(port: int, path: str, lanes: list[list[bytes]], connections: int) -> Posted:
    """Every lane's JSON bodies posted to ``path`` in order, one at a time (the next once the
    last was answered ``202``; a lane stops at any other answer, printed), the lanes at once over
    ``connections`` keep-alive connections: at most that many requests in flight."""
    return run_coroutine(_post_lanes(port, path, lanes, connections))


async def _post_lanes(port: int, path: str, lanes: list[list[bytes]], connections: int) -> Posted:
    ready: asyncio.Queue[tuple[int, int] | None] = asyncio.Queue()
    for lane in range(len(lanes)):
        ready.put_nowait((lane, 0))
    open_lanes = [len(lanes)]
    statuses: list[int] = []
    latencies: list[float] = []
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (turn := await ready.get()) is not None:
                lane, index = turn
                body = lanes[lane][index]
                sent = time.perf_counter()
                writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                status, answer = await _answer(reader)
                latencies.append(time.perf_counter() - sent)
                statuses.append(status)
                if status == 202 and index + 1 < len(lanes[lane]):
                    ready.put_nowait((lane, index + 1))
                    continue
                if status != 202:
                    print(f"  refused: {status} {answer[:300]!r}", flush=True)
                open_lanes[0] -= 1
                if open_lanes[0] == 0:
                    for _ in range(connections):
                        ready.put_nowait(None)
        finally:
            writer.close()

    started = time.perf_counter()
    if lanes:
        await asyncio.gather(*(connection() for _ in range(connections)))
    return Posted(statuses, latencies, time.perf_counter() - started)


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """An HTTP/1.1 answer's status and body (its length from ``Content-Length``)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return int(head[9:12]), await reader.readexactly(length)
