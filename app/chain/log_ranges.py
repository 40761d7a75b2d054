"""Logs over a long stretch of blocks, read a chunk of blocks at a time: public providers refuse
an ``eth_getLogs`` over too wide a range (or too many results), and a scan from a deployment's
first block to the head soon is one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from web3 import Web3

LOG_CHUNK_BLOCKS = 50_000


def logs_in_ranges(
    web3: Web3,
    address: str,
    topics: Sequence[Any],
    start: int,
    end: int | None = None,
    chunk: int = LOG_CHUNK_BLOCKS,
) -> list[Any]:
    """The logs of ``address`` matching ``topics`` from block ``start`` to ``end`` (the head
    now when None), oldest first."""
    last = int(web3.eth.block_number) if end is None else end
    found: list[Any] = []
    for low in range(start, last + 1, chunk):
        found += web3.eth.get_logs(
            {
                "address": Web3.to_checksum_address(address),
                "fromBlock": low,
                "toBlock": min(last, low + chunk - 1),
                "topics": list(topics),
            }
        )
    return found
