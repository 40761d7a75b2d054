"""The chain as the index and the shopper API read it: one web3 client and the deployed suite,
connected on first use (the service starts even while the node is away)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import Web3Exception
from web3.types import RPCEndpoint

from app.chain.contracts import Suite, connect, load_suite
from app.domain.errors import TrustMallError
from app.settings import Settings

# What a JSON-RPC call may raise when the node is away or answers nonsense.
RPC_ERRORS: tuple[type[Exception], ...] = (OSError, ValueError, Web3Exception)


class ChainUnavailable(TrustMallError, ConnectionError):
    """The node does not answer, or the chain it serves has no deployment record."""


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
        # web3 validates every eth_call against the chain id, asking the node each time; an
        # endpoint's chain id does not change, so ask once.
        provider = self.web3.provider
        provider.cacheable_requests = {RPCEndpoint("eth_chainId")}
        provider.cache_allowed_requests = True

    def suite(self) -> Suite:
        """The deployed suite; raises ``ChainUnavailable`` while the node or record is missing."""
        suite = self._suite
        if suite is not None:
            return suite
        with self._lock:
            if self._suite is None:
                try:
                    self._suite = load_suite(
                        self.web3, self._settings.deployments_dir, self._settings.abi_dir
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
