"""`ape run buyer ...`: open and pay escrow orders, confirm receipt, cancel, dispute, settle,
take recall refunds, withdraw, and see where an order stands."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from app.domain.abi_types import hex32
from app.domain.vocab import CustodyAction, OrderStatus, Verdict
from scripts._lib import escrow as ops
from scripts._lib.escrow_cli import (
    connect,
    done,
    escrow_options,
    hashed_text,
    hashed_text_options,
    order_options,
    parse_bytes32,
    parse_token,
    report_release,
    session,
)
from scripts._lib.new_order import new_order_options, order_schedule, ordered_items
from scripts._lib.order_checks import check_confirm, check_dispute
from scripts._lib.order_status import recalled_items
from scripts._lib.orders import OrderFile, OrderTerms, text_hash, write_order_file
from scripts._lib.party_commands import party_commands, report_refund
from scripts._lib.registry import ZERO_ADDRESS
from scripts._lib.signers import parse_address, resolve_account
from scripts._lib.units import format_duration, format_moment, parse_amount


@click.group(
    help="""Buyer operations on the OrderEscrow: your payment stays locked until the goods
arrive, and the contract releases, refunds or splits it by rules everyone can read.

\b
  open             open an order with a merchant and pay it at once (ETH or an ERC-20)
  status           where an order stands, its deadlines, what you can do now
  list             your orders
  confirm          confirm receipt (all or some items): the merchant is paid now
  cancel           before the merchant hands the order to a carrier (or once a deadline
                   passed): refund of the open items
  dispute          after shipment, inside the dispute window, with evidence
  evidence         add evidence to an open dispute
  offer / accept   settle with the merchant on a split, no arbiter needed; offers expire
  withdraw-offer   take your pending offer back
  refund-recalled  refund the shares of items recalled or flagged in the registry (anyone)
  withdraw         collect refunds and settlement shares (payouts are pulled)

An order's terms are not stored on chain: every command after `open` names the order with
--order-file FILE (written by `open`) or --order 0xID (terms rebuilt from its OrderOpened
event). The escrow is --escrow, else the order file's, else the OrderEscrow recorded for
the chain in --deployments-dir (default: $TRUSTMALL_DEPLOYMENTS_DIR or deployments/).
Every command checks the chain and simulates its call first: if the contract would refuse
it, nothing is sent and its reason is printed. --account names the buyer (an Ape account
alias, or TEST::N on a local network)."""
)
def cli() -> None:
    pass


for _command in party_commands("buyer", "ape run buyer"):
    cli.add_command(_command)


# ---------------------------------------------------------------------------------------- open


@cli.command("open", cls=ConnectedProviderCommand, short_help="open an order and pay it")
@escrow_options
@click.option("--merchant", required=True, help="The merchant's address.")
@click.option(
    "--price", required=True, help="The price in whole tokens: 0.25 (ETH), 19.99 (stablecoin)."
)
@click.option("--token", default="ETH", show_default=True, help="ETH or an ERC-20 address.")
@new_order_options("Write the order's terms here (a new file), for later commands.")
def open_order(
    network: Any,
    account: Any,
    escrow_address: str | None,
    deployments_dir: Path | None,
    merchant: str,
    price: str,
    token: str,
    item_ids: tuple[str, ...],
    reference: str | None,
    ship_by: str,
    deliver_by: str,
    dispute_window: str | None,
    salt: int | None,
    order_file: Path | None,
) -> None:
    """Open an order with --merchant and pay it in full at once: ETH is sent with the order;
    for an ERC-20 the escrow is first approved for the price (two transactions).

    \b
    What is bought: registry items of the merchant (--item-id, repeatable; each must be the
    merchant's own, read authentic, and be in no other open order nor sold: the registry
    holds them for this order), or an off-registry SKU (--ref). With items, --ref may name
    the merchant's order reference as well.

    Prints the order id; --order-file keeps the terms for later commands (written before
    the order is sent). Without it, later commands take --order 0xID.
    """
    buyer = resolve_account(account, network)
    buyer_address = str(buyer.address)
    merchant_address = parse_address(merchant, "--merchant")
    token_address = parse_token(token)
    ids = ordered_items(item_ids, reference, order_file)
    escrow, _ = connect(escrow_address, deployments_dir)
    contract = escrow.contract
    asset = ops.asset_of(token_address)
    try:
        amount = parse_amount(price, asset.decimals)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--price") from None
    now = ops.chain_now()
    low, high = (int(v) for v in contract.disputeWindowBounds())
    schedule = order_schedule(ship_by, deliver_by, dispute_window, now, (low, high))
    ship_at, deliver_at, window = schedule.ship_by, schedule.deliver_by, schedule.dispute_window
    terms = OrderTerms(
        buyer=buyer_address,
        merchant=merchant_address,
        payer=buyer_address,
        token=token_address,
        amount=amount,
        ship_by=ship_at,
        deliver_by=deliver_at,
        dispute_window=window,
        fee_bps=int(contract.feeBps()),
        order_ref=text_hash(reference) if reference else hex32(bytes(32)),
        salt=secrets.randbits(128) if salt is None else salt,
        item_ids=tuple(ids),
    )

    problems = []
    if merchant_address == buyer_address:
        problems.append("the buyer cannot be its own merchant")
    if merchant_address == ZERO_ADDRESS:
        problems.append("the merchant cannot be the zero address")
    if contract.paused():
        problems.append(f"the escrow {escrow.address} is paused: no new orders")
    if amount < terms.item_count:
        problems.append(f"the price must give each of the {terms.item_count} items a share")
    if ship_at <= now:
        problems.append(f"--ship-by {format_moment(ship_at, now)} is not in the future")
    if deliver_at < ship_at:
        problems.append("--deliver-by is before --ship-by")
    if not low <= window <= high:
        problems.append(
            f"dispute window {format_duration(window)} is outside the admin's bounds "
            f"{format_duration(low)}-{format_duration(high)}"
        )
    if not asset.is_eth and not contract.isTokenAllowed(token_address):
        problems.append(f"token {token_address} is not allow-listed on the escrow")
    balance = asset.balance_of(buyer_address)
    if balance < amount:
        problems.append(
            f"{buyer_address} holds {asset.fmt(balance)}, less than the price {asset.fmt(amount)}"
        )
    problems += _item_problems(escrow, merchant_address, ids)
    order_id = terms.order_id
    if ops.read_order(escrow, terms, now).status is not OrderStatus.NONE:
        problems.append(f"order {order_id} exists already (pass another --salt)")
    ops.require(problems)

    from ape import chain

    record = OrderFile(
        chain_id=int(chain.chain_id),
        escrow=escrow.address,
        order_id=order_id,
        terms=terms,
        reference=reference,
    )
    # The id and the terms are known before anything is sent: an interrupted run loses neither.
    click.echo(f"order {order_id}")
    if order_file is not None:
        write_order_file(order_file, record)
    try:
        if not asset.is_eth:
            _approve(buyer, escrow, asset, amount)
        receipt = ops.send(
            buyer, contract.open, terms.as_abi(), value=amount if asset.is_eth else 0
        )
    except BaseException:
        opened = ops.read_order(escrow, terms).status is not OrderStatus.NONE
        if order_file is not None and not opened:
            order_file.unlink(missing_ok=True)
        raise
    if order_file is not None:
        write_order_file(
            order_file,
            record.model_copy(
                update={
                    "opened_tx": str(receipt.txn_hash),
                    "opened_block": int(receipt.block_number),
                }
            ),
        )
    done(f"opened order {order_id}: {asset.fmt(amount)} escrowed", receipt)
    click.echo(
        f"ship by {format_moment(ship_at, now)}; deliver by {format_moment(deliver_at, now)}; "
        f"dispute window {format_duration(window)}"
    )
    if order_file is not None:
        click.echo(f"order file {order_file}")


def _item_problems(escrow: ops.Escrow, merchant: str, ids: list[str]) -> list[str]:
    if not ids:
        return []
    registry = escrow.registry()
    problems = []
    for item_id in ids:
        record = registry.itemOf(item_id)
        owner = str(record.merchant)
        verdict = Verdict(int(registry.verify(item_id)))
        if owner == ZERO_ADDRESS:
            problems.append(f"item {item_id} is not registered (or a batch item not activated)")
        elif owner != merchant:
            problems.append(f"item {item_id} belongs to merchant {owner}, not {merchant}")
        elif verdict is not Verdict.AUTHENTIC:
            problems.append(f"item {item_id} reads {verdict.name.lower()} in the registry")
        elif CustodyAction(int(record.lastAction)) is CustodyAction.SOLD:
            problems.append(f"item {item_id} is already sold (its last custody event)")
    return problems


def _approve(buyer: Any, escrow: ops.Escrow, asset: ops.Asset, amount: int) -> None:
    token = ops.erc20(asset.token)
    allowance = int(token.allowance(buyer.address, escrow.address))
    if allowance >= amount:
        click.echo(f"allowance {asset.fmt(allowance)} already covers the price")
        return
    receipt = ops.send(buyer, token.approve, escrow.address, amount)
    done(f"approved the escrow for {asset.fmt(amount)}", receipt)


# ---------------------------------------------------------------------------------------- confirm


@cli.command(cls=ConnectedProviderCommand, short_help="confirm receipt: pay the merchant now")
@escrow_options
@order_options
@click.option(
    "--item",
    "items",
    type=int,
    multiple=True,
    metavar="INDEX",
    help="Confirm only these items (0-based, repeatable); the rest stay escrowed.",
)
def confirm(
    network: Any,
    account: Any,
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None,
    order_id: str | None,
    items: tuple[int, ...],
) -> None:
    """Confirm receipt: what is still escrowed (or the --item shares) goes to the merchant at
    once, less the platform fee, and the items are recorded as sold to you in the registry."""
    s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
    bits = ops.bits_of(items, s.view.terms.item_count, "--item") if items else 0
    ops.require(check_confirm(s.view, s.address, bits))
    terms = s.view.terms.as_abi()
    if bits:
        receipt = ops.send(s.account, s.escrow.contract.releaseItems, terms, bits)
    else:
        receipt = ops.send(s.account, s.escrow.contract.confirmReceipt, terms)
    report_release(s.escrow, receipt, ops.asset_of(s.view.terms.token))


# ---------------------------------------------------------------------------------------- dispute


@cli.command(cls=ConnectedProviderCommand, short_help="dispute with evidence")
@escrow_options
@order_options
@hashed_text_options("evidence", "evidence")
def dispute(
    network: Any,
    account: Any,
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None,
    order_id: str | None,
    evidence: str | None,
    evidence_file: Path | None,
    evidence_hash: str | None,
) -> None:
    """Open a dispute on a shipped or delivered order, before its dispute window closes. The
    evidence (text, a file, or its hash) is recorded as keccak256; keep the original for the
    arbiter. The arbiter splits what is escrowed; if it never rules, the default applies after
    the arbitration period (full refund unless the merchant answered, then an even split)."""
    digest = hashed_text("evidence", evidence, evidence_file, evidence_hash)
    s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
    ops.require(check_dispute(s.view, s.address))
    receipt = ops.send(s.account, s.escrow.contract.dispute, s.view.terms.as_abi(), digest)
    (event,) = receipt.events.filter(s.escrow.contract.DisputeOpened)
    done(
        f"disputed order {s.view.order_id} with evidence {hex32(digest)}; the arbiter rules "
        f"until {format_moment(int(event.deadline), ops.chain_now())}",
        receipt,
    )


# ---------------------------------------------------------------------------------------- recall


@cli.command("refund-recalled", cls=ConnectedProviderCommand, short_help="refund recalled items")
@escrow_options
@order_options
@click.option(
    "--item",
    "items",
    multiple=True,
    metavar="INDEX|0xID",
    help="A recalled or flagged item: its 0-based index in the order, or its id (repeatable; "
    "default: every open item the registry reads recalled or flagged).",
)
def refund_recalled(
    network: Any,
    account: Any,
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None,
    order_id: str | None,
    items: tuple[str, ...],
) -> None:
    """Refund the payer the share of each item of the order that the registry reads recalled
    or flagged (confirmed counterfeit), while it is neither released nor refunded; the rest of
    the order goes on. Anyone may send it (--account pays the gas): the money goes only to the
    payer (a credit line's refund then settles on the line)."""
    s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
    terms = s.view.terms
    if not terms.item_ids:
        raise ops.PreflightError([f"order {s.view.order_id} names no registry items (a SKU order)"])
    verdicts = ops.item_verdicts(s.escrow, terms)
    if items:
        bits = ops.bits_of([_item_index(terms, item) for item in items], terms.item_count, "--item")
    else:
        bits = recalled_items(s.view, verdicts)
        if not bits:
            shown = ", ".join(f"{i} {v.name.lower()}" for i, v in enumerate(verdicts))
            raise ops.PreflightError(
                [f"no open item of order {s.view.order_id} is recalled or flagged ({shown})"]
            )
    receipt = ops.send(s.account, s.escrow.contract.refundRecalled, terms.as_abi(), bits)
    report_refund(
        s.escrow,
        receipt,
        ops.asset_of(terms.token),
        f"refunded recalled items of {s.view.order_id}",
    )


def _item_index(terms: OrderTerms, text: str) -> int:
    """An item named by its index in the order or by its id."""
    value = text.strip()
    if value.isdigit():
        return int(value)
    item_id = hex32(parse_bytes32(value, "--item"))
    if item_id not in terms.item_ids:
        raise click.BadParameter(f"{item_id} is not an item of the order", param_hint="--item")
    return terms.item_ids.index(item_id)
