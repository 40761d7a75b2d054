"""The fault campaign's node keeps only whole snapshots (``harness.fault_node``).

Anvil's ``anvil_dumpState`` reads the head, the blocks, the transactions and the accounts one after
another, so a block mined meanwhile can land in some parts and not others (seen: 14 of 300 dumps
under a steady stream of transactions). Restarted from such a dump, the chain holds an account's
nonce and storage without the block, receipt and logs that made them: the relayer's records stay
rightly confirmed while the verdict finds no log — lost events that no service could have lost.
These tests take a real dump and tear it the ways Anvil does."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from harness.fault_node import Node, torn_dump
from harness.nodes import rpc


def _rpc(node: Node, method: str, params: list[Any]) -> Any:
    return rpc(node.url, method, params)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, dict[str, Any]]]:
    node = Node(tmp_path_factory.mktemp("node"), snapshot_seconds=60)
    node.start()
    try:
        sender, receiver = _rpc(node, "eth_accounts", [])[:2]
        for _ in range(3):
            _rpc(node, "eth_sendTransaction", [{"from": sender, "to": receiver, "value": "0x1"}])
        # Anvil answers eth_sendTransaction before it mines: a dump taken at once can miss the
        # last block (seen in CI), a whole dump of an earlier moment.
        deadline = time.monotonic() + 30
        while node.head() < 3:
            assert time.monotonic() < deadline, f"3 transfers were not mined: head {node.head()}"
            time.sleep(0.05)
        node.save()
        yield node, json.loads(node.state.read_text())
    finally:
        node.kill()


def test_a_dump_of_a_quiet_chain_is_whole_and_names_its_head(
    saved: tuple[Node, dict[str, Any]],
) -> None:
    node, dump = saved
    assert torn_dump(dump) is None
    assert node.saved_head == dump["best_block_number"] == 3


def test_state_ahead_of_its_transactions_is_torn(saved: tuple[Node, dict[str, Any]]) -> None:
    _, dump = saved
    torn = copy.deepcopy(dump)
    # The accounts were read after the last transaction; the transactions before it.
    torn["transactions"].pop()
    reason = torn_dump(torn)
    assert reason is not None and "nonce 3 and 2 transactions" in reason


def test_transactions_of_a_block_not_dumped_are_torn(saved: tuple[Node, dict[str, Any]]) -> None:
    _, dump = saved
    torn = copy.deepcopy(dump)
    torn["blocks"] = [b for b in torn["blocks"] if int(b["header"]["number"], 16) != 3]
    torn["best_block_number"] = 2
    assert torn_dump(torn) == "transactions of blocks not dumped: [3]"


def test_blocks_past_the_head_are_torn(saved: tuple[Node, dict[str, Any]]) -> None:
    _, dump = saved
    torn = copy.deepcopy(dump)
    torn["best_block_number"] = 2
    assert torn_dump(torn) == "blocks up to 3, head 2"


def test_a_restart_from_the_saved_dump_has_every_saved_transaction(
    saved: tuple[Node, dict[str, Any]],
) -> None:
    node, dump = saved
    node.kill()
    node.start()
    assert int(_rpc(node, "eth_blockNumber", []), 16) == dump["best_block_number"]
    for tx in dump["transactions"]:
        receipt = _rpc(node, "eth_getTransactionReceipt", [tx["info"]["transaction_hash"]])
        assert receipt is not None and int(receipt["status"], 16) == 1
