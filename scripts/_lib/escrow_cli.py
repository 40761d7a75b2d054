"""Click pieces shared by the escrow's command-line scripts: options that name the escrow, the
order and hashed texts (evidence, tracking, rulings), and the commands both parties of an order
have (status, cancel, offer, accept, evidence, withdraw, list), built per role so that
``ape run buyer cancel`` and ``ape run merchant order cancel`` are the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand
from eth_utils.crypto import keccak

from app.domain.abi_types import hex32
from scripts._lib import escrow as ops
from scripts._lib.options import deployments_dir_option
from scripts._lib.orders import ETH
from scripts._lib.signers import (
    parse_address,
    resolve_account,
    signer_option,
    test_account_address,
)

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
BPS_TYPE = click.IntRange(0, ops.BPS)


# ---------------------------------------------------------------------------------------- options


def escrow_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--escrow, --deployments-dir and --account."""
    command = deployments_dir_option(command)
    command = click.option(
        "--escrow",
        "escrow_address",
        help="OrderEscrow address (default: the order file's, else the deployment record's).",
    )(command)
    with_account: Callable[..., Any] = signer_option()(command)
    return with_account


def order_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--order-file or --order: which order."""
    command = click.option(
        "--order",
        "order_id",
        metavar="0xID",
        help="The order id; its terms are read from its OrderOpened event.",
    )(command)
    command = click.option(
        "--order-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The order file `ape run buyer open --order-file` wrote.",
    )(command)
    return command


def hashed_text_options(name: str, what: str) -> Decorator:
    """--NAME TEXT, --NAME-file FILE or --NAME-hash 0x..: recorded as keccak256."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(f"--{name}-hash", help=f"The {what} hash itself (0x + 64 hex).")(
            command
        )
        command = click.option(
            f"--{name}-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help=f"A file; keccak256 of its bytes is recorded as the {what}.",
        )(command)
        return click.option(f"--{name}", help=f"Text; its keccak256 is recorded as the {what}.")(
            command
        )

    return decorate


def hashed_text(name: str, text: str | None, file: Path | None, digest: str | None) -> bytes:
    given = [v for v in (text, file, digest) if v is not None]
    if len(given) != 1:
        raise click.UsageError(f"give exactly one of --{name}, --{name}-file, --{name}-hash")
    if text is not None:
        return keccak(text.encode("utf-8"))
    if file is not None:
        return keccak(file.read_bytes())
    return parse_bytes32(str(digest), f"--{name}-hash")


def parse_bytes32(value: str, what: str) -> bytes:
    text = value.strip().removeprefix("0x")
    if len(text) != 64:
        raise click.BadParameter("must be 0x followed by 64 hex digits", param_hint=what)
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise click.BadParameter("must be 0x followed by 64 hex digits", param_hint=what) from None


def parse_token(value: str) -> str:
    """``ETH`` (or the zero address) or an ERC-20 address."""
    if value.strip().upper() == "ETH":
        return ETH
    return parse_address(value, "--token")


# ---------------------------------------------------------------------------------------- session


@dataclass(frozen=True)
class Session:
    """An escrow, a signer and an order, read from the chain."""

    escrow: ops.Escrow
    account: Any
    order: ops.LoadedOrder
    view: ops.OrderView

    @property
    def address(self) -> str:
        return str(self.account.address)


def connect(
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None = None,
) -> tuple[ops.Escrow, Any]:
    """The escrow: --escrow, else the order file's, else the deployment record's."""
    data = ops.load_order_file(order_file) if order_file is not None else None
    address = parse_address(escrow_address, "--escrow") if escrow_address else None
    if address is None and data is not None:
        address = data.escrow
    return ops.open_escrow(address, deployments_dir), data


def session(
    network: Any,
    account: Any,
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None,
    order_id: str | None,
    *,
    default_test_index: int | None = None,
) -> Session:
    signer = resolve_account(account, network, default_test_index=default_test_index)
    escrow, data = connect(escrow_address, deployments_dir, order_file)
    order = ops.find_order(escrow, data, order_file, _order_id(order_id))
    return Session(escrow, signer, order, ops.load_view(escrow, order))


def _order_id(value: str | None) -> str | None:
    return None if value is None else hex32(parse_bytes32(value, "--order"))


def order_flag(order: ops.LoadedOrder) -> str:
    """How later commands name this order: its file if it has one, else its id."""
    if order.path is not None:
        return f"--order-file {order.path}"
    return f"--order {order.order_id}"


def done(what: str, receipt: Any) -> None:
    click.echo(f"{what} in tx {receipt.txn_hash} (block {receipt.block_number})")


def report_release(escrow: ops.Escrow, receipt: Any, asset: ops.Asset) -> None:
    """What a release paid, and the registry's sale record, from the receipt's events."""
    contract = escrow.contract
    for event in receipt.events.filter(contract.OrderReleased):
        done(
            f"released order {hex32(event.orderId)} (items {ops.bits_text(event.items)}): "
            f"{asset.fmt(event.merchantAmount)} credited to the merchant, "
            f"fee {asset.fmt(event.feeAmount)}",
            receipt,
        )
    for event in receipt.events.filter(contract.SaleRecorded):
        click.echo(
            f"registry: {event.itemCount} item(s) recorded as sold to the buyer "
            f"(custody event ids from {event.firstEventId})"
        )
    for event in receipt.events.filter(contract.SaleNotRecorded):
        click.echo(f"registry refused the sale record ({hex32(event.reason)}); the payout stands")


# ---------------------------------------------------------------------------------------- commands


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
        order = ops.find_order(escrow, data, order_file, _order_id(order_id))
        view = ops.load_view(escrow, order)
        asset = ops.asset_of(view.terms.token)
        verdicts = ops.item_verdicts(escrow, view.terms)
        for line in ops.describe(escrow, view, asset, verdicts):
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
        actions = ops.actions_for(
            view, you, verdicts=verdicts, is_arbiter=is_arbiter, credit=credit
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
    @click.command("cancel", cls=ConnectedProviderCommand, short_help="cancel: full refund")
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
        """Cancel the order; the payer is credited the whole remainder (withdraw it). The buyer
        may cancel before shipment, the merchant any time before the last release, anyone once
        the order is funded past its ship-by deadline."""
        s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
        ops.require(ops.check_cancel(s.view, s.address))
        receipt = ops.send(s.account, s.escrow.contract.cancel, s.view.terms.as_abi())
        asset = ops.asset_of(s.view.terms.token)
        done(
            f"cancelled order {s.view.order_id}: {asset.fmt(s.view.escrowed)} credited to the "
            f"payer {s.view.terms.payer}",
            receipt,
        )

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
    def offer(
        network: Any,
        account: Any,
        escrow_address: str | None,
        deployments_dir: Path | None,
        order_file: Path | None,
        order_id: str | None,
        buyer_bps: int,
    ) -> None:
        """Offer to settle: the buyer gets --buyer-bps of what is still escrowed, the merchant the
        rest (less the fee). Replaces any pending offer; the other side accepts with
        `accept --buyer-bps N`."""
        s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
        ops.require(ops.check_offer(s.view, s.address))
        receipt = ops.send(
            s.account, s.escrow.contract.offerSettlement, s.view.terms.as_abi(), buyer_bps
        )
        asset = ops.asset_of(s.view.terms.token)
        payer, merchant, fee = ops.settlement_split(s.view, buyer_bps)
        done(
            f"offered {buyer_bps} bps to the buyer: {asset.fmt(payer)} to the buyer, "
            f"{asset.fmt(merchant)} to the merchant, fee {asset.fmt(fee)}",
            receipt,
        )

    return offer


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
        ops.require(ops.check_accept(s.view, s.address, buyer_bps))
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
        ops.require(ops.check_evidence(s.view, s.address))
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
        accept_command(),
        evidence_command(),
        withdraw_command(),
    ]
