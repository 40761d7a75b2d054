from __future__ import annotations

import click

from app.domain.units import format_duration, format_moment
from scripts._lib import chain
from scripts._lib import credit as cr
from scripts._lib.chain import Run, Stop, parse_address

REQUEST_ID = 0  # ERC-7540: all of a controller's requests are request 0


@click.group(
    help=f"""A lender's part in the credit pool (CreditVault, an ERC-4626 vault of the stablecoin):
deposit, queue shares for redemption, claim them after the cooldown. {cr.SIMULATED}"""
)
def cli() -> None:
    pass


@chain.command(cli, short_help="deposit stablecoins for pool shares")
@click.option("--amount", required=True, help="Stablecoins to deposit, in whole tokens (250.5).")
def deposit(run: Run, amount: str) -> None:
    """Deposit --amount of the stablecoin for pool shares (approving the pool first if need be)."""
    credit = cr.open_credit(run)
    vault, asset = credit.vault, credit.asset
    units = asset.parse(amount, "--amount")
    shares = int(vault.previewDeposit(units))
    asset.allow(run, str(vault.address), units, "the deposit")
    receipt = chain.send(run, vault.deposit, units, run.me, what="the deposit")
    chain.done(f"deposited {asset.fmt(units)} for {credit.shares.fmt(shares)}", receipt)
    click.echo("next: ape run lender status; leave with ape run lender request-redeem --all")


@chain.command(cli, "request-redeem", short_help="queue shares for redemption")
@click.option("--shares", "share_text", help="Pool shares to queue, in whole shares.")
@click.option("--amount", help="Queue the shares worth this much stablecoin now.")
@click.option("--all", "everything", is_flag=True, help="Queue all your shares.")
def request_redeem(run: Run, share_text: str | None, amount: str | None, everything: bool) -> None:
    """Lock shares in the pool's redemption queue (they stop earning); after the cooldown `claim`
    pays the lower of their value now and at the claim. More: docs/scripts.md#lender."""
    if sum(v is not None and v is not False for v in (share_text, amount, everything)) != 1:
        raise Stop("give one of --shares, --amount and --all")
    credit = cr.open_credit(run)
    vault, me = credit.vault, run.me
    if everything:
        shares = int(vault.balanceOf(me))
    elif amount is not None:
        shares = int(vault.convertToShares(credit.asset.parse(amount, "--amount")))
    else:
        shares = credit.shares.parse(str(share_text), "--shares")
    worth = credit.asset.fmt(int(vault.convertToAssets(shares)))
    receipt = chain.send(run, vault.requestRedeem, shares, me, me, what="the redemption request")
    queued = f"queued {credit.shares.fmt(shares)}, worth {worth} now: the most a claim pays"
    chain.done(queued, receipt)
    click.echo(f"next: claimable {_position(credit, me)}: ape run lender claim")


@chain.command(cli, short_help="claim your queued shares after the cooldown")
@click.option("--shares", "share_text", help="Queued shares to claim (default: all claimable).")
@click.option("--to", "recipient", help="Pay another address (default: yourself).")
def claim(run: Run, share_text: str | None, recipient: str | None) -> None:
    """Claim queued shares after the cooldown: the lower of their value at the request and now."""
    to = parse_address(recipient, "--to") if recipient else run.me
    credit, me = cr.open_credit(run), run.me
    vault, fmt = credit.vault, credit.asset.fmt
    if share_text is not None:
        shares = credit.shares.parse(share_text, "--shares")
    else:
        # All that is claimable; with nothing claimable the pool's own error says when.
        claimable = int(vault.claimableRedeemRequest(REQUEST_ID, me))
        shares = claimable or int(vault.redeemRequestOf(me)[0])
    receipt = chain.send(run, vault.redeem, shares, to, me, what="the claim")
    for event in receipt.events.filter(vault.Withdraw):
        claimed = credit.shares.fmt(int(event.shares))
        chain.done(f"claimed {claimed}: {fmt(int(event.assets))} paid to {to}", receipt)
    click.echo("next: ape run lender status")


@chain.command(cli, short_help="the pool and your position")
@click.option("--lender", "lender_address", help="Whose position (default: --account's).")
def status(run: Run, lender_address: str | None) -> None:
    """Show the pool and a lender's shares and queued request. Sends nothing."""
    credit = cr.open_credit(run)
    vault, fmt, shares = credit.vault, credit.asset.fmt, credit.shares
    click.echo(
        f"pool       {vault.address} ({shares.symbol}, asset {credit.asset.symbol})\n"
        f"assets     {fmt(int(vault.totalAssets()))}: {fmt(int(vault.idleAssets()))} idle, "
        f"{fmt(int(vault.lentAssets()))} lent out\n"
        f"impaired   {fmt(int(vault.impairedAssets()))} past due and grace (not in assets)\n"
        f"unlocking  {fmt(int(vault.lockedIncome()))} of income (counted as it unlocks)\n"
        f"queue      {fmt(int(vault.queuedAssets()))} owed to queued redemptions; cooldown "
        f"{format_duration(int(vault.redeemCooldown()))}\n"
        f"losses     {fmt(int(vault.totalLosses()))} written off in all\n"
        f"share      {fmt(int(vault.convertToAssets(10**shares.decimals)))} per whole share\n"
        f"state      {'paused' if vault.paused() else 'open'}"
    )
    if lender_address or run.account is not None:  # without either, the pool alone
        _position(credit, parse_address(lender_address, "--lender") if lender_address else run.me)
    click.echo("next: ape run lender deposit --amount N, or request-redeem / claim to leave")


def _position(credit: cr.Credit, owner: str) -> str | None:
    """Prints ``owner``'s shares and queued request; when the request is claimable."""
    vault, fmt, shares = credit.vault, credit.asset.fmt, credit.shares
    held = int(vault.balanceOf(owner))
    worth = fmt(int(vault.convertToAssets(held)))
    click.echo(f"lender     {owner}: {shares.fmt(held)}, worth {worth}")
    queued, at_request, claimable_at = (int(v) for v in vault.redeemRequestOf(owner))
    if not queued:
        return None
    claimable = int(vault.claimableRedeemRequest(REQUEST_ID, owner))
    when = "now" if claimable else f"from {format_moment(claimable_at, chain.now())}"
    click.echo(f"queued     {shares.fmt(queued)}, pays at most {fmt(at_request)}; claimable {when}")
    return when
