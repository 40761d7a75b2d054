"""A round-robin front for service replicas: ``python -m harness.front PORT BACKEND...`` accepts
connections on loopback ``PORT`` and hands each to the next backend port in turn, copying bytes
both ways (a layer-4 balancer, as a load balancer's TCP mode is: a keep-alive connection stays
with its replica, new connections go round). A backend that refuses is skipped for that
connection. Each connection is counted per backend in the log (a line a connection), for the demo to
show that both served.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys
from collections import Counter

HOST = "127.0.0.1"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65_536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, OSError):
        writer.close()


async def serve(port: int, backends: list[int]) -> None:
    turns = itertools.cycle(backends)
    served: Counter[int] = Counter()

    async def handle(client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        for _ in backends:
            backend = next(turns)
            try:
                upstream_reader, upstream = await asyncio.open_connection(HOST, backend)
            except OSError:
                continue  # that replica is down: the next one
            served[backend] += 1
            _say(f"connections by replica port: {dict(sorted(served.items()))}")
            await asyncio.gather(_pipe(client_reader, upstream), _pipe(upstream_reader, client))
            return
        client.close()

    server = await asyncio.start_server(handle, HOST, port)
    _say(f"front on {HOST}:{port} for replicas on ports {backends}")
    async with server:
        await server.serve_forever()


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.front", description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("backends", type=int, nargs="+")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.backends))
    return 0


if __name__ == "__main__":
    sys.exit(main())
