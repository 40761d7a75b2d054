"""The Anvil nodes we start leave nothing on disk when they stop, however they stop.

Anvil keeps the latest blocks' states in memory and writes older ones to a directory; Anvil 1.7.1
leaves that directory behind on any signal. Under its default (~/.foundry/anvil/tmp) a day of test
runs and benchmarks left 69 GB there and filled the disk in the middle of `make test`. Each node
the harness starts names a directory of its own, removed once the node has ended.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from harness.nodes import (
    ROOT,
    STATE_SPILL_OPTION,
    anvil_command,
    free_port,
    remove_spilled_states,
    rpc,
    running,
    wait_for_rpc,
)
from tests.conftest import node_on_a_free_port

# Anvil 1.7.1 holds about 400 blocks' states in memory: past that, each block spills a file.
BLOCKS_PAST_MEMORY = 800


def spill_directory(command: list[str] | tuple[str, ...]) -> Path:
    return Path(command[list(command).index(STATE_SPILL_OPTION) + 1])


def fill(url: str) -> None:
    rpc(url, "anvil_mine", [hex(BLOCKS_PAST_MEMORY)], timeout=60)


def test_a_stopped_node_leaves_no_spilled_state(tmp_path: Path) -> None:
    with node_on_a_free_port(anvil_command, tmp_path / "anvil.log") as node:
        spilled = spill_directory(node.process.args)  # type: ignore[arg-type]
        fill(node.rpc_url)
        assert any(spilled.rglob("*")), "the node spilled nothing: the option is not honoured"
        assert int(rpc(node.rpc_url, "eth_blockNumber"), 16) == BLOCKS_PAST_MEMORY
    assert not spilled.exists()


def test_a_killed_node_leaves_no_spilled_state(tmp_path: Path) -> None:
    """`kill -9` (the fault campaigns' node fault): the harness removes the directory after."""
    port = free_port()
    with (tmp_path / "anvil.log").open("wb") as log:
        process = subprocess.Popen(
            anvil_command(port), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_rpc(url, process, timeout=60)
        fill(url)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    spilled = spill_directory(process.args)  # type: ignore[arg-type]
    assert any(spilled.rglob("*")), "a killed node's states stay behind until removed"
    remove_spilled_states(process)
    assert not spilled.exists()


def test_running_removes_the_directory_of_a_node_that_never_answered(tmp_path: Path) -> None:
    command = [*anvil_command(1), "--no-such-option"]
    with pytest.raises(RuntimeError, match="exited"), running(command, 1, tmp_path / "log"):
        pass
    assert not spill_directory(command).exists()
