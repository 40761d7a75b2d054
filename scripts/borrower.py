"""`ape run borrower apply|draw|repay|status`: credit lines decided on attested score bands, spent
on escrow orders (buy now, pay later), repaid at any time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.domain.units import format_duration, format_moment, parse_amount
from app.domain.vocab import DenialReason
from scripts._lib import chain
from scripts._lib import credit as cr
from scripts._lib.chain import Run, Stop
from scripts._lib.new_order import (
    activate_listed,
    new_order_options,
    new_terms,
    open_with,
    order_file_checked,
    ordered_items,
)
from scripts._lib.signers import parse_address

# `repay --all` offers this much more than owed now: interest keeps accruing until the block.
REPAY_ALL_MARGIN_SECONDS = 3_600
BORROWER = "The borrower: an Ape account alias, or TEST::N on a local network. Never a raw key."


@click.group(
    help="""Borrower operations on the credit lines: apply with a bureau's attestation and get
an instant decision by the public policy; pay escrow orders with credit; repay.

\b
  apply   submit a signed attestation (file from `ape run bureau attest`): approved (limit,
          APR, term by the policy's tier for your score band) or denied with reasons
  draw    pay a new escrow order for a merchant's registry items with credit
          (--merchant, --price, --item-id ...), or draw --to-wallet where the policy allows
  repay   pay towards a line: fees, then interest, then principal (--amount or --all)
  status  the line: terms, what is owed, due date, how long it stays drawable

The contracts are those recorded for the chain in --deployments-dir (default:
$TRUSTMALL_DEPLOYMENTS_DIR or deployments/). Every command simulates its call first: if the
contracts would refuse it, nothing is sent and their own reason is printed.
--account names the borrower (an Ape account alias, or TEST::N on a local network)."""
)
def cli() -> None:
    pass


@chain.command(cli, "apply", short_help="apply with an attestation", signer=BORROWER)
@click.option(
    "--attestation",
    "attestation_file",
    required=True,
    type=click.Path(path_type=Path),
    help="The signed attestation (JSON written by `ape run bureau attest`).",
)
def apply_for_credit(run: Run, attestation_file: Path) -> None:
    """Submit the attestation: the contract decides at once by the current policy and records
    the decision (approved or denied, with reasons) on chain, with the attestation and the
    policy version, so anyone can recompute it. Either way the attestation is spent. Anyone
    may submit it (--account pays the gas); the line is the attested borrower's."""
    signed = cr.read_attestation(attestation_file, "--attestation")
    credit = cr.open_credit(run)
    if signed.domain != credit.domain():
        raise Stop(
            f"the attestation was signed for verifier {signed.domain.verifying_contract} on "
            f"chain {signed.domain.chain_id}, not {credit.verifier.address} on this chain"
        )
    attestation = signed.attestation
    click.echo(
        f"applying for {attestation.borrower}: band {attestation.band}, attested "
        f"{format_moment(attestation.issued_at, chain.now())}"
    )
    call = credit.lines.applyForCredit
    receipt = chain.send(run, call, *signed.abi_args(), what="the application")
    lines, fmt = credit.lines, credit.asset.fmt
    for event in receipt.events.filter(lines.CreditApproved):
        # Ape decodes a struct in an event as a list, in ABI order.
        limit, apr_bps, term, grace, late_fee = (int(v) for v in event.tier)
        chain.done(
            f"approved under policy v{event.policyVersion}: limit {fmt(limit)}, APR "
            f"{cr.apr(apr_bps)}, term {format_duration(term)} from the first draw, grace "
            f"{format_duration(grace)}, late fee {fmt(late_fee)}",
            receipt,
            "pay an order with it: ape run borrower draw --merchant A --price P --item-id 0xID",
        )
    for event in receipt.events.filter(lines.CreditDenied):
        chain.done(f"denied under policy v{event.policyVersion}", receipt)
        for reason in DenialReason.decode(int(event.reasons)):
            click.echo(f"  reason {int(reason)} {reason.name.lower()}: {cr.reason_text(reason)}")
        click.echo("next: a bureau attests again once the reasons are gone (ape run bureau attest)")


@chain.command(cli, short_help="pay an escrow order with credit", signer=BORROWER)
@click.option("--to-wallet", "wallet_amount", help="Draw this amount to your wallet instead.")
@click.option("--merchant", help="The merchant's address (an order paid with credit).")
@click.option("--price", help="The order's price in whole stablecoins (19.99).")
@click.option(
    "--down-payment",
    help="Pay this much of the price from your wallet; the rest is drawn on the line.",
)
@new_order_options("Write the order's terms here (a new file), for `ape run buyer ...` later.")
def draw(
    run: Run,
    wallet_amount: str | None,
    merchant: str | None,
    price: str | None,
    down_payment: str | None,
    item_ids: tuple[str, ...],
    reference: str | None,
    ship_by: str,
    deliver_by: str,
    dispute_window: str | None,
    salt: int | None,
    manifests: tuple[Path, ...],
    order_file: Path | None,
) -> None:
    """Pay a new escrow order with credit: the pool pays the escrow, you are the order's buyer
    (confirm, dispute or cancel it with `ape run buyer`), and refunds of the order go back to
    your line. Credit pays only for registry items (--item-id, the merchant's own, authentic
    and in no other order) of an active merchant whose owner is not you (the same identity
    commitment as your line's: CreditMerchantIsBorrower), and the merchant is paid only once a
    carrier reports the items delivered. New credit of all lines is capped per day by the
    policy (CreditPeriodCapReached). With --down-payment AMOUNT you pay that part from your
    wallet and draw only the rest (a refund then repays the line first; what is left comes
    back to you). The first draw of a cycle starts its term. With --to-wallet AMOUNT the money
    goes to your wallet instead, if the line's policy allows it."""
    if wallet_amount is not None:
        if merchant or price or item_ids or reference or order_file or down_payment:
            raise Stop("--to-wallet draws money, not an order: no order options")
        credit = cr.open_credit(run)
        amount = _parse(credit, wallet_amount, "--to-wallet")
        receipt = chain.send(run, credit.lines.drawToWallet, amount, what="the draw")
        _report_draw(credit, receipt, f"drew {credit.asset.fmt(amount)} to {run.me}")
        return
    if merchant is None or price is None:
        raise Stop("name the order (--merchant and --price) or give --to-wallet")
    ids = ordered_items(item_ids, reference)
    merchant_address = parse_address(merchant, "--merchant")
    order_file = order_file_checked(order_file)
    credit = cr.open_credit(run)
    amount = _parse(credit, price, "--price")
    own = 0 if down_payment is None else _parse(credit, down_payment, "--down-payment")
    terms = new_terms(
        credit.escrow.contract,
        buyer=run.me,
        merchant=merchant_address,
        payer=credit.address,
        token=credit.asset.token,
        amount=amount,
        ids=ids,
        when=(ship_by, deliver_by, dispute_window),
        reference=reference,
        salt=salt,
    )
    if own:
        cr.require_balance(credit.asset, run.me, own, "the down payment")

    def send() -> Any:
        lines = credit.lines
        if not own:
            return chain.send(run, lines.drawToOrder, terms.as_abi(), what="the draw")
        cr.approve(run, credit, credit.address, own, "the credit lines")
        call = lines.drawToOrderWithDownPayment
        return chain.send(run, call, terms.as_abi(), own, what="the draw")

    activate_listed(run, credit.escrow, ids, manifests)
    receipt = open_with(run, credit.escrow, terms, reference, order_file, send)
    _report_draw(credit, receipt, f"paid order {terms.order_id} with credit")
    if order_file is not None:
        click.echo(f"order file {order_file}")
    flag = f"--order-file {order_file}" if order_file else f"--order {terms.order_id}"
    click.echo(f"next: follow the order with ape run buyer status {flag}")


def _report_draw(credit: cr.Credit, receipt: Any, what: str) -> None:
    fmt = credit.asset.fmt
    for event in receipt.events.filter(credit.lines.CreditDownPaid):
        click.echo(f"paid {fmt(int(event.amount))} of the order from your wallet")
    for event in receipt.events.filter(credit.lines.CreditDrawn):
        chain.done(
            f"{what}: {fmt(int(event.amount))} drawn, principal now {fmt(int(event.principal))}, "
            f"due {format_moment(int(event.dueAt), chain.now())}",
            receipt,
        )


@chain.command(cli, short_help="repay: fees, interest, then principal", signer=BORROWER)
@click.option("--amount", help="Most to pay, in whole stablecoins.")
@click.option("--all", "everything", is_flag=True, help="Everything owed (ends the cycle).")
@click.option("--for", "borrower_address", help="Repay another borrower's line (default: yours).")
def repay(run: Run, amount: str | None, everything: bool, borrower_address: str | None) -> None:
    """Pay towards a line, any amount at any time: late fees first, then interest, then
    principal; never more than is owed. The lines contract is first approved for the payment
    (a second transaction) unless the allowance covers it. Paying everything ends the cycle
    (and lifts a default)."""
    if (amount is None) == (not everything):
        raise Stop("give --amount or --all")
    credit = cr.open_credit(run)
    borrower = parse_address(borrower_address, "--for") if borrower_address else run.me
    line = cr.read_line(credit, borrower)
    fmt = credit.asset.fmt
    if everything:
        # Interest accrues until the transaction's block: offer a little more (what the wallet
        # allows); the contract takes only what is owed.
        margin = cr.interest_for(line.principal, line.apr_bps, REPAY_ALL_MARGIN_SECONDS)
        offer = max(min(line.debt + margin, credit.asset.balance_of(run.me)), line.debt)
    else:
        offer = _parse(credit, str(amount), "--amount")
        if offer > line.debt:
            click.echo(f"only {fmt(line.debt)} is owed now: no more is taken")
    cr.require_balance(credit.asset, run.me, offer, "the payment")
    if offer:
        cr.approve(run, credit, credit.address, offer, "the credit lines")
    receipt = chain.send(run, credit.lines.repay, borrower, offer, what="the repayment")
    for event in receipt.events.filter(credit.lines.CreditRepaid):
        paid = int(event.fees) + int(event.interest) + int(event.principal)
        chain.done(
            f"repaid {fmt(paid)}: fees {fmt(int(event.fees))}, interest "
            f"{fmt(int(event.interest))}, principal {fmt(int(event.principal))}",
            receipt,
        )
    after = cr.read_line(credit, borrower)
    click.echo(f"still owed {fmt(after.debt)} (principal {fmt(after.principal)})")
    for event in receipt.events.filter(credit.lines.CreditLineRestored):
        click.echo(f"line of {event.borrower} restored: active again")
    click.echo("next: ape run borrower status")


@chain.command(cli, short_help="show the line", signer=BORROWER)
@click.option("--borrower", "borrower_address", help="Whose line (default: --account's).")
def status(run: Run, borrower_address: str | None) -> None:
    """Show a line: its policy version, band and terms, what is drawn and owed (interest to
    this second, any late fee due), the due date and how long it stays drawable. Sends
    nothing."""
    credit = cr.open_credit(run)
    if borrower_address:
        borrower = parse_address(borrower_address, "--borrower")
    elif run.account is not None:
        borrower = run.me
    else:
        raise Stop("whose line: --account or --borrower")
    line = cr.read_line(credit, borrower)
    for row in cr.describe_line(credit, line):
        click.echo(row)
    asset = credit.asset
    click.echo(f"wallet     {asset.fmt(asset.balance_of(borrower))}")
    then = "apply --attestation FILE" if line.status.name == "NONE" else "draw ... or repay"
    click.echo(f"next: ape run borrower {then}")


def _parse(credit: cr.Credit, text: str, option: str) -> int:
    return int(chain.parsed(lambda t: parse_amount(t, credit.asset.decimals), text, option))
