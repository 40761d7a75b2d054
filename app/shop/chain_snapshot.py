"""Views and logs of the suite at one block: what ``?fresh=true`` reads
(``app.shop.chain_facts``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract

from app.index.chain import BlockHeader
from app.index.handlers import hex32
from app.index.runtime import IndexRuntime
from app.shop.facts import Ref


@dataclass(frozen=True)
class Event:
    """A decoded log."""

    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    tx_hash: str


class ChainSnapshot:
    """Views and logs of the suite at one block."""

    def __init__(self, index: IndexRuntime) -> None:
        self.index = index
        suite = index.chain.suite()
        self.web3: Web3 = suite.web3
        self.registry: Contract = suite.registry
        self.escrow: Contract | None = suite.contracts.get("OrderEscrow")
        self.start = suite.deployed_at_block("ProductRegistry")
        self.block = int(self.web3.eth.block_number)
        self._times: dict[int, int] = {}

    def call(self, function: Any) -> Any:
        return function.call(block_identifier=self.block)

    def logs(self, contract: Contract, events: Sequence[str], *topics: Any) -> list[Event]:
        decoders = {
            hex32(str(contract.events[name]().topic)): contract.events[name]() for name in events
        }
        raw = self.web3.eth.get_logs(
            {
                "address": contract.address,
                "fromBlock": self.start,
                "toBlock": self.block,
                "topics": [sorted(decoders), *topics],
            }
        )
        found = []
        for entry in sorted(raw, key=lambda e: (int(e["blockNumber"]), int(e["logIndex"]))):
            decoder = decoders[hex32(bytes(entry["topics"][0]))]
            data = decoder.process_log(entry)
            found.append(
                Event(
                    name=str(data["event"]),
                    args=dict(data["args"]),
                    block_number=int(entry["blockNumber"]),
                    log_index=int(entry["logIndex"]),
                    tx_hash=hex32(bytes(entry["transactionHash"])),
                )
            )
        return found

    def load_times(self, events: Iterable[Event]) -> None:
        wanted = sorted({e.block_number for e in events} - set(self._times))
        headers: dict[int, BlockHeader | None] = self.index.chain.headers(wanted)
        for number, header in headers.items():
            if header is not None:
                self._times[number] = header.time

    def ref(self, event: Event) -> Ref:
        """Where ``event`` happened, with its block's time once ``load_times`` fetched it."""
        return Ref(
            event.tx_hash, event.block_number, event.log_index, self._times.get(event.block_number)
        )


def field_of(record: Any, position: int, name: str) -> Any:
    """A struct field from a view's answer (web3 gives tuples; some set-ups give dicts)."""
    if isinstance(record, dict):
        return record[name]
    return record[position]
