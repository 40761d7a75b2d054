from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import click

from app.domain.credit_reasons import denial_words, reason_code
from app.domain.units import format_moment
from app.domain.vocab import DenialReason, LineStatus, Standing
from scripts._lib import chain
from scripts._lib import credit as cr
from scripts._lib.borrower_report import read_own_report
from scripts._lib.calls import Call, add_calls, report
from scripts._lib.chain import Run, Stop, parse_address
from scripts._lib.escrow import new_order, new_order_options, place
from scripts._lib.service import SERVICE_URL_HELP, service_url

# `repay --all` offers an hour's interest more than owed now: interest accrues until the block.
REPAY_ALL_MARGIN_SECONDS = 3_600
YEAR_BPS = 365 * 86_400 * 10_000
NEXT = "ape run borrower status"


@click.group(
    help=f"""A borrower's credit line: apply with a bureau's attestation for an instant decision
by the public policy, pay escrow orders with it, repay at any time. {cr.SIMULATED}"""
)
def cli() -> None:
    pass


@chain.command(cli, "apply", short_help="apply with an attestation")
@click.option("--attestation", required=True, type=cr.READABLE, help="`bureau attest`'s file.")
def apply_for_credit(run: Run, attestation: Path) -> None:
    """Submit the attestation for the contract's decision by the current policy, at once and on
    chain (either way it is spent). Anyone may submit it; the line is the attested borrower's."""
    signed, credit = cr.attestation_for(run, attestation, "--attestation")
    said, lines, fmt = signed.attestation, credit.lines, credit.asset.fmt
    when = format_moment(said.issued_at, chain.now())
    click.echo(f"applying for {said.borrower}: band {said.band}, attested {when}")
    receipt = chain.send(run, lines.applyForCredit, *signed.abi_args(), what="the application")
    for event in receipt.events.filter(lines.CreditApproved):
        # Ape decodes a struct in an event as a list, in ABI order.
        terms = cr.tier_terms((int(v) for v in event.tier), fmt)
        then = "pay an order with it: ape run borrower draw --merchant A --price P --item-id 0xID"
        chain.done(f"approved under policy v{event.policyVersion}: {terms}", receipt, then)
    for event in receipt.events.filter(lines.CreditDenied):
        chain.done(f"denied under policy v{event.policyVersion}", receipt)
        for reason in DenialReason.decode(int(event.reasons)):
            words = denial_words(reason).en
            click.echo(f"  reason {int(reason)} {reason_code(reason)}: {words}")
        click.echo("next: a bureau attests again once the reasons are gone (ape run bureau attest)")


@chain.command(cli, short_help="pay an escrow order with credit")
@click.option("--merchant", help="The merchant's address (an order paid with credit).")
@click.option("--price", help="The order's price in whole stablecoins (19.99).")
@click.option("--down-payment", help="Pay this much of the price from your wallet.")
@new_order_options("Write the order's terms here (a new file), for `ape run buyer ...` later.")
def draw(
    run: Run, merchant: str | None, price: str | None, down_payment: str | None, **order: Any
) -> None:
    """Pay a new escrow order of registry items with credit: you are its buyer (`ape run buyer`),
    refunds go back to your line; with --down-payment you pay that part and draw the rest. Who
    and what credit pays: docs/scripts.md#borrower."""
    if merchant is None or price is None:
        raise Stop("name the order: --merchant and --price")
    credit = cr.open_credit(run)
    asset, lines, escrow = credit.asset, credit.lines, credit.escrow
    terms, order_file = new_order(
        run, escrow, order, merchant=merchant, payer=str(lines.address), asset=asset, price=price
    )
    own = 0 if down_payment is None else asset.parse(down_payment, "--down-payment")
    if own:
        asset.allow(run, terms.payer, own, "the down payment")
    call = lines.drawToOrderWithDownPayment if own else lines.drawToOrder
    args = (terms.as_abi(), own) if own else (terms.as_abi(),)
    send = partial(chain.send, run, call, *args, what="the draw")
    paid = f"paid order {terms.order_id} with credit"
    place(run, escrow, terms, order, order_file, send, paid, asset)


# Credit drawn as money, where the line's policy allows it (the default policy does not).
WALLET = Call("draw-to-wallet", ("lines",), "drawToWallet", "borrower", "draw to wallet", (), NEXT)
add_calls(cli, [WALLET], default_signer=None)


@chain.command(cli, short_help="repay: fees, interest, then principal")
@click.option("--amount", help="Most to pay, in whole stablecoins.")
@click.option("--all", "everything", is_flag=True, help="Everything owed (ends the cycle).")
@click.option("--for", "borrower_address", help="Repay another borrower's line (default: yours).")
def repay(run: Run, amount: str | None, everything: bool, borrower_address: str | None) -> None:
    """Pay towards a line, any amount at any time (fees, then interest, then principal; never
    more than is owed), approving the lines contract first unless the allowance covers it."""
    if (amount is None) == (not everything):
        raise Stop("give --amount or --all")
    credit = cr.open_credit(run)
    borrower = parse_address(borrower_address, "--for") if borrower_address else run.me
    asset, lines = credit.asset, credit.lines
    debt, fmt = int(lines.debtOf(borrower)), asset.fmt
    if everything:
        # A little more than owed now (as the wallet allows): the contract takes what is owed
        # at its block, and without the margin the interest of the wait would be left.
        line = lines.lineOf(borrower)
        margin = -(-int(line.principal) * int(line.aprBps) * REPAY_ALL_MARGIN_SECONDS // YEAR_BPS)
        offer = max(min(debt + margin, asset.balance_of(run.me)), debt)
    else:
        offer = asset.parse(str(amount), "--amount")
        if offer > debt:
            click.echo(f"only {fmt(debt)} is owed now: no more is taken")
    asset.allow(run, str(lines.address), offer, "the payment")
    receipt = chain.send(run, lines.repay, borrower, offer, what="the repayment")
    owed, left = int(lines.debtOf(borrower)), int(lines.lineOf(borrower).principal)
    paid = f"paid towards the line of {borrower}: {fmt(owed)} still owed (principal {fmt(left)})"
    report(receipt, paid, NEXT, asset)


@chain.command(cli, short_help="show the line")
@click.option("--borrower", "borrower_address", help="Whose line (default: --account's).")
def status(run: Run, borrower_address: str | None) -> None:
    """Show a line: its terms, what is owed now, when it is due and drawable. Sends nothing."""
    if not (borrower_address or run.account):
        raise Stop("whose line: give --borrower ADDRESS, or --account for your own")
    borrower = parse_address(borrower_address, "--borrower") if borrower_address else run.me
    credit = cr.open_credit(run)
    fmt, now, line = credit.asset.fmt, chain.now(), credit.lines.lineOf(borrower)
    state = LineStatus(int(line.status))
    rows = [f"borrower   {borrower}", "line       none (apply with an attestation)"]
    if state is not LineStatus.NONE:
        held = Standing(int(line.standing)) is Standing.DENIED
        standing = Standing(int(line.standing)).name.lower().replace("_", " ")
        until = f"drawable until {format_moment(int(line.eligibleUntil), now)}"
        drawable = "held: a newer attestation was denied" if held else until
        limit, principal = int(line.limit), int(line.principal)
        interest, fees = int(line.interest), int(line.fees)
        rows[1:] = [
            f"line       {state.name.lower()}, {standing}",
            f"terms      policy v{line.policyVersion}, band {line.band}: limit {fmt(limit)}, "
            f"APR {int(line.aprBps) / 100:g}%",
            f"principal  {fmt(principal)} (available to draw {fmt(max(limit - principal, 0))})",
            f"interest   {fmt(interest)}",
            f"fees       {fmt(fees)}",
            f"owed       {fmt(principal + interest + fees)}",
            *([f"due        {format_moment(int(line.dueAt), now)}"] if int(line.dueAt) else []),
            f"attested   {format_moment(int(line.attestedAt), now)}; {drawable}",
        ]
    rows.append(f"wallet     {fmt(credit.asset.balance_of(borrower))}")
    then = "apply --attestation FILE" if state is LineStatus.NONE else "draw ... or repay"
    click.echo("\n".join([*rows, f"next: ape run borrower {then}"]))


@chain.command(cli, "report", short_help="read your own credit report at the service")
@click.option("--service", "service", help=SERVICE_URL_HELP)
def own_report(run: Run, service: str | None) -> None:
    """Read the report behind your latest credit decision, decrypted, at the TrustMall service:
    signed in with your wallet (EIP-4361, signed here by --account; the key never leaves), then
    checked here against the report hash the chain holds. Nobody else can read it."""
    if not run.account:
        raise Stop("whose report: give --account, your own (only you can read it)")
    base = service_url(service)
    read = read_own_report(run, base, cr.open_credit(run).lines)
    said = read.report
    click.echo(f"report {said.report_id} of {said.borrower}, from {said.bureau}")
    click.echo(
        f"  model {said.model}, score {said.score}, received {said.received_at:%Y-%m-%d %H:%M} UTC"
    )
    for attester in said.attesters:
        whose = "the service's key" if attester.by_service else "the bureau's cosigner"
        click.echo(f"  attested by {attester.address} ({whose})")
    checked = read.commitment_here == said.report_hash
    chained = read.on_chain == said.report_hash
    holds = "holds" if checked else "does NOT hold"
    chain_says = "commits to it" if chained else f"commits to {read.on_chain or 'nothing'}"
    click.echo(f"  commitment {said.report_hash}: {holds} for this report and salt (computed here)")
    click.echo(f"  the chain's latest decision {chain_says}")
    click.echo(json.dumps(said.report, indent=2, ensure_ascii=False))
    if not (checked and chained):
        raise Stop("the report does not match the chain's commitment: ask the bureau")
    click.echo("signed out; next: ape run borrower status")
