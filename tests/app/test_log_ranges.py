"""Logs read a chunk of blocks at a time are the logs read at once (``app.chain.log_ranges``)."""

from __future__ import annotations

from app.chain.log_ranges import logs_in_ranges
from tests.app.index.actors import Actor, SuiteDriver


def test_logs_read_in_chunks_of_blocks_are_the_logs_read_at_once(
    suite: SuiteDriver, merchant: Actor, start_block: int
) -> None:
    for _ in range(5):
        suite.register_item(merchant)
        suite.mine()
    registry = suite.registry
    topics = [str(registry.events.ItemRegistered().topic)]
    head = suite.head()
    at_once = suite.w3.eth.get_logs(
        {"address": registry.address, "fromBlock": start_block, "toBlock": head, "topics": topics}
    )

    for chunk in (1, 2, 3, 1_000):
        found = logs_in_ranges(suite.w3, registry.address, topics, start_block, head, chunk=chunk)
        assert [(e["blockNumber"], e["logIndex"]) for e in found] == [
            (e["blockNumber"], e["logIndex"]) for e in at_once
        ]
    assert len(at_once) == 5
