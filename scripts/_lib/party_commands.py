"""The commands both parties of an order have (status, list, cancel, offer, withdraw-offer,
accept, evidence, withdraw), added per role so that ``ape run buyer cancel`` and ``ape run
merchant order cancel`` are the same code; and the arbiter's ``status``. Who may do what is the
contract's to say: each call is simulated and a refusal explained from its error."""

from __future__ import annotations

from pathlib import Path

import click

from app.domain.orders import OrderTerms
from app.domain.units import parse_duration
from scripts._lib import chain, escrow, order_status
from scripts._lib.assets import asset_of, parse_token
from scripts._lib.calls import Call, add_calls, report
from scripts._lib.chain import Run, Stop
from scripts._lib.escrow import (
    BPS,
    item_verdicts,
    open_escrow,
    order_options,
    read_order,
    session,
)
from scripts._lib.signers import parse_address, test_account_address

BPS_TYPE = click.IntRange(0, BPS)
BUYER_BPS = "Share of what is escrowed for the buyer (payer), in basis points (7000 = 70%)."
PARTY = "the buyer or the merchant; the contract decides"


def party_calls(role: str, script: str) -> tuple[Call, ...]:
    """The commands of both parties that send one escrow function on the order."""
    return (
        Call("cancel", ("escrow",), "cancel", PARTY, "cancel: refund the payer",
             then="the payer collects it: ape run buyer withdraw (an order paid with credit "
             "settles on its line: ape run borrower status)"),
        Call("withdraw-offer", ("escrow",), "withdrawOffer", PARTY, "take your offer back",
             then=f"{script} status {{order}}"),
        Call("accept", ("escrow",), "acceptSettlement", PARTY, "accept the other's offer",
             options={"buyerBps": "The split you accept: the pending offer's (guards a swap)."},
             then=f"each side collects its share: {script} withdraw"),
        Call("evidence", ("escrow",), "submitEvidence", PARTY, "add dispute evidence",
             then=f"the arbiter rules (ape run arbiter list); see {script} status {{order}}"),
    )  # fmt: skip


def add_status(group: click.Group, role: str | None, script: str, default: int | None) -> None:
    """``status`` for a party (``role``: whose options are listed without --account), or for
    the arbiter (``role`` None: test account ``default`` on a local network)."""
    whom = f"the order's {role}" if role else f"TEST::{default} on a local network"

    def status(run: Run, order_file: Path | None, order_id: str | None) -> None:
        s = session(run, order_file, order_id)
        view, terms, asset = s.view, s.terms, s.asset
        verdicts = item_verdicts(s.escrow, terms)
        for line in order_status.describe(s.escrow, view, asset, verdicts):
            click.echo(line)
        if run.account is not None:
            you = str(run.account.address)
        elif role is not None:
            you = str(getattr(terms, role))
        elif run.network.is_local and default is not None:
            you = test_account_address(default)
        else:
            raise Stop("--account is required: whose options to list")
        # The arbiter's script has no withdraw: its status lists rulings only.
        credit = int(s.escrow.contract.creditOf(you, terms.token)) if role else 0
        if credit:
            click.echo(f"credit     {asset.fmt(credit)} for {you} (withdraw)")
        contract = s.escrow.contract
        is_arbiter = bool(contract.hasRole(contract.ARBITER_ROLE(), you))
        actions = order_status.actions_for(
            s.escrow, view, you, verdicts=verdicts, is_arbiter=is_arbiter, credit=credit
        )
        if not actions:
            click.echo(f"{you} can do nothing on this order now")
            return
        click.echo(f"{you} can now:")
        for action in actions:
            words = [_runner(action.command, script), action.command]
            if action.command != "withdraw":
                words.append(s.flag)
            if action.options:
                words.append(action.options)
            click.echo(f"  {' '.join(words)}   # {action.note}")

    status.__doc__ = (
        "Show the order's state and deadlines, and the commands that would go through now. "
        f"Sends nothing; --account (default: {whom}) picks whose options are listed."
    )
    short = "the order, its deadlines, what you can do now"
    escrow.command(group, "status", short_help=short)(order_options(status))


def _runner(command: str, script: str) -> str:
    """The script that offers a command: a party's own, or the arbiter's."""
    if command in ("settle", "resolve-expired"):
        return "ape run arbiter"
    if command == "release":
        return "ape run merchant order"
    return script


def add_party_commands(group: click.Group, role: str, script: str) -> None:
    """The commands both parties have, for ``role`` (buyer or merchant)."""
    add_status(group, role, script, None)
    other = "merchant" if role == "buyer" else "buyer"

    def list_orders(run: Run, open_only: bool) -> None:
        escrow = open_escrow(run)
        now, shown = chain.now(), 0
        for log in escrow.logs("OrderOpened", {role: run.me}):
            view = read_order(escrow, OrderTerms.from_abi(list(log.terms)), now)
            if open_only and view.status.is_final:
                continue
            asset, terms = asset_of(view.terms.token), view.terms
            click.echo(
                f"{view.order_id}  {view.status.name.lower():<9} {asset.fmt(terms.amount):>20}  "
                f"{other} {getattr(terms, other)}"
            )
            shown += 1
        if not shown:
            click.echo(f"no orders for {role} {run.me}")
        else:
            click.echo(f"next: {script} status --order 0xID")

    list_orders.__doc__ = (
        f"List the orders of the --account {role}, from the escrow's OrderOpened events, with "
        "their current status. Sends nothing."
    )
    open_only = click.option("--open-only", is_flag=True, help="Leave out released, refunded.")
    escrow.command(group, "list", short_help=f"list your orders ({role})")(open_only(list_orders))

    add_calls(group, party_calls(role, script), default_signer=None, address="escrow")

    @escrow.command(group, "offer", short_help="offer a settlement split")
    @order_options
    @click.option("--buyer-bps", type=BPS_TYPE, required=True, help=BUYER_BPS)
    @click.option(
        "--expires-in",
        default="3d",
        show_default=True,
        metavar="DURATION",
        help="How long the other side may accept it (90m, 36h, 7d ...).",
    )
    def offer(
        run: Run, order_file: Path | None, order_id: str | None, buyer_bps: int, expires_in: str
    ) -> None:
        """Offer to settle: the buyer gets --buyer-bps of what is still escrowed, the merchant the
        rest (less the fee), if the other side accepts with `accept --buyer-bps N` before the
        offer expires (--expires-in). Replaces any pending offer; `withdraw-offer` takes it back.
        An order paid with credit settles only once a carrier reported all its items delivered."""
        lifetime = chain.parsed(parse_duration, expires_in, "--expires-in")
        s = session(run, order_file, order_id)
        receipt = s.send("offerSettlement", buyer_bps, s.view.now + lifetime, what="the offer")
        other = "merchant" if role == "buyer" else "buyer"
        accept = f"{_party_script(other)} accept {s.flag} --buyer-bps {buyer_bps}"
        report(receipt, "sent the offer", f"the {other} accepts: {accept}", s.asset)

    @escrow.command(
        group, "withdraw", short_help="collect refunds, payments and shares credited to you"
    )
    @click.option("--token", default="ETH", show_default=True, help="ETH or the ERC-20 address.")
    @click.option("--to", "recipient", help="Pay another address (default: yourself).")
    def withdraw(run: Run, token: str, recipient: str | None) -> None:
        """Withdraw everything the escrow owes you in one token: payments released to you,
        refunds, your share of settlements."""
        escrow = open_escrow(run)
        token_address = parse_token(token)
        asset = asset_of(token_address)
        credit = int(escrow.contract.creditOf(run.me, token_address))
        if recipient is None:
            receipt = chain.send(run, escrow.contract.withdraw, token_address, what="withdraw")
            to = run.me
        else:
            to = parse_address(recipient, "--to")
            call = escrow.contract.withdrawTo
            receipt = chain.send(run, call, token_address, to, what="withdraw")
        report(receipt, f"withdrew {asset.fmt(credit)} to {to}", f"{script} list", asset)


def _party_script(party: str) -> str:
    return "ape run buyer" if party == "buyer" else "ape run merchant order"
