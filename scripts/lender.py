"""`ape run lender deposit|withdraw|status`: fund the credit pool, take money out, see the pool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from scripts._lib import credit as cr
from scripts._lib.signers import parse_address, resolve_account
from scripts._lib.units import parse_amount


@click.group(
    help="""Lender operations on the credit pool (CreditVault, an ERC-4626 vault of the
stablecoin): credit lines draw from it and repay into it; interest raises the share price, a
written-off default lowers it. Withdrawals are limited to idle cash, never funds lent out.

\b
  deposit   put stablecoins in for pool shares
  withdraw  take stablecoins out (burns shares); --all for everything idle cash allows
  status    the pool (assets, idle, lent, losses, share price) and your position

The pool is the one the CreditLines recorded for the chain in --deployments-dir uses
(default: $TRUSTMALL_DEPLOYMENTS_DIR or deployments/). Every command checks the chain first
and sends nothing if a check fails; --account names the lender (an Ape account alias, or
TEST::N on a local network)."""
)
def cli() -> None:
    pass


def _amount(credit: cr.Credit, text: str, option: str) -> int:
    try:
        return parse_amount(text, credit.asset.decimals)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


@cli.command(cls=ConnectedProviderCommand, short_help="deposit stablecoins for pool shares")
@cr.credit_options
@click.option("--amount", required=True, help="Stablecoins to deposit, in whole tokens (250.5).")
def deposit(network: Any, account: Any, deployments_dir: Path | None, amount: str) -> None:
    """Deposit --amount of the stablecoin into the pool and receive shares. The pool is first
    approved for the amount (a second transaction) unless the allowance covers it."""
    lender = resolve_account(account, network)
    credit = cr.open_credit(deployments_dir)
    vault, asset = credit.vault, credit.asset
    units = _amount(credit, amount, "--amount")
    problems = cr.balance_problems(asset, str(lender.address), units, "the deposit")
    if vault.paused():
        problems.append(f"the credit pool {vault.address} is paused: no deposits")
    cr.require(problems)
    shares = int(vault.previewDeposit(units))
    cr.approve(credit, lender, str(vault.address), units, "the credit pool")
    receipt = cr.send(credit, lender, vault.deposit, units, lender.address)
    cr.done(f"deposited {asset.fmt(units)} for {_shares(vault, shares)}", receipt)
    _position(credit, str(lender.address))


@cli.command(cls=ConnectedProviderCommand, short_help="withdraw stablecoins (idle cash only)")
@cr.credit_options
@click.option("--amount", help="Stablecoins to withdraw, in whole tokens.")
@click.option("--all", "everything", is_flag=True, help="All your claim idle cash can pay now.")
@click.option("--to", "recipient", help="Pay another address (default: yourself).")
def withdraw(
    network: Any,
    account: Any,
    deployments_dir: Path | None,
    amount: str | None,
    everything: bool,
    recipient: str | None,
) -> None:
    """Withdraw --amount (or --all you may) from the pool, burning your shares. The pool pays
    from idle cash only: what is lent out comes back as borrowers repay."""
    if (amount is None) == (not everything):
        raise click.UsageError("give --amount or --all")
    lender = resolve_account(account, network)
    owner = str(lender.address)
    to = parse_address(recipient, "--to") if recipient else owner
    credit = cr.open_credit(deployments_dir)
    vault, asset = credit.vault, credit.asset
    claim = int(vault.convertToAssets(vault.balanceOf(owner)))
    problems = []
    if vault.paused():
        problems.append(f"the credit pool {vault.address} is paused: no withdrawals")
    if claim == 0:
        problems.append(f"{owner} holds no shares of the pool")
    cr.require(problems)
    most = int(vault.maxWithdraw(owner))
    if everything:
        shares = int(vault.maxRedeem(owner))
        if shares == 0:
            cr.require([_idle_note(credit, claim, most)])
        units = int(vault.previewRedeem(shares))
        receipt = cr.send(credit, lender, vault.redeem, shares, to, owner)
    else:
        assert amount is not None
        units = _amount(credit, amount, "--amount")
        if units > most:
            cr.require([_idle_note(credit, claim, most)])
        shares = int(vault.previewWithdraw(units))
        receipt = cr.send(credit, lender, vault.withdraw, units, to, owner)
    cr.done(f"withdrew {asset.fmt(units)} to {to}, burning {_shares(vault, shares)}", receipt)
    if everything and units < claim:
        click.echo(
            f"{asset.fmt(claim - units)} of your claim is lent out: withdraw it as it is repaid"
        )
    _position(credit, owner)


def _idle_note(credit: cr.Credit, claim: int, most: int) -> str:
    fmt = credit.asset.fmt
    idle, lent = int(credit.vault.idleAssets()), int(credit.vault.lentAssets())
    return (
        f"you may withdraw {fmt(most)} now: your claim is {fmt(claim)}, but the pool holds "
        f"{fmt(idle)} idle ({fmt(lent)} lent out)"
    )


@cli.command(cls=ConnectedProviderCommand, short_help="the pool and your position")
@cr.credit_options
@click.option("--lender", "lender_address", help="Whose position (default: --account's).")
def status(
    network: Any, account: Any, deployments_dir: Path | None, lender_address: str | None
) -> None:
    """Show the pool: assets, idle cash, principal lent out, losses, share price; and a
    lender's shares, claim and what it may withdraw now. Sends nothing."""
    credit = cr.open_credit(deployments_dir)
    vault, fmt = credit.vault, credit.asset.fmt
    total, idle = int(vault.totalAssets()), int(vault.idleAssets())
    lent, losses = int(vault.lentAssets()), int(vault.totalLosses())
    click.echo(f"pool       {vault.address} ({vault.symbol()}, asset {credit.asset.symbol})")
    click.echo(f"assets     {fmt(total)}: {fmt(idle)} idle, {fmt(lent)} lent out")
    click.echo(f"losses     {fmt(losses)} written off in all")
    click.echo(f"share      {fmt(_price(vault))} per whole share")
    click.echo(f"state      {'paused' if vault.paused() else 'open'}")
    who = None
    if lender_address:
        who = parse_address(lender_address, "--lender")
    elif account is not None:
        who = str(resolve_account(account, network).address)
    if who is not None:
        _position(credit, who)


def _position(credit: cr.Credit, owner: str) -> None:
    vault, fmt = credit.vault, credit.asset.fmt
    shares = int(vault.balanceOf(owner))
    claim = int(vault.convertToAssets(shares))
    click.echo(
        f"lender     {owner}: {_shares(vault, shares)}, worth {fmt(claim)}; "
        f"withdrawable now {fmt(int(vault.maxWithdraw(owner)))}"
    )


def _price(vault: Any) -> int:
    return int(vault.convertToAssets(10 ** int(vault.decimals())))


def _shares(vault: Any, shares: int) -> str:
    from scripts._lib.units import format_amount

    return format_amount(shares, int(vault.decimals()), str(vault.symbol()))
