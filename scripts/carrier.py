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
ORACLE = "The logistics oracle: an Ape account alias, or TEST::N locally (default TEST::8)."


@click.group(
    help="""The logistics oracle's reports on OrderEscrow orders (the escrow's ORACLE_ROLE), in
one reportLogistics transaction for all the orders named.

Every report names its carrier (--carrier N, the platform's number for it): the escrow takes
it only on orders the merchant handed to that carrier (`ape run merchant order ship` or
`assign-carrier --carrier N`), and skips a report its rules refuse (LogisticsUpdateRejected)
while the others stand; each refusal is printed with the contract's reason, and the command
then exits with status 1.
Orders are named by id (--order, repeatable): the oracle needs no terms. --account is
the logistics oracle (on a local network the default is TEST::8, the one `ape run deploy`
names). The whole call is simulated first: a missing role or a paused escrow sends nothing."""
)
def cli() -> None:
    pass


# name: (kind, what the evidence is, short help, help, next command)
REPORTS = {
    "shipped": (
        LogisticsKind.SHIPPED,
        "tracking reference",
        "report orders picked up by the carrier",
        "Report orders picked up by the carrier (funded orders handed to it).",
        "on arrival: ape run carrier delivered --carrier N --order 0xID",
    ),
    "delivered": (
        LogisticsKind.DELIVERED,
        "proof of delivery",
        "report orders delivered: the dispute window starts",
        "Report orders delivered: each order's dispute window starts now; after it, anyone may "
        "release the payment to the merchant (`ape run merchant order release`).",
        "after the window: ape run merchant order release --order 0xID",
    ),
    "breach": (
        LogisticsKind.CONDITION_BREACHED,
        "incident report",
        "report a broken condition: opens a dispute",
        "Report a broken condition on orders in transit, before delivery (a cold-chain breach, "
        "a damaged parcel): each opens a dispute for the arbiter. After delivery only the buyer "
        "disputes.",
        "the arbiter rules: ape run arbiter list",
    ),
}


def _add(name: str, kind: LogisticsKind, what: str, short: str, text: str, then: str) -> None:
    def report(run: Run, order_ids: tuple[str, ...], carrier: int, **given: Any) -> None:
        texts = (given["evidence"], given["evidence_file"], given["evidence_hash"])
        digest, items = escrow.hashed_text("evidence", *texts), given.get("items", ())
        ids = [hex32(chain.bytes32(value, "--order")) for value in order_ids]
        if items and len(ids) != 1:
            raise Stop("--item goes with exactly one --order")
        esc = escrow.open_escrow(run)
        bits = 0
        if items:  # checked here: the escrow would skip the report, after it was sent
            terms, _ = escrow.terms_from_event(esc, ids[0])
            bits = escrow.bits_of(items, terms.item_count, "--item")
        updates = [(order_id, int(kind), carrier, bits, digest) for order_id in ids]
        contract = esc.contract
        receipt = chain.send(run, contract.reportLogistics, updates, what="the reports")
        rejected = list(receipt.events.filter(contract.LogisticsUpdateRejected))
        applied = len(updates) - len(rejected)
        chain.done(
            f"reported {len(updates)} order(s) {kind.name.lower().replace('_', ' ')} for carrier "
            f"{carrier}: {applied} applied, {len(rejected)} refused",
            receipt,
        )
        for event in receipt.events.filter(contract.DisputeOpened):
            click.echo(f"  dispute opened on order {hex32(event.orderId)}")
        for event in rejected:
            click.echo(
                f"  refused order {hex32(event.orderId)}: {chain.explain_data(event.reason)}"
            )
        if rejected:
            raise click.ClickException(
                f"the escrow refused {len(rejected)} of {len(updates)} report(s) (listed above)"
                + ("; the others stand" if applied else "")
            )
        click.echo(f"next: {then}")

    report.__doc__ = text
    command: Any = report
    if kind is LogisticsKind.DELIVERED:
        arrived = "With one --order: only these items arrived (0-based, repeatable; default all)."
        command = escrow.items_option(arrived)(command)
    command = escrow.hashed_text_options("evidence", what)(command)
    command = click.option(
        "--carrier",
        type=click.IntRange(1, 2**16 - 1),
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
    escrow.command(
        cli, name, short_help=short, signer=ORACLE, default_signer=LOCAL_ORACLE_TEST_INDEX
    )(command)


for _name, _report in REPORTS.items():
    _add(_name, *_report)
