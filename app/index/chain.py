"""The chain as the index and the shopper API read it: one web3 client and the deployed suite,
connected on first use (the service starts even while the node is away)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import Web3Exception
from web3.types import RPCEndpoint

from app.chain.contracts import Suite, connect, load_suite
from app.chain.rpc_reads import JsonRpcReads
from app.domain.errors import TrustMallError
from app.settings import Settings

# What a JSON-RPC call may raise when the node is away or answers nonsense.
RPC_ERRORS: tuple[type[Exception], ...] = (OSError, ValueError, Web3Exception)


class ChainUnavailable(TrustMallError, ConnectionError):
    """The node does not answer, or the chain it serves has no deployment record."""


class NodeBackoff:
    """Whether to leave the node alone for now: after it failed to answer, the reads that can do
    without it (token names, the clock of an order's deadlines) do not wait on it again for
    ``seconds``, so that an answer from the index never hangs on the chain. Thread-safe."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._away_until = 0.0

    def waiting(self) -> bool:
        with self._lock:
            return time.monotonic() < self._away_until

    def failed(self) -> None:
        with self._lock:
            self._away_until = time.monotonic() + self.seconds


@dataclass(frozen=True)
class RawLog:
    """A log as the node sent it, hex values unformatted."""

    address: str
    topics: list[str]
    data: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class BlockHeader:
    number: int
    hash: str
    time: int


class ChainAccess:
    """A lazily connected suite; thread-safe, one per app."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._suite: Suite | None = None
        self.web3: Web3 = connect(settings.rpc_url)
        # The request path's read batches (app.chain.rpc_reads), beside web3's provider.
        self.reads = JsonRpcReads(settings.rpc_url)

    def suite(self) -> Suite:
        """The deployed suite; raises ``ChainUnavailable`` while the node or record is missing."""
        suite = self._suite
        if suite is not None:
            return suite
        with self._lock:
            if self._suite is None:
                try:
                    settings = self._settings
                    self._suite = load_suite(
                        self.web3, settings.deployments_dir, settings.abi_dir, settings.chain_id
                    )
                except TrustMallError as error:
                    raise ChainUnavailable(str(error)) from error
                except RPC_ERRORS as error:
                    raise ChainUnavailable(f"node at {self._settings.rpc_url}: {error}") from error
            return self._suite

    def contract(self, name: str) -> Contract | None:
        """A contract of the suite by name, or None when this deployment lacks it."""
        return self.suite().contracts.get(name)

    def head(self) -> int:
        try:
            return int(self.web3.eth.block_number)
        except RPC_ERRORS as error:
            raise ChainUnavailable(f"node at {self._settings.rpc_url}: {error}") from error

    def head_time(self) -> int:
        """The latest block's time (unix seconds): "now" as the contracts see it."""
        try:
            return int(self.web3.eth.get_block("latest")["timestamp"])
        except RPC_ERRORS as error:
            raise ChainUnavailable(f"node at {self._settings.rpc_url}: {error}") from error

    def logs(
        self, first: int, last: int, addresses: list[str], topics: list[list[str]]
    ) -> list[RawLog]:
        """``eth_getLogs`` without web3's result formatting (a third of the indexer's time on big
        ranges): plain values, hashes and ids as lowercase 0x hex."""
        params = {
            "fromBlock": hex(first),
            "toBlock": hex(last),
            "address": addresses,
            "topics": topics,
        }
        try:
            answer = self.web3.provider.make_request(RPCEndpoint("eth_getLogs"), [params])
        except RPC_ERRORS as error:
            raise ChainUnavailable(f"node at {self._settings.rpc_url}: {error}") from error
        if "error" in answer or not isinstance(answer.get("result"), list):
            raise ChainUnavailable(f"eth_getLogs {first}-{last}: {answer.get('error', answer)}")
        return [
            RawLog(
                address=str(entry["address"]).lower(),
                topics=[str(topic).lower() for topic in entry["topics"]],
                data=str(entry["data"]),
                block_number=int(entry["blockNumber"], 16),
                block_hash=str(entry["blockHash"]).lower(),
                tx_hash=str(entry["transactionHash"]).lower(),
                log_index=int(entry["logIndex"], 16),
            )
            for entry in answer["result"]
            if not entry.get("removed")
        ]

    def headers(self, numbers: list[int]) -> dict[int, BlockHeader | None]:
        """Headers of several blocks in one JSON-RPC batch; None for a block the chain lacks."""
        if not numbers:
            return {}
        requests: list[tuple[str, list[Any]]] = [
            ("eth_getBlockByNumber", [hex(n), False]) for n in numbers
        ]
        try:
            provider: Any = self.web3.provider
            answers = provider.make_batch_request(requests)
        except RPC_ERRORS as error:
            raise ChainUnavailable(f"node at {self._settings.rpc_url}: {error}") from error
        if not isinstance(answers, list):
            raise ChainUnavailable(f"node at {self._settings.rpc_url}: {answers}")
        found: dict[int, BlockHeader | None] = {}
        for number, answer in zip(numbers, answers, strict=True):
            block = answer.get("result") if isinstance(answer, dict) else None
            found[number] = (
                BlockHeader(number, str(block["hash"]).lower(), int(str(block["timestamp"]), 16))
                if block
                else None
            )
        return found
