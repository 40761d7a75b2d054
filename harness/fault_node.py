"""The fault campaign's chain node (``harness.faults``): an Anvil process that saves its state
every few seconds and can be killed with SIGKILL and brought back from its last save, so that the
chain goes back in time (blocks mined since the save vanish, with the transactions in them and the
nonces they used), its clock kept as a live chain's is."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from harness.nodes import (
    ROOT,
    anvil_command,
    free_port,
    remove_spilled_states,
    rpc,
    wait_for_rpc,
)

NODE_START_TIMEOUT = 60.0
SAVE_TRIES = 20


def torn_dump(dump: dict[str, Any]) -> str | None:
    """Why an ``anvil_dumpState`` answer is not one moment of the chain, or None if it is.

    Anvil reads the head, the blocks, the transactions and the accounts one after another: a block
    mined in between lands in some and not in others. Loaded, such a dump is a chain no node could
    have: an account's nonce counts a transaction whose block, receipt and logs are gone, so a
    relayer rightly keeps that transaction's records confirmed while no log of them exists."""
    best = int(dump["best_block_number"])
    blocks = {int(block["header"]["number"], 16) for block in dump["blocks"]}
    if max(blocks, default=0) != best:
        return f"blocks up to {max(blocks, default=0)}, head {best}"
    strays = {int(tx["block_number"]) for tx in dump["transactions"]} - blocks
    if strays:
        return f"transactions of blocks not dumped: {sorted(strays)[:5]}"
    sent = Counter(str(tx["info"]["from"]).lower() for tx in dump["transactions"])
    for address, account in dump["accounts"].items():
        # An account without code spends a nonce on each transaction it sends, and on nothing else.
        if account.get("code") in (None, "", "0x") and account["nonce"] != sent[address.lower()]:
            return (
                f"{address} has nonce {account['nonce']} and {sent[address.lower()]} "
                "transactions in the dump"
            )
    return None


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
        self.torn_dumps = 0  # dumps discarded as torn (``torn_dump``)
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
                remove_spilled_states(process)
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

    def _rpc(self, method: str, params: list[Any], timeout: float = 10.0) -> Any:
        return rpc(self.url, method, params, timeout)

    def kill(self) -> None:
        """``kill -9``: nothing is saved on the way down."""
        with self._lock:
            process, self.process = self.process, None
        if process is not None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            remove_spilled_states(process)

    def save(self) -> None:
        """The node's state now, written atomically (a torn file never replaces a whole one)."""
        with self.saving:
            self._save()

    def _save(self) -> None:
        """Keeps a whole dump only: one torn by a block mined meanwhile is taken again."""
        for _ in range(SAVE_TRIES):
            dumped = self._rpc("anvil_dumpState", [], timeout=30)
            data = gzip.decompress(bytes.fromhex(dumped[2:]))
            dump = json.loads(data)
            torn = torn_dump(dump)
            if torn is None:
                temporary = self.state.with_suffix(".tmp")
                temporary.write_bytes(data)
                os.replace(temporary, self.state)
                self.saved_head = int(dump["best_block_number"])
                return
            self.torn_dumps += 1
        raise RuntimeError(f"{SAVE_TRIES} dumps in a row were torn, the last: {torn}")

    def head(self) -> int:
        return int(self._rpc("eth_blockNumber", []), 16)

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
        self._rpc("evm_mine", [], timeout=5)

    def _every(self, seconds: float, action: Any) -> None:
        while not self._stop.wait(seconds):
            with self._lock:
                alive = self.process is not None
            if alive:
                # The node may die in the middle (or refuse while it starts): the next round
                # tries again.
                with contextlib.suppress(RuntimeError, KeyError, ValueError, OSError):
                    action()
