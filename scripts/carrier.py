"""`ape run carrier ...`: the logistics oracle's reports on escrow orders (shipped, delivered,
broken condition), many orders in one transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from app.domain.abi_types import hex32
from app.domain.vocab import LogisticsKind
from scripts._lib import escrow as ops
from scripts._lib.escrow_cli import (
    connect,
    done,
    escrow_options,
    hashed_text,
    hashed_text_options,
    parse_bytes32,
)
from scripts._lib.signers import resolve_account

# Test account 1 is the oracle `ape run deploy` names on a local network.
LOCAL_ORACLE_TEST_INDEX = 1


@click.group(
    help="""The logistics oracle's reports on OrderEscrow orders (ORACLE_ROLE), in one
reportLogistics transaction for all the orders named (all or none go through).

\b
  shipped    the carrier took the parcels (instead of the merchant's `order ship`)
  delivered  the parcels arrived: the dispute window starts
  breach     a broken condition (cold-chain breach, damaged parcel): opens a dispute

Orders are named by id (--order, repeatable): the oracle needs no terms. --account is
the oracle (on a local network the default is TEST::1, the oracle `ape run deploy` names).
Every order is checked first; if any check fails nothing is sent."""
)
def cli() -> None:
    pass


def _report(kind: LogisticsKind, what: str, help_text: str, *, with_items: bool) -> click.Command:
    def report(
        network: Any,
        account: Any,
        escrow_address: str | None,
        deployments_dir: Path | None,
        order_ids: tuple[str, ...],
        evidence: str | None,
        evidence_file: Path | None,
        evidence_hash: str | None,
        items: tuple[int, ...] = (),
    ) -> None:
        digest = hashed_text("evidence", evidence, evidence_file, evidence_hash)
        oracle = resolve_account(account, network, default_test_index=LOCAL_ORACLE_TEST_INDEX)
        escrow, _ = connect(escrow_address, deployments_dir)
        contract = escrow.contract
        ids = [hex32(parse_bytes32(value, "--order")) for value in order_ids]
        if len(set(ids)) != len(ids):
            raise click.BadParameter("an order is named twice", param_hint="--order")
        if items and len(ids) != 1:
            raise click.UsageError("--item goes with exactly one --order")
        problems = []
        if not contract.hasRole(contract.ORACLE_ROLE(), oracle.address):
            problems.append(f"{oracle.address} does not hold ORACLE_ROLE on {escrow.address}")
        now = ops.chain_now()
        updates = []
        for order_id in ids:
            if int(contract.orderOf(order_id).status) == 0:
                problems.append(f"order {order_id} does not exist on {escrow.address}")
                continue
            terms, _ = ops.terms_from_event(escrow, order_id)
            view = ops.read_order(escrow, terms, now)
            bits = ops.bits_of(items, terms.item_count, "--item") if items else 0
            problems += ops.check_report(view, kind, bits)
            updates.append((order_id, int(kind), bits, digest))
        ops.require(problems)
        receipt = ops.send(oracle, contract.reportLogistics, updates)
        done(f"reported {len(updates)} order(s) {kind.name.lower().replace('_', ' ')}", receipt)
        for event in receipt.events.filter(contract.DisputeOpened):
            click.echo(f"  dispute opened on order {hex32(event.orderId)}")

    command: Any = report
    if with_items:
        command = click.option(
            "--item",
            "items",
            type=int,
            multiple=True,
            metavar="INDEX",
            help="With one --order: only these items arrived (0-based, repeatable; default all).",
        )(command)
    command = hashed_text_options("evidence", what)(command)
    command = click.option(
        "--order",
        "order_ids",
        multiple=True,
        required=True,
        metavar="0xID",
        help="An order id (repeatable).",
    )(command)
    command = escrow_options(command)
    built: click.Command = click.command(cls=ConnectedProviderCommand, help=help_text)(command)
    return built


cli.add_command(
    _report(
        LogisticsKind.SHIPPED,
        "tracking reference",
        "Report orders shipped by the carrier (before their ship-by deadline).",
        with_items=False,
    ),
    "shipped",
)
cli.add_command(
    _report(
        LogisticsKind.DELIVERED,
        "proof of delivery",
        "Report orders delivered: each order's dispute window starts now; after it, anyone may "
        "release the payment to the merchant (`ape run merchant order release`).",
        with_items=True,
    ),
    "delivered",
)
cli.add_command(
    _report(
        LogisticsKind.CONDITION_BREACHED,
        "incident report",
        "Report a broken condition on shipped or delivered orders (a cold-chain breach, a "
        "damaged parcel): each opens a dispute for the arbiter.",
        with_items=False,
    ),
    "breach",
)
