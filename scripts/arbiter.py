"""`ape run arbiter ...`: list open disputes, rule on them, apply the default to expired ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.domain.abi_types import hex32
from app.domain.orders import OrderTerms
from app.domain.units import format_moment
from app.domain.vocab import OrderStatus
from scripts._lib import chain, escrow
from scripts._lib.calls import Call, add_calls, report
from scripts._lib.chain import Run, Stop
from scripts._lib.escrow import Escrow, OrderView, order_options, session
from scripts._lib.order_status import default_outcome
from scripts._lib.party_commands import add_status

# Test account 3 is the arbiter `ape run deploy` names on a local network.
LOCAL_ARBITER_TEST_INDEX = 3


@click.group(
    help="""Arbiter operations on the OrderEscrow's disputes.

An arbiter who never rules cannot lock funds: each dispute has an arbitration deadline
(set by the admin's arbitration period when it opened), after which only the default applies.
--account is the arbiter (on a local network the default is TEST::3, the arbiter that
`ape run deploy` names). Every call is simulated first: if the escrow would refuse it, nothing
is sent and its reason is printed."""
)
def cli() -> None:
    pass


add_status(cli, None, "ape run arbiter", LOCAL_ARBITER_TEST_INDEX)
ARBITER = "The arbiter: an Ape account alias, or TEST::N locally (default TEST::3)."


def _disputed(esc: Escrow, now: int) -> list[tuple[OrderView, Any]]:
    """Orders disputed now, with the DisputeOpened event of their current dispute."""
    latest = {hex32(log.orderId): log for log in esc.logs("DisputeOpened")}
    found = []
    for order_id, log in latest.items():
        if OrderStatus(int(esc.contract.orderOf(order_id).status)) is OrderStatus.DISPUTED:
            terms, _ = escrow.terms_from_event(esc, order_id)
            found.append((escrow.read_order(esc, terms, now), log))
    return found


@escrow.command(cli, "list", short_help="list open disputes", signer=ARBITER)
def list_disputes(run: Run) -> None:
    """List the escrow's open disputes, oldest first, from its events and current state:
    who opened each, the evidence hashes of both sides, the arbitration deadline, what is
    escrowed and any pending settlement offer. Sends nothing."""
    esc = escrow.open_escrow(run)
    now = chain.now()
    disputes = _disputed(esc, now)
    if not disputes:
        click.echo(f"no open disputes on {esc.address}")
        return
    for view, opened in disputes:
        terms = view.terms
        asset = escrow.asset_of(terms.token)
        state = "expired" if now >= view.dispute_deadline else "open"
        click.echo(f"order {view.order_id}  [{state}]")
        click.echo(f"  buyer {terms.buyer}  merchant {terms.merchant}")
        click.echo(f"  escrowed {asset.fmt(view.escrowed)} of {asset.fmt(terms.amount)}")
        opener = "buyer" if opened.by == terms.buyer else f"oracle {opened.by}"
        click.echo(
            f"  opened by the {opener} in block {opened.block_number}, "
            f"evidence {hex32(opened.evidenceHash)}"
        )
        topics = {"orderId": view.order_id}
        for log in esc.logs("EvidenceSubmitted", topics, opened.block_number):
            side = _side(terms, str(log.by))
            click.echo(f"  evidence from the {side}: {hex32(log.evidenceHash)}")
        default = default_outcome(view).removeprefix("an ").removeprefix("a ")
        click.echo(f"  rule until {format_moment(view.dispute_deadline, now)}; default: {default}")
        if view.offer is not None:
            side = "merchant" if view.offer.by_merchant else "buyer"
            click.echo(
                f"  pending offer by the {side}: {view.offer.buyer_bps} bps to the buyer, until "
                f"{format_moment(view.offer.expires_at, now)}"
            )
    click.echo("next: ape run arbiter settle --order 0xID --buyer-bps N --ruling TEXT")


def _side(terms: OrderTerms, address: str) -> str:
    if address == terms.buyer:
        return "buyer"
    if address == terms.merchant:
        return "merchant"
    return address


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
    """Apply the default outcome to a dispute whose arbitration deadline has passed (one
    transaction per order): a full refund if the merchant never answered, else an even split.
    Anyone may send it. Name one order, or --all."""
    if every:
        if order_file is not None or order_id is not None:
            raise Stop("--all goes without --order-file and --order")
        esc = escrow.open_escrow(run)
        now = chain.now()
        views = [view for view, _ in _disputed(esc, now) if now >= view.dispute_deadline]
        if not views:
            click.echo("no dispute is past its arbitration deadline; nothing was sent")
            return
    else:
        s = session(run, order_file, order_id)
        esc, views = s.escrow, [s.view]
    contract = esc.contract
    for view in views:
        call = contract.resolveExpiredDispute
        receipt = chain.send(run, call, view.terms.as_abi(), what="resolve-expired")
        report(
            receipt,
            f"default outcome on order {view.order_id}",
            None,
            escrow.asset_of(view.terms.token),
        )
    click.echo("next: each side collects its share: ape run buyer withdraw")
