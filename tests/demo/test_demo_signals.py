"""`make demo` ends what it started on SIGINT, SIGTERM and SIGHUP, and refuses ports that are taken.

The demo runs as CI and a developer run it (`tools/demo.py`, a process of its own) with
``--no-story``: the chain, the deploy and the service start as in the full demo, but no chapter is
played, so the state a signal finds is the one a developer leaves it in (serving, until Ctrl-C).
Ports are free ones picked here, never 8545 and 8000, so a demo a developer runs is left alone.
The signal goes to the demo's own process only, the hardest case: its chain and service run in
sessions of their own, so no terminal or process manager reaches them but the demo. Each of
SIGINT, SIGTERM and SIGHUP stops it while it deploys (its chain and the deploy running); SIGTERM,
what a process manager sends, also while it serves (its chain and the service).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import ports
from harness.nodes import ROOT, free_port
from harness.service import answers

DEMO = ROOT / "tools" / "demo.py"
START_DEADLINE = 180.0  # Anvil, `ape run deploy` and uvicorn on a loaded 2-core machine
STOP_DEADLINE = 30.0  # the demo gives each child 10-15 s to stop, then kills it
POLL = 0.1


@dataclass
class Demo:
    process: subprocess.Popen[bytes]
    rpc_port: int
    api_port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def launch(workdir: Path, rpc_port: int, api_port: int) -> subprocess.Popen[bytes]:
    workdir.mkdir(parents=True, exist_ok=True)
    with (workdir / "demo.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, str(DEMO), "--no-story", "--workdir", str(workdir),
             "--port", str(rpc_port), "--api-port", str(api_port)],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """A demo on free ports; whatever a failed test leaves of it is killed afterwards."""
    workdir = tmp_path / "demo"
    rpc_port, api_port = free_port(), free_port()
    running = Demo(launch(workdir, rpc_port, api_port), rpc_port, api_port, workdir / "demo.log")
    try:
        yield running
    finally:
        for pid in [running.process.pid, *descendants(running.process.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        running.process.wait()


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (children, their children, ...), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended while we looked
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition: Callable[[], bool], deadline: float, what: str, demo: Demo) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"{what} within {deadline:.0f} s; the demo printed:\n{demo.output()}")
        time.sleep(POLL)


def serving(demo: Demo) -> bool:
    if demo.process.poll() is not None:
        pytest.fail(f"the demo exited with {demo.process.returncode}:\n{demo.output()}")
    return answers(f"http://127.0.0.1:{demo.api_port}/healthz")


def chain_started(demo: Demo) -> bool:
    if demo.process.poll() is not None:
        pytest.fail(f"the demo exited with {demo.process.returncode}:\n{demo.output()}")
    return ports.port_taken(demo.rpc_port)


def run_demo(workdir: Path, rpc_port: int, api_port: int) -> subprocess.CompletedProcess[str]:
    """A demo run to its end (``--no-wait``)."""
    return subprocess.run(
        [sys.executable, str(DEMO), "--no-story", "--no-wait", "--workdir", str(workdir),
         "--port", str(rpc_port), "--api-port", str(api_port)],
        cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def command_line(pid: int) -> str:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return " ".join(part.decode() for part in raw.split(b"\0") if part)


def holder_of(port: int) -> int:
    found = ports.holders(port)
    assert len(found) == 1, found
    return found[0].pid


STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def test_while_it_serves_a_second_demo_is_refused_and_sigterm_ends_all_it_started(
    demo: Demo, tmp_path: Path
) -> None:
    stop_signal = signal.SIGTERM  # what a process manager or a CI timeout sends
    wait_until(lambda: serving(demo), START_DEADLINE, "the service did not answer", demo)
    started = descendants(demo.process.pid)
    chain, service = holder_of(demo.rpc_port), holder_of(demo.api_port)
    assert {chain, service} <= started

    second = run_demo(tmp_path / "second", demo.rpc_port, demo.api_port)
    assert second.returncode == 2, second.stdout + second.stderr
    told = second.stderr
    assert f"port {demo.rpc_port} is held by pid {chain}: {command_line(chain)}" in told
    assert f"port {demo.api_port} is held by pid {service}: {command_line(service)}" in told

    demo.process.send_signal(stop_signal)

    assert demo.process.wait(timeout=STOP_DEADLINE) == 128 + stop_signal
    assert [pid for pid in started if alive(pid)] == []
    assert not ports.port_taken(demo.rpc_port)
    assert not ports.port_taken(demo.api_port)


@pytest.mark.parametrize("stop_signal", STOP_SIGNALS, ids=[s.name for s in STOP_SIGNALS])
def test_each_stop_signal_while_the_suite_deploys_stops_the_chain_and_the_deploy(
    demo: Demo, stop_signal: signal.Signals
) -> None:
    wait_until(lambda: chain_started(demo), START_DEADLINE, "Anvil did not listen", demo)
    started = descendants(demo.process.pid)

    demo.process.send_signal(stop_signal)

    assert demo.process.wait(timeout=STOP_DEADLINE) == 128 + stop_signal
    assert [pid for pid in started if alive(pid)] == []
    assert not ports.port_taken(demo.rpc_port)
    assert not ports.port_taken(demo.api_port), "the service must never have started"


def test_a_port_held_by_another_program_is_named_and_nothing_is_started(tmp_path: Path) -> None:
    rpc_port = free_port()
    with socket_listening() as api_port:
        refused = run_demo(tmp_path / "demo", rpc_port, api_port)

    assert refused.returncode == 2, refused.stdout + refused.stderr
    me = f"port {api_port} is held by pid {os.getpid()}: {command_line(os.getpid())}"
    assert me in refused.stderr
    assert f"port {rpc_port}" not in refused.stderr
    assert not ports.port_taken(rpc_port), "no chain may be started"


def test_the_chain_port_held_by_a_program_that_is_no_chain_is_refused(tmp_path: Path) -> None:
    with socket_listening() as rpc_port:
        refused = run_demo(tmp_path / "demo", rpc_port, free_port())

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"port {rpc_port} is held by pid {os.getpid()}" in refused.stderr


@contextlib.contextmanager
def socket_listening() -> Iterator[int]:
    """A TCP listener of this process on a free loopback port that answers nothing: a program
    that is neither a chain nor the service."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        yield int(listener.getsockname()[1])


def test_a_child_whose_start_a_signal_cut_short_is_killed_with_its_group(tmp_path: Path) -> None:
    """`kill_strays` is what stops a child the demo lost hold of (a signal raised inside
    ``subprocess.Popen``): here a process starts children it keeps no handle of, one leading a
    session with a grandchild in it, one in the parent's own group, and then calls it."""
    pids = tmp_path / "pids"
    parent = subprocess.run(
        [sys.executable, "-c", (
            "import subprocess, sys\n"
            "from tools.demo_support import kill_strays\n"
            "leader = subprocess.Popen(['sh', '-c', 'sleep 600 & echo $!; wait'],\n"
            "    stdout=subprocess.PIPE, text=True, start_new_session=True)\n"
            "grandchild = leader.stdout.readline().strip()\n"
            "follower = subprocess.Popen(['sleep', '600'])\n"
            f"open({str(pids)!r}, 'w').write(f'{{leader.pid}} {{grandchild}} {{follower.pid}}')\n"
            "kill_strays()\n"
        )],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert parent.returncode == 0, parent.stderr
    started = [int(pid) for pid in pids.read_text().split()]
    assert len(started) == 3
    deadline = time.monotonic() + 10
    while [pid for pid in started if alive(pid)] and time.monotonic() < deadline:
        time.sleep(POLL)  # SIGKILL is delivered at once; the kernel may take a moment to reap
    assert [pid for pid in started if alive(pid)] == []
