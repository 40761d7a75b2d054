"""`ape run carrier ...`: the logistics oracle's reports on escrow orders, many a transaction."""

from __future__ import annotations

from typing import Any

import click

from app.domain.abi_types import hex32
from app.domain.vocab import LogisticsKind
from scripts._lib import chain, escrow
from scripts._lib.chain import Run, Stop

# Test account 8 is the logistics oracle `ape run deploy` names on a local network.
LOCAL_ORACLE_TEST_INDEX = 8
ORACLE = "The logistics oracle"
cli = click.Group(
    help="""The logistics oracle's reports on OrderEscrow orders, every --order in one simulated
reportLogistics transaction; a report the escrow refuses is printed with its reason while the
others stand, and the command exits with status 1. See docs/scripts.md#carrier."""
)
# name: kind, what the evidence is, help (its first clause the short help), next command
REPORTS = {
    "shipped": (
        LogisticsKind.SHIPPED,
        "tracking reference",
        "Report orders picked up by the carrier: funded orders handed to it.",
        "on arrival: ape run carrier delivered --carrier N --order 0xID",
    ),
    "delivered": (
        LogisticsKind.DELIVERED,
        "proof of delivery",
        "Report orders delivered: each order's dispute window starts now; after it, anyone may "
        "release the payment (`ape run merchant order release`).",
        "after the window: ape run merchant order release --order 0xID",
    ),
    "breach": (
        LogisticsKind.CONDITION_BREACHED,
        "incident report",
        "Report a broken condition: on orders in transit (a cold-chain breach, a damaged "
        "parcel), each opens a dispute for the arbiter. After delivery only the buyer disputes.",
        "the arbiter rules: ape run arbiter list",
    ),
}


def _add(name: str, kind: LogisticsKind, what: str, text: str, then: str) -> None:
    words = kind.name.lower().replace("_", " ")

    def report(run: Run, order_ids: tuple[str, ...], carrier: int, **given: Any) -> None:
        texts = (given["evidence"], given["evidence_file"], given["evidence_hash"])
        digest, items = escrow.hashed_text("evidence", *texts), given.get("items", ())
        ids = [hex32(chain.bytes32(value, "--order")) for value in order_ids]
        if items and len(ids) != 1:
            raise Stop("--item goes with exactly one --order")
        esc = escrow.open_escrow(run)
        # Checked here: the escrow would skip the report, after it was sent.
        count = escrow.terms_from_event(esc, ids[0])[0].item_count if items else 0
        bits = escrow.bits_of(items, count, "--item")
        updates = [(order_id, int(kind), carrier, bits, digest) for order_id in ids]
        receipt = chain.send(run, esc.contract.reportLogistics, updates, what="the reports")
        rejected = list(receipt.events.filter(esc.contract.LogisticsUpdateRejected))
        applied = len(updates) - len(rejected)
        said = f"reported {len(updates)} order(s) {words} for carrier {carrier}"
        chain.done(f"{said}: {applied} applied, {len(rejected)} refused", receipt)
        for e in receipt.events.filter(esc.contract.DisputeOpened):
            click.echo(f"  dispute opened on order {hex32(e.orderId)}")
        for e in rejected:
            click.echo(f"  refused order {hex32(e.orderId)}: {chain.explain_data(e.reason)}")
        if rejected:
            raise click.ClickException(
                f"the escrow refused {len(rejected)} of {len(updates)} report(s) (listed above)"
                + ("; the others stand" if applied else "")
            )
        click.echo(f"next: {then}")

    report.__doc__ = text
    command: Any = escrow.hashed_text_options("evidence", what)(report)
    if kind is LogisticsKind.DELIVERED:
        arrived = "With one --order: only these items arrived (0-based, repeatable; default all)."
        command = escrow.items_option(arrived)(command)
    carrier_help = "The reporting carrier's number (1-65535): the one the merchant named."
    command = click.option(
        "--carrier", type=click.IntRange(1, 65535), required=True, metavar="N", help=carrier_help
    )(command)
    command = click.option(
        "--order", "order_ids", multiple=True, required=True, metavar="0xID", help="An order id."
    )(command)
    short = text.split(":")[0].lower()
    escrow.command(
        cli, name, short_help=short, signer=ORACLE, default_signer=LOCAL_ORACLE_TEST_INDEX
    )(command)


for _name, _report in REPORTS.items():
    _add(_name, *_report)
