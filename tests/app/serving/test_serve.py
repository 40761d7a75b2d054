"""``python -m app.serve``: API processes on one port, a listening socket each, so that the kernel
spreads connections over them (uvicorn's ``--workers`` share one socket, and a burst of keep-alive
connections lands on the process that wakes first). Real processes, on a loopback port; the app is
a probe answering with its process id."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.nodes import ROOT, free_port
from harness.service import answers, session_processes
from tests.app.merchant.live_service import eventually

PROBE = "tests.app.serving.probe_app:make_probe"
CONNECTIONS = 16  # all on one of two processes by chance: 2 in 2**16


def _answering(port: int) -> bool | None:
    return answers(f"http://127.0.0.1:{port}/") or None


@contextmanager
def serving(port: int, log: Path, workers: int = 2) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.serve", "--factory", PROBE, "--port", str(port),
             "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        eventually(lambda: _listening(port) == workers, f"{workers} sockets listen")
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _listening(port: int) -> int:
    """How many sockets listen on ``port`` (IPv4, ``/proc/net/tcp``)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1
        for row in rows
        if row.split()[1].endswith(f":{port:04X}") and row.split()[3] == "0A"  # TCP_LISTEN
    )


def _pids_of_a_burst(port: int) -> list[int]:
    """Opens ``CONNECTIONS`` connections at once, then asks once on each (keep-alive)."""
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(CONNECTIONS)]
    pids = []
    try:
        for sock in sockets:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        for sock in sockets:
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.split(b"\r\n\r\n", 1)[1]:
                answer += sock.recv(4096)
            pids.append(int(answer.split(b"\r\n\r\n", 1)[1]))
    finally:
        for sock in sockets:
            sock.close()
    return pids


def test_a_burst_of_keep_alive_connections_is_spread_over_the_processes(tmp_path: Path) -> None:
    port = free_port()
    with serving(port, tmp_path / "serve.log") as process:
        pids = _pids_of_a_burst(port)

        assert len(set(pids)) == 2, pids
        assert process.pid not in pids  # the supervisor serves nothing itself


def test_sigterm_stops_every_process_and_a_killed_one_is_started_again(tmp_path: Path) -> None:
    port = free_port()
    with serving(port, tmp_path / "serve.log") as process:
        first = set(_pids_of_a_burst(port))
        victim = min(first)
        os.kill(victim, signal.SIGKILL)

        def replaced() -> set[int] | None:
            if _listening(port) != 2:
                return None
            try:
                pids = set(_pids_of_a_burst(port))
            except ConnectionResetError:
                return None  # queued on the killed process's socket as it closed
            return pids if len(pids) == 2 and victim not in pids else None

        after = eventually(replaced, "a new process in place of the killed one")
        assert after - first and (first - {victim}) <= after

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        eventually(lambda: not session_processes(process.pid), "every process ended")
        assert _answering(port) is None


def test_a_port_held_by_another_program_is_refused_at_once(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        completed = subprocess.run(
            [sys.executable, "-m", "app.serve", "--factory", PROBE, "--port", str(port)],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    assert completed.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in completed.stderr
