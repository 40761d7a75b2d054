"""What an escrow order (or the credit pool) is paid in: ETH or an ERC-20, with its symbol and
decimals, for amounts people read and type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.domain.orders import ETH
from app.domain.units import format_amount

if TYPE_CHECKING:
    from ape.contracts.base import ContractInstance

ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": name,
        "stateMutability": mutability,
        "inputs": [{"name": n, "type": t} for n, t in inputs],
        "outputs": [{"name": "", "type": output}],
    }
    for name, mutability, inputs, output in (
        ("symbol", "view", [], "string"),
        ("decimals", "view", [], "uint8"),
        ("balanceOf", "view", [("account", "address")], "uint256"),
        ("allowance", "view", [("owner", "address"), ("spender", "address")], "uint256"),
        ("approve", "nonpayable", [("spender", "address"), ("amount", "uint256")], "bool"),
    )
]


@dataclass(frozen=True)
class Asset:
    """What an order is paid in: ETH or an ERC-20, with its symbol and decimals."""

    token: str
    symbol: str
    decimals: int

    @property
    def is_eth(self) -> bool:
        return self.token == ETH

    def fmt(self, units: int) -> str:
        return format_amount(units, self.decimals, self.symbol)

    def balance_of(self, account: str) -> int:
        from ape import chain

        if self.is_eth:
            return int(chain.get_balance(account))
        return int(erc20(self.token).balanceOf(account))


def erc20(token: str) -> ContractInstance:
    from ape import Contract

    instance: ContractInstance = Contract(token, abi=ERC20_ABI)
    return instance


def parse_token(value: str, hint: str = "--token") -> str:
    """``ETH`` (or the zero address) or an ERC-20 address."""
    from scripts._lib.signers import parse_address

    return ETH if value.strip().upper() == "ETH" else parse_address(value, hint)


def asset_of(token: str) -> Asset:
    """ETH for the zero address, else the ERC-20 at ``token`` (its code must exist)."""
    from ape import chain

    if token == ETH:
        return Asset(ETH, "ETH", 18)
    if not chain.provider.get_code(token):
        from scripts._lib.chain import Stop

        raise Stop(f"no contract code at token address {token}")
    contract = erc20(token)
    try:
        symbol = str(contract.symbol())
        decimals = int(contract.decimals())
    except Exception:  # a token without metadata: show base units
        return Asset(token, f"units of {token}", 0)
    return Asset(token, symbol, decimals)
