"""`ape run carrier ...`: the logistics oracle's reports on escrow orders (shipped, delivered,
broken condition), many orders in one transaction.

Each report names the carrier it comes from; the escrow applies it only if that carrier is the
one the merchant handed the order to, and skips a report its rules refuse with
``LogisticsUpdateRejected`` (the custom error it would have raised) while the others stand. The
script reads those rejections from the receipt and explains each: the contract decides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.domain.abi_types import hex32
from app.domain.vocab import LogisticsKind
from scripts._lib import chain, escrow
from scripts._lib.chain import Run, Stop

# Test account 8 is the logistics oracle `ape run deploy` names on a local network.
LOCAL_ORACLE_TEST_INDEX = 8
CARRIER_ID = click.IntRange(1, 2**16 - 1)


@click.group(
    help="""The logistics oracle's reports on OrderEscrow orders (the escrow's ORACLE_ROLE), in
one reportLogistics transaction for all the orders named.

\b
  shipped    the carrier picked the parcels up
  delivered  the parcels arrived: the dispute window starts
  breach     a broken condition (cold-chain breach, damaged parcel): opens a dispute

Every report names its carrier (--carrier N, the platform's number for it): the escrow takes
it only on orders the merchant handed to that carrier (`ape run merchant order ship|assign-
carrier --carrier N`), and skips a report its rules refuse while the others stand; each
refusal is printed with the contract's reason, and the command then exits with status 1.
Orders are named by id (--order, repeatable): the oracle needs no terms. --account is
the logistics oracle (on a local network the default is TEST::8, the one `ape run deploy`
names). The whole call is simulated first: a missing role or a paused escrow sends nothing."""
)
def cli() -> None:
    pass


def _report(kind: LogisticsKind, what: str, help_text: str, *, with_items: bool) -> click.Command:
    def report(
        run: Run,
        order_ids: tuple[str, ...],
        carrier: int,
        evidence: str | None,
        evidence_file: Path | None,
        evidence_hash: str | None,
        items: tuple[int, ...] = (),
    ) -> None:
        digest = escrow.hashed_text("evidence", evidence, evidence_file, evidence_hash)
        ids = [hex32(chain.bytes32(value, "--order")) for value in order_ids]
        if items and len(ids) != 1:
            raise Stop("--item goes with exactly one --order")
        esc = escrow.open_escrow(run)
        bits = 0
        if items:
            terms, _ = escrow.terms_from_event(esc, ids[0])
            bits = escrow.bits_of(items, terms.item_count, "--item")
        updates = [(order_id, int(kind), carrier, bits, digest) for order_id in ids]
        contract = esc.contract
        receipt = chain.send(run, contract.reportLogistics, updates, what="the reports")
        rejected = list(receipt.events.filter(contract.LogisticsUpdateRejected))
        said = kind.name.lower().replace("_", " ")
        chain.done(
            f"reported {len(updates)} order(s) {said} for carrier {carrier}: "
            f"{len(updates) - len(rejected)} applied, {len(rejected)} refused",
            receipt,
        )
        for event in receipt.events.filter(contract.DisputeOpened):
            click.echo(f"  dispute opened on order {hex32(event.orderId)}")
        for event in rejected:
            click.echo(
                f"  refused order {hex32(event.orderId)}: {chain.explain_data(event.reason)}"
            )
        if rejected:
            others = "" if len(rejected) == len(updates) else "; the others stand"
            raise click.ClickException(
                f"the escrow refused {len(rejected)} of {len(updates)} report(s) (listed "
                f"above){others}"
            )
        click.echo(f"next: {NEXT[kind]}")

    report.__doc__ = help_text
    command: Any = report
    if with_items:
        arrived = "With one --order: only these items arrived (0-based, repeatable; default all)."
        command = escrow.items_option(arrived)(command)
    command = escrow.hashed_text_options("evidence", what)(command)
    command = click.option(
        "--carrier",
        type=CARRIER_ID,
        required=True,
        metavar="N",
        help="The reporting carrier's number (1-65535): the one the merchant named.",
    )(command)
    command = click.option(
        "--order",
        "order_ids",
        multiple=True,
        required=True,
        metavar="0xID",
        help="An order id (repeatable).",
    )(command)
    name = {LogisticsKind.CONDITION_BREACHED: "breach"}.get(kind, kind.name.lower())
    short = {"shipped": "picked up", "delivered": "delivered", "breach": "a broken condition"}
    escrow.command(
        cli,
        name,
        short_help=f"report orders {short[name]}",
        signer=ORACLE,
        default_signer=LOCAL_ORACLE_TEST_INDEX,
    )(command)
    return cli.commands[name]


NEXT = {
    LogisticsKind.SHIPPED: "on arrival: ape run carrier delivered --carrier N --order 0xID",
    LogisticsKind.DELIVERED: "after the window: ape run merchant order release --order 0xID",
    LogisticsKind.CONDITION_BREACHED: "the arbiter rules: ape run arbiter list",
}
ORACLE = "The logistics oracle: an Ape account alias, or TEST::N locally (default TEST::8)."


_report(
    LogisticsKind.SHIPPED,
    "tracking reference",
    "Report orders picked up by the carrier (funded orders handed to it).",
    with_items=False,
)
_report(
    LogisticsKind.DELIVERED,
    "proof of delivery",
    "Report orders delivered: each order's dispute window starts now; after it, anyone may "
    "release the payment to the merchant (`ape run merchant order release`).",
    with_items=True,
)
_report(
    LogisticsKind.CONDITION_BREACHED,
    "incident report",
    "Report a broken condition on orders in transit, before delivery (a cold-chain breach, a "
    "damaged parcel): each opens a dispute for the arbiter. After delivery only the buyer "
    "disputes.",
    with_items=False,
)
