"""The commands both parties of an order have (status, list, cancel, offer, withdraw-offer,
accept, evidence, withdraw), built per role so that ``ape run buyer cancel`` and ``ape run
merchant order cancel`` are the same code; and the arbiter's ``status``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from app.domain.abi_types import hex32
from scripts._lib import escrow as ops
from scripts._lib import order_checks as checks
from scripts._lib import order_status
from scripts._lib.escrow_cli import (
    BPS_TYPE,
    connect,
    done,
    escrow_options,
    hashed_text,
    hashed_text_options,
    order_flag,
    order_options,
    parse_order_id,
    parse_token,
    session,
)
from scripts._lib.signers import parse_address, resolve_account, test_account_address
from scripts._lib.units import format_moment, parse_duration

DEFAULT_OFFER_LIFETIME = "3d"


def status_command(
    role: str | None, script: str, default_test_index: int | None = None
) -> click.Command:
    """``status`` for a party (``role``: whose options are listed without --account), or for
    the arbiter (``role`` None: test account ``default_test_index`` on a local network)."""

    @click.command(
        "status",
        cls=ConnectedProviderCommand,
        short_help="show the order, its deadlines and what you can do now",
    )
    @escrow_options
    @order_options
    def status(
        network: Any,
        account: Any,
        escrow_address: str | None,
        deployments_dir: Path | None,
        order_file: Path | None,
        order_id: str | None,
    ) -> None:
        """Show the order's state and deadlines, and the commands that would go through now.
        Sends nothing; --account (default: {whom}) picks whose options are listed."""
        escrow, data = connect(escrow_address, deployments_dir, order_file)
        order = ops.find_order(escrow, data, order_file, parse_order_id(order_id))
        view = ops.load_view(escrow, order)
        asset = ops.asset_of(view.terms.token)
        verdicts = ops.item_verdicts(escrow, view.terms)
        for line in order_status.describe(escrow, view, asset, verdicts):
            click.echo(line)
        terms = view.terms
        if account is not None:
            you = str(account.address)
        elif role is not None:
            you = str(getattr(terms, role))
        elif network.is_local and default_test_index is not None:
            you = test_account_address(default_test_index)
        else:
            raise click.UsageError("--account is required: whose options to list")
        # The arbiter's script has no withdraw: its status lists rulings only.
        credit = int(escrow.contract.creditOf(you, terms.token)) if role else 0
        if credit:
            click.echo(f"credit     {asset.fmt(credit)} for {you} (withdraw)")
        is_arbiter = bool(escrow.contract.hasRole(escrow.contract.ARBITER_ROLE(), you))
        actions = order_status.actions_for(
            escrow, view, you, verdicts=verdicts, is_arbiter=is_arbiter, credit=credit
        )
        if not actions:
            click.echo(f"{you} can do nothing on this order now")
            return
        click.echo(f"{you} can now:")
        flag = order_flag(order)
        for action in actions:
            runner = _runner(action.command, script)
            words = [runner, action.command]
            if action.command != "withdraw":
                words.append(flag)
            if action.options:
                words.append(action.options)
            click.echo(f"  {' '.join(words)}   # {action.note}")

    whom = f"the order's {role}" if role else f"TEST::{default_test_index} on a local network"
    status.help = (status.help or "").replace("{whom}", whom)
    return status


def _runner(command: str, script: str) -> str:
    """The script that offers a command: a party's own, or the arbiter's."""
    if command in ("settle", "resolve-expired"):
        return "ape run arbiter"
    if command == "release":
        return "ape run merchant order"
    return script


def cancel_command() -> click.Command:
    @click.command("cancel", cls=ConnectedProviderCommand, short_help="cancel: refund the payer")
    @escrow_options
    @order_options
    def cancel(
        network: Any,
        account: Any,
        escrow_address: str | None,
        deployments_dir: Path | None,
        order_file: Path | None,
        order_id: str | None,
    ) -> None:
        """Cancel the order; the payer is credited the open items' shares (withdraw them). The
        contract decides who may: the buyer before the merchant hands the order to a carrier,
        the merchant any time before the last release, anyone once the order is funded past its
        ship-by deadline (past deliver-by once a carrier has it), and anyone for the undelivered
        items of an order paid with credit that no carrier reported delivered in time."""
        s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
        ops.require(checks.check_cancel(s.view))
        receipt = ops.send(s.account, s.escrow.contract.cancel, s.view.terms.as_abi())
        asset = ops.asset_of(s.view.terms.token)
        report_refund(s.escrow, receipt, asset, f"cancelled order {s.view.order_id}")

    return cancel


def offer_command() -> click.Command:
    @click.command("offer", cls=ConnectedProviderCommand, short_help="offer a settlement split")
    @escrow_options
    @order_options
    @click.option(
        "--buyer-bps",
        type=BPS_TYPE,
        required=True,
        help="Share of the remainder for the buyer (payer), in basis points (7000 = 70%).",
    )
    @click.option(
        "--expires-in",
        default=DEFAULT_OFFER_LIFETIME,
        show_default=True,
        metavar="DURATION",
        help="How long the other side may accept it (90m, 36h, 7d ...).",
    )
    def offer(
        network: Any,
        account: Any,
        escrow_address: str | None,
        deployments_dir: Path | None,
        order_file: Path | None,
        order_id: str | None,
        buyer_bps: int,
        expires_in: str,
    ) -> None:
        """Offer to settle: the buyer gets --buyer-bps of what is still escrowed, the merchant the
        rest (less the fee), if the other side accepts with `accept --buyer-bps N` before the
        offer expires (--expires-in). Replaces any pending offer; `withdraw-offer` takes it back.
        An order paid with credit settles only once a carrier reported all its items delivered."""
        try:
            lifetime = parse_duration(expires_in)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--expires-in") from None
        s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
        ops.require(checks.check_offer(s.view, s.address))
        expires_at = s.view.now + lifetime
        receipt = ops.send(
            s.account,
            s.escrow.contract.offerSettlement,
            s.view.terms.as_abi(),
            buyer_bps,
            expires_at,
        )
        asset = ops.asset_of(s.view.terms.token)
        payer, merchant, fee = ops.settlement_split(s.view, buyer_bps)
        done(
            f"offered {buyer_bps} bps to the buyer: {asset.fmt(payer)} to the buyer, "
            f"{asset.fmt(merchant)} to the merchant, fee {asset.fmt(fee)}; valid until "
            f"{format_moment(expires_at, s.view.now)}",
            receipt,
        )

    return offer


def withdraw_offer_command() -> click.Command:
    @click.command(
        "withdraw-offer", cls=ConnectedProviderCommand, short_help="take your pending offer back"
    )
    @escrow_options
    @order_options
    def withdraw_offer(
        network: Any,
        account: Any,
        escrow_address: str | None,
        deployments_dir: Path | None,
        order_file: Path | None,
        order_id: str | None,
    ) -> None:
        """Withdraw your own pending settlement offer before the other side accepts it."""
        s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
        offer = s.view.offer
        if offer is None:
            raise ops.PreflightError([f"order {s.view.order_id} has no pending offer"])
        receipt = ops.send(s.account, s.escrow.contract.withdrawOffer, s.view.terms.as_abi())
        done(f"withdrew the offer of {offer.buyer_bps} bps on order {s.view.order_id}", receipt)

    return withdraw_offer


def accept_command() -> click.Command:
    @click.command("accept", cls=ConnectedProviderCommand, short_help="accept the other's offer")
    @escrow_options
    @order_options
    @click.option(
        "--buyer-bps",
        type=BPS_TYPE,
        required=True,
        help="The split you accept; must equal the pending offer (guards against a swap).",
    )
    def accept(
        network: Any,
        account: Any,
        escrow_address: str | None,
        deployments_dir: Path | None,
        order_file: Path | None,
        order_id: str | None,
        buyer_bps: int,
    ) -> None:
        """Accept the other side's pending settlement offer: the order settles at once."""
        s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
        ops.require(checks.check_accept(s.view, s.address, buyer_bps))
        receipt = ops.send(
            s.account, s.escrow.contract.acceptSettlement, s.view.terms.as_abi(), buyer_bps
        )
        asset = ops.asset_of(s.view.terms.token)
        payer, merchant, fee = ops.settlement_split(s.view, buyer_bps)
        done(
            f"settled order {s.view.order_id}: {asset.fmt(payer)} credited to the buyer, "
            f"{asset.fmt(merchant)} to the merchant, fee {asset.fmt(fee)}",
            receipt,
        )

    return accept


def evidence_command() -> click.Command:
    @click.command("evidence", cls=ConnectedProviderCommand, short_help="add dispute evidence")
    @escrow_options
    @order_options
    @hashed_text_options("evidence", "evidence")
    def evidence(
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
        """Add evidence to the order's open dispute (its keccak256 is recorded). The merchant's
        first evidence is its answer: an answered dispute defaults to an even split, an
        unanswered one to a full refund, if the arbiter never rules."""
        digest = hashed_text("evidence", evidence, evidence_file, evidence_hash)
        s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
        ops.require(checks.check_evidence(s.view, s.address))
        receipt = ops.send(
            s.account, s.escrow.contract.submitEvidence, s.view.terms.as_abi(), digest
        )
        done(f"submitted evidence {hex32(digest)} on order {s.view.order_id}", receipt)

    return evidence


def withdraw_command() -> click.Command:
    @click.command("withdraw", cls=ConnectedProviderCommand, short_help="withdraw your credit")
    @escrow_options
    @click.option(
        "--token",
        default="ETH",
        show_default=True,
        help="ETH or the ERC-20 address of the credit.",
    )
    @click.option("--to", "recipient", help="Pay another address (default: yourself).")
    def withdraw(
        network: Any,
        account: Any,
        escrow_address: str | None,
        deployments_dir: Path | None,
        token: str,
        recipient: str | None,
    ) -> None:
        """Withdraw everything the escrow owes you in one token: payments released to you,
        refunds, your share of settlements."""
        signer = resolve_account(account, network)
        escrow, _ = connect(escrow_address, deployments_dir)
        token_address = parse_token(token)
        asset = ops.asset_of(token_address)
        credit = int(escrow.contract.creditOf(signer.address, token_address))
        if credit == 0:
            raise ops.PreflightError([f"{signer.address} has no credit in {asset.symbol}"])
        if recipient is None:
            receipt = ops.send(signer, escrow.contract.withdraw, token_address)
            to = str(signer.address)
        else:
            to = parse_address(recipient, "--to")
            receipt = ops.send(signer, escrow.contract.withdrawTo, token_address, to)
        done(f"withdrew {asset.fmt(credit)} to {to}", receipt)

    return withdraw


def list_command(role: str) -> click.Command:
    @click.command("list", cls=ConnectedProviderCommand, short_help=f"list your orders ({role})")
    @escrow_options
    @click.option("--open-only", is_flag=True, help="Leave out released, refunded, settled.")
    def list_orders(
        network: Any,
        account: Any,
        escrow_address: str | None,
        deployments_dir: Path | None,
        open_only: bool,
    ) -> None:
        """List the orders of the --account {role}, from the escrow's OrderOpened events, with
        their current status. Sends nothing."""
        signer = resolve_account(account, network)
        escrow, _ = connect(escrow_address, deployments_dir)
        now = ops.chain_now()
        rows = ops.opened_orders(escrow, {role: str(signer.address)})
        shown = 0
        for terms, _log in rows:
            view = ops.read_order(escrow, terms, now)
            if open_only and view.status.is_final:
                continue
            other = terms.merchant if role == "buyer" else terms.buyer
            asset = ops.asset_of(terms.token)
            click.echo(
                f"{view.order_id}  {view.status.name.lower():<9} {asset.fmt(terms.amount):>20}  "
                f"{'merchant' if role == 'buyer' else 'buyer'} {other}"
            )
            shown += 1
        if not shown:
            click.echo(f"no orders for {role} {signer.address}")

    list_orders.help = (list_orders.help or "").replace("{role}", role)
    return list_orders


def party_commands(role: str, script: str) -> list[click.Command]:
    """The commands both parties have, for ``role`` (buyer or merchant)."""
    return [
        status_command(role, script),
        list_command(role),
        cancel_command(),
        offer_command(),
        withdraw_offer_command(),
        accept_command(),
        evidence_command(),
        withdraw_command(),
    ]


def report_refund(escrow: ops.Escrow, receipt: Any, asset: ops.Asset, what: str) -> None:
    """What a refund credited the payer, from the receipt's OrderRefunded events."""
    for event in receipt.events.filter(escrow.contract.OrderRefunded):
        done(
            f"{what} (items {ops.bits_text(int(event.items)) or 'all'}): "
            f"{asset.fmt(int(event.payerAmount))} credited to the payer",
            receipt,
        )
