"""The fault campaign's chain node (``harness.faults``): an Anvil process that saves its state
every few seconds and can be killed with SIGKILL and brought back from its last save, so that the
chain goes back in time (blocks mined since the save vanish, with the transactions in them and the
nonces they used), its clock kept as a live chain's is."""

from __future__ import annotations

import contextlib
import gzip
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from harness.nodes import ROOT, anvil_command, free_port, wait_for_rpc

NODE_START_TIMEOUT = 60.0


class Node:
    """An Anvil process that can be killed and brought back from its last saved state."""

    def __init__(self, base: Path, snapshot_seconds: float) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = base / "anvil-state.json"
        self.log = base / "anvil.log"
        self.snapshot_seconds = snapshot_seconds
        self.process: subprocess.Popen[bytes] | None = None
        self.saved_head = -1  # the saved state holds no block above this one
        # How far the chain's clock runs ahead of the wall clock (moved by `advance_to`).
        self.clock_offset = 0.0
        self._lock = threading.Lock()
        # Held by a save, and by a node fault from the moment it sets its work up to its kill.
        self.saving = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        extra = ["--load-state", str(self.state)] if self.state.exists() else []
        deadline = time.monotonic() + NODE_START_TIMEOUT
        while True:
            with self.log.open("ab") as out:
                process = subprocess.Popen(
                    anvil_command(self.port, *extra),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=ROOT,
                    start_new_session=True,
                )
            try:
                wait_for_rpc(self.url, process, NODE_START_TIMEOUT)
            except RuntimeError:
                # The port of the killed node may not be free yet: try again until the deadline.
                if time.monotonic() > deadline:
                    raise
                continue
            if self.clock_offset:
                self._keep_clock()
            with self._lock:
                self.process = process
            return

    def advance_to(self, timestamp: int) -> None:
        """The chain's clock moved to ``timestamp`` (a block mined at it) and on from there."""
        if timestamp > self.head_time():
            self._rpc("evm_setNextBlockTimestamp", [timestamp])
            self._rpc("evm_mine", [])
            self.clock_offset = timestamp - time.time()

    def _keep_clock(self) -> None:
        """After a restart from a saved state: the next block no earlier than the chain's clock
        would be without the fault (Anvil's own goes back to the wall clock)."""
        self._rpc(
            "evm_setNextBlockTimestamp",
            [max(self.head_time(), int(time.time() + self.clock_offset))],
        )

    def head_time(self) -> int:
        block = self._rpc("eth_getBlockByNumber", ["latest", False])
        return int(block["timestamp"], 16)

    def _rpc(self, method: str, params: list[Any]) -> Any:
        answer = httpx.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
            timeout=10,
        ).json()
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def kill(self) -> None:
        """``kill -9``: nothing is saved on the way down."""
        with self._lock:
            process, self.process = self.process, None
        if process is not None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def save(self) -> None:
        """The node's state now, written atomically (a torn file never replaces a whole one)."""
        with self.saving:
            self._save()

    def _save(self) -> None:
        answer = httpx.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": "anvil_dumpState", "params": []},
            timeout=30,
        ).json()
        data = gzip.decompress(bytes.fromhex(answer["result"][2:]))
        head = self.head()
        temporary = self.state.with_suffix(".tmp")
        temporary.write_bytes(data)
        os.replace(temporary, self.state)
        self.saved_head = head

    def head(self) -> int:
        answer = httpx.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []},
            timeout=10,
        ).json()
        return int(answer["result"], 16)

    def start_background(self) -> None:
        """A snapshot every ``snapshot_seconds``, and an empty block every second (a live chain
        keeps making blocks: the last batches reach their depth). Both ride out the node's
        absences."""
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._every, args=(self.snapshot_seconds, self.save)),
            threading.Thread(target=self._every, args=(1.0, self._mine)),
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    def stop_background(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _mine(self) -> None:
        httpx.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []},
            timeout=5,
        )

    def _every(self, seconds: float, action: Any) -> None:
        while not self._stop.wait(seconds):
            with self._lock:
                alive = self.process is not None
            if alive:
                # The node may die in the middle: the next round tries again.
                with contextlib.suppress(httpx.HTTPError, KeyError, ValueError, OSError):
                    action()
