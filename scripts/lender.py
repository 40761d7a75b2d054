"""`ape run lender deposit|request-redeem|claim|status`: fund the credit pool, leave it through
its redemption queue, see the pool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from scripts._lib import credit as cr
from scripts._lib.escrow import chain_now
from scripts._lib.signers import parse_address, resolve_account
from scripts._lib.units import format_amount, format_duration, format_moment, parse_amount

REQUEST_ID = 0  # ERC-7540: all of a controller's requests are request 0


@click.group(
    help="""Lender operations on the credit pool (CreditVault, an ERC-4626 vault of the
stablecoin): credit lines draw from it and repay into it. Interest and fees raise the share
price as they unlock (over 7 days); principal past due and grace is impaired at once (the price
falls when the loss becomes visible, by a rule anyone can trigger).

Exits are ordered, so nobody leaves ahead of a visible loss: `request-redeem` locks your shares
in the pool's queue; after the cooldown (3 days by default) `claim` pays the lower of their
value at the request and at the claim, from idle cash.

\b
  deposit         put stablecoins in for pool shares
  request-redeem  queue shares for redemption (--shares, --amount or --all)
  claim           after the cooldown, take the stablecoins of your queued shares
  status          the pool (assets, idle, lent, impaired, queue, share price) and you

The pool is the one the CreditLines recorded for the chain in --deployments-dir uses
(default: $TRUSTMALL_DEPLOYMENTS_DIR or deployments/). Every call is simulated first: if the
pool would refuse it, nothing is sent and its reason is printed. --account names the lender
(an Ape account alias, or TEST::N on a local network)."""
)
def cli() -> None:
    pass


def _amount(credit: cr.Credit, text: str, option: str) -> int:
    try:
        return parse_amount(text, credit.asset.decimals)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _share_units(vault: Any, text: str, option: str) -> int:
    try:
        return parse_amount(text, int(vault.decimals()))
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


@cli.command(
    "request-redeem", cls=ConnectedProviderCommand, short_help="queue shares for redemption"
)
@cr.credit_options
@click.option("--shares", "share_text", help="Pool shares to queue, in whole shares.")
@click.option("--amount", help="Queue the shares worth this much stablecoin now.")
@click.option("--all", "everything", is_flag=True, help="Queue all your shares.")
def request_redeem(
    network: Any,
    account: Any,
    deployments_dir: Path | None,
    share_text: str | None,
    amount: str | None,
    everything: bool,
) -> None:
    """Lock shares in the pool's redemption queue (requestRedeem). They stop earning at once
    and keep bearing losses until claimed; after the pool's cooldown `claim` pays the lower
    of their value now and at the claim. A new request adds to a pending one and restarts its
    cooldown."""
    if sum(v is not None and v is not False for v in (share_text, amount, everything)) != 1:
        raise click.UsageError("give one of --shares, --amount and --all")
    lender = resolve_account(account, network)
    owner = str(lender.address)
    credit = cr.open_credit(deployments_dir)
    vault = credit.vault
    held = int(vault.balanceOf(owner))
    if everything:
        shares = held
    elif amount is not None:
        shares = int(vault.convertToShares(_amount(credit, amount, "--amount")))
    else:
        shares = _share_units(vault, str(share_text), "--shares")
    if shares > held:
        cr.require([f"{owner} holds {_shares(vault, held)}, less than {_shares(vault, shares)}"])
    if shares == 0:
        cr.require([f"{owner} holds no shares of the pool"])
    worth = int(vault.convertToAssets(shares))
    receipt = cr.send(credit, lender, vault.requestRedeem, shares, owner, owner)
    _, _, claimable_at = (int(v) for v in vault.redeemRequestOf(owner))
    cr.done(
        f"queued {_shares(vault, shares)} (worth {credit.asset.fmt(worth)} now, the most a "
        f"claim pays); claimable from {format_moment(claimable_at, chain_now())}",
        receipt,
    )
    _position(credit, owner)


@cli.command(cls=ConnectedProviderCommand, short_help="claim your queued shares")
@cr.credit_options
@click.option("--shares", "share_text", help="Queued shares to claim (default: all claimable).")
@click.option("--to", "recipient", help="Pay another address (default: yourself).")
def claim(
    network: Any,
    account: Any,
    deployments_dir: Path | None,
    share_text: str | None,
    recipient: str | None,
) -> None:
    """Claim queued shares once their cooldown is over (redeem): the pool pays the lower of
    their value at the request and now, from idle cash, and burns them."""
    lender = resolve_account(account, network)
    controller = str(lender.address)
    to = parse_address(recipient, "--to") if recipient else controller
    credit = cr.open_credit(deployments_dir)
    vault = credit.vault
    if share_text is not None:
        shares = _share_units(vault, share_text, "--shares")
    else:
        shares = int(vault.claimableRedeemRequest(REQUEST_ID, controller))
        if shares == 0:
            queued, _, claimable_at = (int(v) for v in vault.redeemRequestOf(controller))
            cr.require(
                [
                    f"{_shares(vault, queued)} queued, claimable from "
                    f"{format_moment(claimable_at, chain_now())}"
                    if queued
                    else f"{controller} has no shares in the queue: `lender request-redeem`"
                ]
            )
    receipt = cr.send(credit, lender, vault.redeem, shares, to, controller)
    for event in receipt.events.filter(vault.Withdraw):
        cr.done(
            f"claimed {_shares(vault, int(event.shares))}: {credit.asset.fmt(int(event.assets))} "
            f"paid to {to}",
            receipt,
        )
    _position(credit, controller)


@cli.command(cls=ConnectedProviderCommand, short_help="the pool and your position")
@cr.credit_options
@click.option("--lender", "lender_address", help="Whose position (default: --account's).")
def status(
    network: Any, account: Any, deployments_dir: Path | None, lender_address: str | None
) -> None:
    """Show the pool: assets, idle cash, principal lent out and impaired, income still
    unlocking, the redemption queue, losses, share price; and a lender's shares, queued
    request and what it may claim now. Sends nothing."""
    credit = cr.open_credit(deployments_dir)
    vault, fmt = credit.vault, credit.asset.fmt
    total, idle = int(vault.totalAssets()), int(vault.idleAssets())
    lent, impaired = int(vault.lentAssets()), int(vault.impairedAssets())
    click.echo(f"pool       {vault.address} ({vault.symbol()}, asset {credit.asset.symbol})")
    click.echo(f"assets     {fmt(total)}: {fmt(idle)} idle, {fmt(lent)} lent out")
    click.echo(f"impaired   {fmt(impaired)} past due and grace (not counted in assets)")
    click.echo(f"unlocking  {fmt(int(vault.lockedIncome()))} of income (counted as it unlocks)")
    click.echo(
        f"queue      {fmt(int(vault.queuedAssets()))} owed to queued redemptions; cooldown "
        f"{format_duration(int(vault.redeemCooldown()))}"
    )
    click.echo(f"losses     {fmt(int(vault.totalLosses()))} written off in all")
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
    click.echo(
        f"lender     {owner}: {_shares(vault, shares)}, worth "
        f"{fmt(int(vault.convertToAssets(shares)))}"
    )
    queued, at_request, claimable_at = (int(v) for v in vault.redeemRequestOf(owner))
    if queued:
        claimable = int(vault.claimableRedeemRequest(REQUEST_ID, owner))
        when = (
            "claimable now"
            if claimable
            else f"claimable from {format_moment(claimable_at, chain_now())}"
        )
        click.echo(f"queued     {_shares(vault, queued)}, paying at most {fmt(at_request)}; {when}")


def _price(vault: Any) -> int:
    return int(vault.convertToAssets(10 ** int(vault.decimals())))


def _shares(vault: Any, shares: int) -> str:
    return format_amount(shares, int(vault.decimals()), str(vault.symbol()))
