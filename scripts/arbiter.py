"""`ape run arbiter ...`: list open disputes, rule on them, apply the default to expired ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.domain.abi_types import hex32
from app.domain.units import format_moment
from app.domain.vocab import OrderStatus
from scripts._lib import chain, escrow
from scripts._lib.assets import asset_of
from scripts._lib.calls import Call, add_calls, report
from scripts._lib.chain import Run, Stop
from scripts._lib.escrow import Escrow, OrderView, order_options, read_order, session
from scripts._lib.party_commands import add_status, default_outcome, offer_text

# Test account 3 is the arbiter `ape run deploy` names on a local network.
LOCAL_ARBITER_TEST_INDEX = 3


@click.group(
    help="""Arbiter operations on the OrderEscrow's disputes (past a dispute's arbitration deadline
only the default outcome applies), each call simulated first: a refusal sends nothing and prints
the escrow's reason. More: docs/scripts.md#arbiter."""
)
def cli() -> None:
    pass


add_status(cli, None, "ape run arbiter", LOCAL_ARBITER_TEST_INDEX)
ARBITER = "The arbiter"


def _disputed(esc: Escrow, now: int) -> list[tuple[OrderView, Any]]:
    """Orders disputed now, with the DisputeOpened event of their current dispute."""
    latest = {hex32(log.orderId): log for log in esc.logs("DisputeOpened")}
    found = []
    for order_id, log in latest.items():
        if OrderStatus(int(esc.contract.orderOf(order_id).status)) is OrderStatus.DISPUTED:
            terms, _ = escrow.terms_from_event(esc, order_id)
            found.append((read_order(esc, terms, now), log))
    return found


@escrow.command(cli, "list", short_help="list open disputes", signer=ARBITER)
def list_disputes(run: Run) -> None:
    """List the escrow's open disputes: evidence, deadline, escrow, any offer. Sends nothing."""
    esc, now = escrow.open_escrow(run), chain.now()
    disputes = _disputed(esc, now)
    for view, opened in disputes:
        terms, asset, deadline = view.terms, asset_of(view.terms.token), view.state.disputeDeadline
        sides = {terms.buyer: "buyer", terms.merchant: "merchant"}
        click.echo(f"order {view.order_id}  [{'expired' if now >= deadline else 'open'}]")
        click.echo(f"  buyer {terms.buyer}  merchant {terms.merchant}")
        click.echo(f"  escrowed {asset.fmt(view.escrowed)} of {asset.fmt(terms.amount)}")
        opener = "buyer" if opened.by == terms.buyer else f"oracle {opened.by}"
        evidence = hex32(opened.evidenceHash)
        click.echo(f"  opened by the {opener} in block {opened.block_number}, evidence {evidence}")
        for log in esc.logs("EvidenceSubmitted", {"orderId": view.order_id}, opened.block_number):
            side = sides.get(str(log.by), str(log.by))
            click.echo(f"  evidence from the {side}: {hex32(log.evidenceHash)}")
        default = default_outcome(view).removeprefix("an ").removeprefix("a ")
        click.echo(f"  rule until {format_moment(deadline, now)}; default: {default}")
        if view.offer is not None:
            click.echo(f"  pending offer {offer_text(view.offer, now)}")
    if not disputes:
        click.echo(f"no open disputes on {esc.address}")
    else:
        click.echo("next: ape run arbiter settle --order 0xID --buyer-bps N --ruling TEXT")


add_calls(cli, (
    Call("settle", ("escrow",), "resolveDispute", "ARBITER_ROLE", "rule on a dispute",
         then="each side collects its share: ape run buyer withdraw / ape run merchant order "
         "withdraw"),
), default_signer=LOCAL_ARBITER_TEST_INDEX, address="escrow")  # fmt: skip


@escrow.command(
    cli,
    "resolve-expired",
    short_help="past the deadline: apply the default outcome (anyone may)",
    signer=ARBITER,
    default_signer=LOCAL_ARBITER_TEST_INDEX,
)
@order_options
@click.option("--all", "every", is_flag=True, help="Every dispute past its deadline.")
def resolve_expired(run: Run, order_file: Path | None, order_id: str | None, every: bool) -> None:
    """Apply the default outcome to one dispute (or --all) whose arbitration deadline has
    passed, a transaction each: a full refund if the merchant never answered, else an even split."""
    if every:
        if order_file is not None or order_id is not None:
            raise Stop("--all goes without --order-file and --order")
        esc, now = escrow.open_escrow(run), chain.now()
        views = [view for view, _ in _disputed(esc, now) if now >= view.state.disputeDeadline]
        if not views:
            click.echo("no dispute is past its arbitration deadline; nothing was sent")
            return
    else:
        s = session(run, order_file, order_id)
        esc, views = s.escrow, [s.view]
    for view in views:
        call, order = esc.contract.resolveExpiredDispute, view.order_id
        receipt = chain.send(run, call, view.terms.as_abi(), what="resolve-expired")
        report(receipt, f"default outcome on order {order}", None, asset_of(view.terms.token))
    click.echo("next: each side collects its share: ape run buyer withdraw")
