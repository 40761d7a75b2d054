"""`ape run borrower apply|draw|repay|status`: credit lines decided on attested score bands, spent
on escrow orders (buy now, pay later), repaid at any time."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand
from pydantic import ValidationError

from app.domain.abi_types import hex32
from app.domain.attestations import SignedAttestation
from app.domain.vocab import DenialReason, LineStatus, OrderStatus, Verdict
from scripts._lib import credit as cr
from scripts._lib import escrow as ops
from scripts._lib.new_order import new_order_options, order_schedule, ordered_items
from scripts._lib.orders import OrderFile, OrderTerms, text_hash, write_order_file
from scripts._lib.signers import parse_address, resolve_account
from scripts._lib.units import (
    format_duration,
    format_moment,
    parse_amount,
)

# `repay --all` offers this much more than owed now: interest keeps accruing until the block.
REPAY_ALL_MARGIN_SECONDS = 3_600


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
$TRUSTMALL_DEPLOYMENTS_DIR or deployments/). Every command checks the chain and simulates its
call first: if the contracts would refuse it, nothing is sent and their reason is printed.
--account names the borrower (an Ape account alias, or TEST::N on a local network)."""
)
def cli() -> None:
    pass


# ---------------------------------------------------------------------------------------- apply


def _read_attestation(path: Path) -> SignedAttestation:
    try:
        return SignedAttestation.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'file'}: {error['msg']}"
            for error in exc.errors()
        )
        raise click.BadParameter(
            f"{path} is not an attestation file: {problems}", param_hint="--attestation"
        ) from None


@cli.command("apply", cls=ConnectedProviderCommand, short_help="apply with an attestation")
@cr.credit_options
@click.option(
    "--attestation",
    "attestation_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The signed attestation (JSON written by `ape run bureau attest`).",
)
def apply_for_credit(
    network: Any, account: Any, deployments_dir: Path | None, attestation_file: Path
) -> None:
    """Submit the attestation: the contract decides at once by the current policy and records
    the decision (approved or denied, with reasons) on chain, with the attestation and the
    policy version, so anyone can recompute it. Either way the attestation is spent. Anyone
    may submit it (--account pays the gas); the line is the attested borrower's."""
    sender = resolve_account(account, network)
    signed = _read_attestation(attestation_file)
    credit = cr.open_credit(deployments_dir)
    attestation = signed.attestation
    problems = cr.attestation_problems(credit, signed)
    current = cr.policy(credit)
    if current is None:
        problems.append(f"no credit policy is published on {credit.address} yet")
    cr.require(problems)
    assert current is not None
    line = cr.read_line(credit, attestation.borrower)
    expected = cr.denial_reasons(attestation, line, current, line.now)
    click.echo(
        f"applying for {attestation.borrower}: band {attestation.band} by policy "
        f"v{current['version']}, attested {format_moment(attestation.issued_at, line.now)}"
    )
    if expected:
        click.echo(
            "the policy will deny it ("
            + "; ".join(cr.reason_text(r) for r in expected)
            + "): the denial is recorded and the attestation spent"
        )
    receipt = cr.send(credit, sender, credit.lines.applyForCredit, *signed.abi_args())
    _report_decision(credit, receipt)


def _report_decision(credit: cr.Credit, receipt: Any) -> None:
    lines, fmt = credit.lines, credit.asset.fmt
    for event in receipt.events.filter(lines.CreditApproved):
        # Ape decodes a struct in an event as a list, in ABI order.
        limit, apr_bps, term, grace, late_fee = (int(v) for v in event.tier)
        cr.done(
            f"approved under policy v{event.policyVersion}: limit {fmt(limit)}, APR "
            f"{cr.apr(apr_bps)}, term {format_duration(term)} from the first draw, grace "
            f"{format_duration(grace)}, late fee {fmt(late_fee)}",
            receipt,
        )
    for event in receipt.events.filter(lines.CreditDenied):
        reasons = DenialReason.decode(int(event.reasons))
        cr.done(f"denied under policy v{event.policyVersion}", receipt)
        for reason in reasons:
            click.echo(f"  reason {int(reason)} {reason.name.lower()}: {cr.reason_text(reason)}")


# ---------------------------------------------------------------------------------------- draw


@cli.command(cls=ConnectedProviderCommand, short_help="pay an escrow order with credit")
@cr.credit_options
@click.option("--to-wallet", "wallet_amount", help="Draw this amount to your wallet instead.")
@click.option("--merchant", help="The merchant's address (an order paid with credit).")
@click.option("--price", help="The order's price in whole stablecoins (19.99).")
@click.option(
    "--down-payment",
    help="Pay this much of the price from your wallet; the rest is drawn on the line.",
)
@new_order_options("Write the order's terms here (a new file), for `ape run buyer ...` later.")
def draw(
    network: Any,
    account: Any,
    deployments_dir: Path | None,
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
    borrower = resolve_account(account, network)
    address = str(borrower.address)
    credit = cr.open_credit(deployments_dir)
    if wallet_amount is not None:
        if merchant or price or item_ids or reference or order_file or down_payment:
            raise click.UsageError("--to-wallet draws money, not an order: no order options")
        _draw_to_wallet(credit, borrower, wallet_amount)
        return
    if merchant is None or price is None:
        raise click.UsageError("name the order (--merchant and --price) or give --to-wallet")
    if not item_ids:
        raise click.UsageError(
            "credit pays only for registry items of the merchant: name them with --item-id"
        )
    ids = ordered_items(item_ids, reference, order_file)
    merchant_address = parse_address(merchant, "--merchant")
    escrow = credit.escrow.contract
    amount = _parse(price, credit.asset.decimals, "--price")
    now = ops.chain_now()
    low, high = (int(v) for v in escrow.disputeWindowBounds())
    schedule = order_schedule(ship_by, deliver_by, dispute_window, now, (low, high))
    terms = OrderTerms(
        buyer=address,
        merchant=merchant_address,
        payer=credit.address,
        token=credit.asset.token,
        amount=amount,
        ship_by=schedule.ship_by,
        deliver_by=schedule.deliver_by,
        dispute_window=schedule.dispute_window,
        fee_bps=int(escrow.feeBps()),
        order_ref=text_hash(reference) if reference else hex32(bytes(32)),
        salt=secrets.randbits(128) if salt is None else salt,
        item_ids=tuple(ids),
    )
    own = (
        0 if down_payment is None else _parse(down_payment, credit.asset.decimals, "--down-payment")
    )
    line = cr.read_line(credit, address, now)
    if own >= amount:
        problems = [f"the down payment must be below the price ({credit.asset.fmt(amount)})"]
    else:
        problems = cr.draw_problems(credit, line, amount - own)
    problems += _order_problems(credit, terms, now, (low, high))
    if own:
        problems += cr.balance_problems(credit.asset, address, own, "the down payment")
    cr.require(problems)
    if own:
        cr.approve(credit, borrower, credit.address, own, "the credit lines")

    from ape import chain

    record = OrderFile(
        chain_id=int(chain.chain_id),
        escrow=credit.escrow.address,
        order_id=terms.order_id,
        terms=terms,
        reference=reference,
    )
    click.echo(f"order {terms.order_id}")
    if order_file is not None:
        write_order_file(order_file, record)
    try:
        if own:
            receipt = cr.send(
                credit, borrower, credit.lines.drawToOrderWithDownPayment, terms.as_abi(), own
            )
        else:
            receipt = cr.send(credit, borrower, credit.lines.drawToOrder, terms.as_abi())
    except BaseException:
        opened = ops.read_order(credit.escrow, terms).status is not OrderStatus.NONE
        if order_file is not None and not opened:
            order_file.unlink(missing_ok=True)
        raise
    if order_file is not None:
        write_order_file(
            order_file,
            record.model_copy(
                update={"opened_tx": str(receipt.txn_hash), "opened_block": receipt.block_number}
            ),
        )
    _report_draw(credit, receipt, f"paid order {terms.order_id} with credit")
    if order_file is not None:
        click.echo(f"order file {order_file} (ape run buyer status --order-file {order_file})")


def _order_problems(
    credit: cr.Credit, terms: OrderTerms, now: int, bounds: tuple[int, int]
) -> list[str]:
    escrow = credit.escrow.contract
    problems = []
    if terms.merchant == terms.buyer:
        problems.append("the buyer cannot be its own merchant")
    if escrow.paused():
        problems.append(f"the escrow {credit.escrow.address} is paused: no new orders")
    if not escrow.isTokenAllowed(terms.token):
        problems.append(f"the stablecoin {terms.token} is not allow-listed on the escrow")
    if terms.amount < terms.item_count:
        problems.append(f"the price must give each of the {terms.item_count} items a share")
    if terms.ship_by <= now:
        problems.append(f"--ship-by {format_moment(terms.ship_by, now)} is not in the future")
    if terms.deliver_by < terms.ship_by:
        problems.append("--deliver-by is before --ship-by")
    low, high = bounds
    if not low <= terms.dispute_window <= high:
        problems.append(
            f"dispute window {format_duration(terms.dispute_window)} is outside the admin's "
            f"bounds {format_duration(low)}-{format_duration(high)}"
        )
    for item, verdict in zip(terms.item_ids, ops.item_verdicts(credit.escrow, terms), strict=True):
        if verdict is not Verdict.AUTHENTIC:
            problems.append(f"item {item} reads {verdict.name.lower()} in the registry")
    if ops.read_order(credit.escrow, terms, now).status is not OrderStatus.NONE:
        problems.append(f"order {terms.order_id} exists already (pass another --salt)")
    return problems


def _draw_to_wallet(credit: cr.Credit, borrower: Any, text: str) -> None:
    amount = _parse(text, credit.asset.decimals, "--to-wallet")
    line = cr.read_line(credit, str(borrower.address))
    cr.require(cr.draw_problems(credit, line, amount, to_wallet=True))
    receipt = cr.send(credit, borrower, credit.lines.drawToWallet, amount)
    _report_draw(credit, receipt, f"drew {credit.asset.fmt(amount)} to {borrower.address}")


def _report_draw(credit: cr.Credit, receipt: Any, what: str) -> None:
    fmt = credit.asset.fmt
    for event in receipt.events.filter(credit.lines.CreditDownPaid):
        click.echo(f"paid {fmt(int(event.amount))} of the order from your wallet")
    for event in receipt.events.filter(credit.lines.CreditDrawn):
        cr.done(
            f"{what}: {fmt(int(event.amount))} drawn, principal now {fmt(int(event.principal))}, "
            f"due {format_moment(int(event.dueAt), ops.chain_now())}",
            receipt,
        )


# ---------------------------------------------------------------------------------------- repay


@cli.command(cls=ConnectedProviderCommand, short_help="repay: fees, interest, then principal")
@cr.credit_options
@click.option("--amount", help="Most to pay, in whole stablecoins.")
@click.option("--all", "everything", is_flag=True, help="Everything owed (ends the cycle).")
@click.option("--for", "borrower_address", help="Repay another borrower's line (default: yours).")
def repay(
    network: Any,
    account: Any,
    deployments_dir: Path | None,
    amount: str | None,
    everything: bool,
    borrower_address: str | None,
) -> None:
    """Pay towards a line, any amount at any time: late fees first, then interest, then
    principal; never more than is owed. The lines contract is first approved for the payment
    (a second transaction) unless the allowance covers it. Paying everything ends the cycle
    (and lifts a default)."""
    if (amount is None) == (not everything):
        raise click.UsageError("give --amount or --all")
    payer = resolve_account(account, network)
    credit = cr.open_credit(deployments_dir)
    borrower = parse_address(borrower_address, "--for") if borrower_address else str(payer.address)
    line = cr.read_line(credit, borrower)
    fmt = credit.asset.fmt
    problems = []
    if line.status is LineStatus.NONE:
        problems.append(f"{borrower} has no credit line")
    elif line.debt == 0:
        problems.append(f"{borrower} owes nothing")
    cr.require(problems)
    balance = credit.asset.balance_of(str(payer.address))
    if everything:
        # Interest accrues until the transaction's block: offer a little more (what the wallet
        # allows); the contract takes only what is owed.
        margin = cr.interest_for(line.principal, line.apr_bps, REPAY_ALL_MARGIN_SECONDS)
        offer = max(min(line.debt + margin, balance), line.debt)
    else:
        assert amount is not None
        offer = _parse(amount, credit.asset.decimals, "--amount")
        if offer > line.debt:
            click.echo(f"only {fmt(line.debt)} is owed now: no more is taken")
    cr.require(cr.balance_problems(credit.asset, str(payer.address), offer, "the payment"))
    cr.approve(credit, payer, credit.address, offer, "the credit lines")
    receipt = cr.send(credit, payer, credit.lines.repay, borrower, offer)
    for event in receipt.events.filter(credit.lines.CreditRepaid):
        paid = int(event.fees) + int(event.interest) + int(event.principal)
        cr.done(
            f"repaid {fmt(paid)}: fees {fmt(int(event.fees))}, interest "
            f"{fmt(int(event.interest))}, principal {fmt(int(event.principal))}",
            receipt,
        )
    after = cr.read_line(credit, borrower)
    click.echo(f"still owed {fmt(after.debt)} (principal {fmt(after.principal)})")
    for event in receipt.events.filter(credit.lines.CreditLineRestored):
        click.echo(f"line of {event.borrower} restored: active again")


# ---------------------------------------------------------------------------------------- status


@cli.command(cls=ConnectedProviderCommand, short_help="show the line")
@cr.credit_options
@click.option("--borrower", "borrower_address", help="Whose line (default: --account's).")
def status(
    network: Any, account: Any, deployments_dir: Path | None, borrower_address: str | None
) -> None:
    """Show a line: its policy version, band and terms, what is drawn and owed (interest to
    this second, any late fee due), the due date and how long it stays drawable. Sends
    nothing."""
    credit = cr.open_credit(deployments_dir)
    if borrower_address:
        borrower = parse_address(borrower_address, "--borrower")
    elif account is not None:
        borrower = str(resolve_account(account, network).address)
    else:
        raise click.UsageError("whose line: --account or --borrower")
    line = cr.read_line(credit, borrower)
    for row in cr.describe_line(credit, line):
        click.echo(row)
    asset = credit.asset
    click.echo(f"wallet     {asset.fmt(asset.balance_of(borrower))}")


# ---------------------------------------------------------------------------------------- parsing


def _parse(text: str, decimals: int, option: str) -> int:
    try:
        return parse_amount(text, decimals)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None
