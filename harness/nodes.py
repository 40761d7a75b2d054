"""Starts real chain nodes (Anvil, Hardhat) as processes on free ports, for the integration tests,
the benchmarks and the reliability campaigns."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import ports

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
NODE_START_TIMEOUT = 60.0
# Anvil keeps the latest blocks' states in memory and spills older ones to this directory. Its
# default, ~/.foundry/anvil/tmp, outlives the node on any signal (Anvil 1.7.1): gigabytes a day of
# test runs, enough to fill a disk. Each node we start gets a directory of its own, removed with it.
STATE_SPILL_OPTION = "--cache-path"


@dataclass(frozen=True)
class ChainNode:
    """A running node: its RPC URL and process."""

    rpc_url: str
    port: int
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rpc(url: str, method: str, params: list[object] | None = None, timeout: float = 10.0) -> Any:
    """One JSON-RPC call (urllib: no client, and no TLS context, built for each call)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def wait_for_rpc(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Polls the node until it answers, or fails with its exit status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"node exited with {process.returncode} before answering at {url}")
        with contextlib.suppress(OSError, RuntimeError):
            rpc(url, "eth_chainId")
            return
        time.sleep(0.1)
    raise TimeoutError(f"node at {url} did not answer within {timeout} s")


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM, then SIGKILL when it has not ended within ``timeout`` seconds; then what a node
    spilled to disk goes too."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    remove_spilled_states(process)


def state_spill_option() -> list[str]:
    """Anvil's option naming a fresh directory for the states it spills (``remove_spilled_states``
    removes it once the node has ended)."""
    return [STATE_SPILL_OPTION, tempfile.mkdtemp(prefix="trustmall-anvil-states-")]


def remove_spilled_states(process: subprocess.Popen[bytes]) -> None:
    """Removes the spill directory named in an ended node's command, if it names one."""
    args = process.args
    if isinstance(args, list | tuple) and STATE_SPILL_OPTION in args[:-1]:
        shutil.rmtree(str(args[args.index(STATE_SPILL_OPTION) + 1]), ignore_errors=True)


@contextlib.contextmanager
def running(command: list[str], port: int, log: Path) -> Iterator[ChainNode]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_rpc(url, process, NODE_START_TIMEOUT)
            # Another process that bound the port first answers too (this node then fails to
            # bind and exits): only a listener of this process is this node.
            if process.pid not in {holder.pid for holder in ports.holders(port)}:
                raise RuntimeError(f"port {port} is taken: {ports.describe(port)}")
            yield ChainNode(rpc_url=url, port=port, process=process)
        finally:
            stop_process(process, timeout=10)


def anvil_command(port: int, *extra: str, chain_id: int = 1337) -> list[str]:
    return [
        str(VENV_BIN / "anvil"),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--chain-id",
        str(chain_id),
        "--hardfork",
        "cancun",
        "--mnemonic",
        ANVIL_MNEMONIC,
        "--silent",
        *state_spill_option(),
        *extra,
    ]


def hardhat_command(port: int) -> list[str]:
    return [
        str(ROOT / "node_modules" / ".bin" / "hardhat"),
        "node",
        "--hostname",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def subprocess_env(**overrides: str) -> dict[str, str]:
    """The environment for a child `ape` command: the venv first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(overrides)
    return env
