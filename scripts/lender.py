"""`ape run lender deposit|request-redeem|claim|status`: fund the credit pool, leave it through
its redemption queue, see the pool."""

from __future__ import annotations

from typing import Any

import click

from app.domain.units import format_amount, format_duration, format_moment, parse_amount
from scripts._lib import chain
from scripts._lib import credit as cr
from scripts._lib.chain import Run, Stop
from scripts._lib.signers import parse_address

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
pool would refuse it, nothing is sent and its own reason is printed. --account names the lender
(an Ape account alias, or TEST::N on a local network)."""
)
def cli() -> None:
    pass


LENDER = "The lender: an Ape account alias, or TEST::N on a local network. Never a raw key."


def _amount(credit: cr.Credit, text: str, option: str) -> int:
    return int(chain.parsed(lambda t: parse_amount(t, credit.asset.decimals), text, option))


def _share_units(vault: Any, text: str, option: str) -> int:
    return int(chain.parsed(lambda t: parse_amount(t, int(vault.decimals())), text, option))


@chain.command(cli, short_help="deposit stablecoins for pool shares", signer=LENDER)
@click.option("--amount", required=True, help="Stablecoins to deposit, in whole tokens (250.5).")
def deposit(run: Run, amount: str) -> None:
    """Deposit --amount of the stablecoin into the pool and receive shares. The pool is first
    approved for the amount (a second transaction) unless the allowance covers it."""
    credit = cr.open_credit(run)
    vault, asset = credit.vault, credit.asset
    units = _amount(credit, amount, "--amount")
    cr.require_balance(asset, run.me, units, "the deposit")
    shares = int(vault.previewDeposit(units))
    cr.approve(run, credit, str(vault.address), units, "the credit pool")
    receipt = chain.send(run, vault.deposit, units, run.me, what="the deposit")
    chain.done(f"deposited {asset.fmt(units)} for {_shares(vault, shares)}", receipt)
    _position(credit, run.me)
    click.echo("next: ape run lender status; leave with ape run lender request-redeem --all")


@chain.command(cli, "request-redeem", short_help="queue shares for redemption", signer=LENDER)
@click.option("--shares", "share_text", help="Pool shares to queue, in whole shares.")
@click.option("--amount", help="Queue the shares worth this much stablecoin now.")
@click.option("--all", "everything", is_flag=True, help="Queue all your shares.")
def request_redeem(run: Run, share_text: str | None, amount: str | None, everything: bool) -> None:
    """Lock shares in the pool's redemption queue (requestRedeem). They stop earning at once
    and keep bearing losses until claimed; after the pool's cooldown `claim` pays the lower
    of their value now and at the claim. A new request adds to a pending one and restarts its
    cooldown."""
    if sum(v is not None and v is not False for v in (share_text, amount, everything)) != 1:
        raise Stop("give one of --shares, --amount and --all")
    credit = cr.open_credit(run)
    vault, owner = credit.vault, run.me
    held = int(vault.balanceOf(owner))
    if everything:
        shares = held
    elif amount is not None:
        shares = int(vault.convertToShares(_amount(credit, amount, "--amount")))
    else:
        shares = _share_units(vault, str(share_text), "--shares")
    if shares > held or shares == 0:
        raise Stop(f"{owner} holds {_shares(vault, held)}; nothing was sent")
    worth = int(vault.convertToAssets(shares))
    call = vault.requestRedeem
    receipt = chain.send(run, call, shares, owner, owner, what="the redemption request")
    _, _, claimable_at = (int(v) for v in vault.redeemRequestOf(owner))
    when = format_moment(claimable_at, chain.now())
    chain.done(
        f"queued {_shares(vault, shares)} (worth {credit.asset.fmt(worth)} now, the most a "
        f"claim pays); claimable from {when}",
        receipt,
        f"from {when}: ape run lender claim",
    )
    _position(credit, owner)


@chain.command(cli, short_help="claim your queued shares", signer=LENDER)
@click.option("--shares", "share_text", help="Queued shares to claim (default: all claimable).")
@click.option("--to", "recipient", help="Pay another address (default: yourself).")
def claim(run: Run, share_text: str | None, recipient: str | None) -> None:
    """Claim queued shares once their cooldown is over (redeem): the pool pays the lower of
    their value at the request and now, from idle cash, and burns them."""
    controller = run.me
    to = parse_address(recipient, "--to") if recipient else controller
    credit = cr.open_credit(run)
    vault = credit.vault
    if share_text is not None:
        shares = _share_units(vault, share_text, "--shares")
    else:
        # All that is claimable; with nothing claimable the pool's own error says when.
        shares = int(vault.claimableRedeemRequest(REQUEST_ID, controller)) or int(
            vault.redeemRequestOf(controller)[0]
        )
    receipt = chain.send(run, vault.redeem, shares, to, controller, what="the claim")
    for event in receipt.events.filter(vault.Withdraw):
        chain.done(
            f"claimed {_shares(vault, int(event.shares))}: {credit.asset.fmt(int(event.assets))} "
            f"paid to {to}",
            receipt,
        )
    _position(credit, controller)
    click.echo("next: ape run lender status")


@chain.command(cli, short_help="the pool and your position", signer=LENDER)
@click.option("--lender", "lender_address", help="Whose position (default: --account's).")
def status(run: Run, lender_address: str | None) -> None:
    """Show the pool: assets, idle cash, principal lent out and impaired, income still
    unlocking, the redemption queue, losses, share price; and a lender's shares, queued
    request and what it may claim now. Sends nothing."""
    credit = cr.open_credit(run)
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
    elif run.account is not None:
        who = run.me
    if who is not None:
        _position(credit, who)
    click.echo("next: ape run lender deposit --amount N, or request-redeem / claim to leave")


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
            else f"claimable from {format_moment(claimable_at, chain.now())}"
        )
        click.echo(f"queued     {_shares(vault, queued)}, paying at most {fmt(at_request)}; {when}")


def _price(vault: Any) -> int:
    return int(vault.convertToAssets(10 ** int(vault.decimals())))


def _shares(vault: Any, shares: int) -> str:
    return format_amount(shares, int(vault.decimals()), str(vault.symbol()))
