"""What an escrow order, the credit pool or its shares are counted in: ETH or an ERC-20, with its
symbol and decimals, for amounts people read and type, and what a wallet must hold or allow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.domain.orders import ETH
from app.domain.units import format_amount, parse_amount
from scripts._lib import chain
from scripts._lib.chain import Run, Stop, parse_address

if TYPE_CHECKING:
    from ape.contracts.base import ContractInstance


@dataclass(frozen=True)
class Asset:
    token: str
    symbol: str
    decimals: int

    @property
    def is_eth(self) -> bool:
        return self.token == ETH

    def fmt(self, units: int) -> str:
        return format_amount(units, self.decimals, self.symbol)

    def parse(self, text: str, option: str) -> int:
        """Base units of an amount typed in whole tokens (19.99), or a stop naming ``option``."""
        return int(chain.parsed(lambda t: parse_amount(t, self.decimals), text, option))

    def balance_of(self, account: str) -> int:
        from ape import chain as ape_chain

        if self.is_eth:
            return int(ape_chain.get_balance(account))
        return int(erc20(self.token).balanceOf(account))

    def allow(self, run: Run, spender: str, amount: int, what: str) -> None:
        """Stops unless the wallet holds ``amount``, then approves ``spender`` for it if need be."""
        if (balance := self.balance_of(run.me)) < amount:
            held = f"{run.me} holds {self.fmt(balance)}"
            raise Stop(f"{held}, less than {what} {self.fmt(amount)}; nothing was sent")
        token = erc20(self.token)
        if int(token.allowance(run.me, spender)) < amount:
            receipt = chain.send(run, token.approve, spender, amount, what="the approval")
            chain.done(f"approved {spender} to take {what} ({self.fmt(amount)})", receipt)


def erc20(token: str) -> ContractInstance:
    """Any ERC-20, through the ABI of the project's own (DevStablecoin is OpenZeppelin's ERC20)."""
    from ape import Contract, project

    instance: ContractInstance = Contract(token, abi=project.DevStablecoin.contract_type.abi)
    return instance


def parse_token(value: str, hint: str = "--token") -> str:
    """``ETH`` (or the zero address) or an ERC-20 address."""
    return ETH if value.strip().upper() == "ETH" else parse_address(value, hint)


def asset_of(token: str) -> Asset:
    """ETH for the zero address, else the ERC-20 at ``token`` (its code must exist)."""
    from ape import chain as ape_chain

    if token == ETH:
        return Asset(ETH, "ETH", 18)
    if not ape_chain.provider.get_code(token):
        raise Stop(f"no contract code at token address {token}")
    contract = erc20(token)
    try:
        return Asset(token, str(contract.symbol()), int(contract.decimals()))
    except Exception:  # a token without metadata: show base units
        return Asset(token, f"units of {token}", 0)
