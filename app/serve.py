"""``python -m app.serve --workers N`` (``make serve``): the API from N processes on one port, each
listening on a socket of its own (``SO_REUSEPORT``), so that the kernel spreads connections over
them.

``uvicorn --workers N`` shares one listening socket among its processes, and the process that wakes
first accepts every connection waiting: a burst of keep-alive connections (a front proxy's, a
load generator's) lands on one process while the others idle. Measured on two processes with 8
keep-alive connections: all 8 on one process in each of three runs. With a socket each, the kernel
hashes every new connection to one of them.

Settings are the service's (``TRUSTMALL_*``); API processes usually run with
``TRUSTMALL_RUN_BACKGROUND_TASKS=false`` beside ``make worker`` (README, "Service"). SIGTERM or
SIGINT stops every process gracefully (uvicorn's shutdown, the app's lifespan); a process that
dies is started again, unless it ended by itself within ``CRASH_LOOP_SECONDS`` of its start (bad
settings, a failing import): then all stop and the command exits 1.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

import structlog
import uvicorn

FACTORY = "app.main:create_app"
CRASH_LOOP_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.5

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    factory: str  # "module:function" making the ASGI app
    host: str
    port: int
    workers: int
    log_level: str
    access_log: bool
    loop: str
    http: str


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` that other processes may bind too (``SO_REUSEPORT``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve_one(options: ServeOptions) -> None:
    """One API process: its own socket on the shared port, uvicorn serving the app on it."""
    config = uvicorn.Config(
        options.factory,
        factory=True,
        host=options.host,
        port=options.port,
        log_level=options.log_level,
        access_log=options.access_log,
        loop=options.loop,
        http=options.http,
    )
    uvicorn.Server(config).run(sockets=[listening_socket(options.host, options.port)])


class Supervisor:
    """Starts the API processes, starts again one that dies, stops them all on a signal."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[tuple[BaseProcess, float]] = []
        self.stopping = threading.Event()

    def start_one(self) -> tuple[BaseProcess, float]:
        process = self.context.Process(target=serve_one, args=(self.options,), daemon=False)
        process.start()
        return process, time.monotonic()

    def run(self) -> int:
        for stopping in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(stopping, lambda *_: self.stopping.set())
        self.processes = [self.start_one() for _ in range(self.options.workers)]
        log.info("api_processes_started", workers=self.options.workers, port=self.options.port)
        status = 0
        while not self.stopping.wait(POLL_SECONDS):
            status = self.replace_dead()
            if status:
                break
        self.stop_all()
        return status

    def replace_dead(self) -> int:
        for index, (process, started) in enumerate(self.processes):
            if process.is_alive():
                continue
            # Ended by itself right after its start (bad settings, a failing import): starting it
            # again would fail again. Killed by a signal (the OOM killer, an operator): again.
            exited = process.exitcode is not None and process.exitcode >= 0
            if exited and time.monotonic() - started < CRASH_LOOP_SECONDS:
                log.error("api_process_crash_loop", pid=process.pid, exit_code=process.exitcode)
                return 1
            log.warning("api_process_restarted", pid=process.pid, exit_code=process.exitcode)
            self.processes[index] = self.start_one()
        return 0

    def stop_all(self) -> None:
        for process, _ in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes its requests and the lifespan
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process, _ in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        log.info("api_processes_stopped")


def parse(argv: list[str] | None = None) -> ServeOptions:
    parser = argparse.ArgumentParser(prog="python -m app.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--factory", default=FACTORY, help=f"the app's factory (default {FACTORY})")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2, help="API processes (default 2)")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", dest="access_log", action="store_false")
    parser.add_argument("--loop", default="auto", help="uvicorn's event loop (auto: uvloop)")
    parser.add_argument("--http", default="auto", help="uvicorn's HTTP parser (auto: httptools)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.port < 1:
        parser.error("--port must name a port: each process binds it on its own")
    return ServeOptions(
        args.factory,
        args.host,
        args.port,
        args.workers,
        args.log_level,
        args.access_log,
        args.loop,
        args.http,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    try:
        listening_socket(options.host, options.port).close()
    except OSError as error:
        raise SystemExit(f"cannot listen on {options.host}:{options.port}: {error}") from None
    return Supervisor(options).run()


if __name__ == "__main__":
    sys.exit(main())
