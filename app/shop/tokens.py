"""What the token of an escrow order is called and how many decimals it counts in, so that
amounts read as people read them: ``0.25 ETH``, ``480.00 dUSD``.

ETH is the zero address. An ERC-20's ``symbol()`` and ``decimals()`` are asked of the token
itself, once: a token does not change them, and the answer is kept for the life of the process.
A token that does not answer them is shown in base units, and while the node is away nobody waits
on it again for a while: the page is answered from the index and must not hang on the chain.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import NamedTuple

from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

from app.domain.orders import ETH
from app.domain.units import format_amount
from app.index.chain import RPC_ERRORS, ChainAccess, ChainUnavailable, NodeBackoff

# OpenZeppelin's ERC20 metadata functions, all this reads of a token.
_METADATA_ABI = [
    {
        "type": "function",
        "name": name,
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": kind}],
    }
    for name, kind in (("symbol", "string"), ("decimals", "uint8"))
]
# A symbol is the token's own claim: kept short and plain, else the token is shown by address.
_PLAIN_SYMBOL = re.compile(r"^[A-Za-z0-9.$_-]{1,16}$")
MAX_DECIMALS = 36
# Amounts show at least cents (480.00 dUSD), and every further nonzero digit (0.003 ETH).
DISPLAY_PLACES = 2
# After the node fails to answer, token names are not asked again for this long.
RETRY_AFTER_SECONDS = 30.0


# An amount of a token's base units as people read it (``TokenNames.amount_text``).
AmountText = Callable[[str, int], str]


class TokenUnits(NamedTuple):
    symbol: str
    decimals: int


ETH_UNITS = TokenUnits("ETH", 18)
_NODE_AWAY: tuple[type[Exception], ...] = (ChainUnavailable, *RPC_ERRORS)


class TokenNames:
    """Tokens' symbols and decimals as their contracts state them; thread-safe, one per app."""

    def __init__(self, chain: ChainAccess) -> None:
        self._chain = chain
        self._lock = threading.Lock()
        # None: the token does not state them (no such functions, or nonsense).
        self._known: dict[str, TokenUnits | None] = {ETH: ETH_UNITS}
        self._backoff = NodeBackoff(RETRY_AFTER_SECONDS)

    def units(self, token: str) -> TokenUnits | None:
        """``token``'s symbol and decimals, or None when not known (now)."""
        with self._lock:
            if token in self._known:
                return self._known[token]
        if self._backoff.waiting():
            return None
        try:
            units = self._ask(token)
        except _NODE_AWAY:
            self._backoff.failed()
            return None
        with self._lock:
            self._known[token] = units
        return units

    def amount_text(self, token: str, amount: int) -> str:
        """``amount`` base units of ``token`` as people read it."""
        units = self.units(token)
        if units is None:
            return f"{amount} base units of {token}"
        return format_amount(amount, units.decimals, units.symbol, min_places=DISPLAY_PLACES)

    def _ask(self, token: str) -> TokenUnits | None:
        web3 = self._chain.suite().web3  # raises ChainUnavailable while the node is away
        contract = web3.eth.contract(address=Web3.to_checksum_address(token), abi=_METADATA_ABI)
        try:
            symbol = str(contract.functions.symbol().call())
            decimals = int(contract.functions.decimals().call())
        except (ContractLogicError, BadFunctionCallOutput):
            return None  # the token reverts or answers nothing: it does not state them
        if not _PLAIN_SYMBOL.fullmatch(symbol) or not 0 <= decimals <= MAX_DECIMALS:
            return None
        return TokenUnits(symbol, decimals)
