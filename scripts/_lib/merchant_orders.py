"""`ape run merchant order ...`: the merchant's side of OrderEscrow orders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from scripts._lib import escrow as ops
from scripts._lib.escrow_cli import (
    done,
    escrow_options,
    hashed_text,
    hashed_text_options,
    order_options,
    report_release,
    session,
)
from scripts._lib.order_checks import check_release, check_release_items, check_ship
from scripts._lib.party_commands import party_commands

CARRIER_ID = click.IntRange(1, 2**16 - 1)


@click.group(short_help="escrow orders: ship, release, settle, withdraw")
def order() -> None:
    """The merchant's side of OrderEscrow orders.

    \b
      list             orders opened with you (from the escrow's events)
      status           where an order stands, its deadlines, what you can do now
      assign-carrier   name the carrier that will pick the order up (its reports then count)
      ship             mark an order shipped with its carrier, before its ship-by deadline
      release          after the dispute window (anyone may): pay the order out to you
      cancel           refund the payer the open items, any time before the last release
      evidence         answer a dispute with your evidence
      offer / accept   settle with the buyer on a split, no arbiter needed
      withdraw-offer   take your pending offer back
      withdraw         collect what the escrow credited you

    Orders are named by --order 0xID (terms from the OrderOpened event) or by the buyer's
    --order-file. The escrow is --escrow, else the deployment record's OrderEscrow.
    Every call is simulated first: nothing is sent if the contract would refuse it, and
    its reason is printed."""


for _command in party_commands("merchant", "ape run merchant order"):
    order.add_command(_command)


def carrier_option(command: Any) -> Any:
    return click.option(
        "--carrier",
        type=CARRIER_ID,
        required=True,
        metavar="N",
        help="The carrier's number on the platform (1-65535): only its reports count.",
    )(command)


@order.command(cls=ConnectedProviderCommand, short_help="mark an order shipped")
@escrow_options
@order_options
@carrier_option
@hashed_text_options("tracking", "tracking reference")
def ship(
    network: Any,
    account: Any,
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None,
    order_id: str | None,
    carrier: int,
    tracking: str | None,
    tracking_file: Path | None,
    tracking_hash: str | None,
) -> None:
    """Mark the order shipped with --carrier (no later than its ship-by deadline), with the
    carrier's tracking reference (its keccak256 is recorded). From now on only that carrier's
    reports (through the logistics oracle) count on the order, and the buyer can no longer
    cancel."""
    digest = hashed_text("tracking", tracking, tracking_file, tracking_hash)
    s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
    ops.require(check_ship(s.view, s.address))
    receipt = ops.send(s.account, s.escrow.contract.ship, s.view.terms.as_abi(), carrier, digest)
    done(
        f"shipped order {s.view.order_id} with carrier {carrier} (tracking hash 0x{digest.hex()})",
        receipt,
    )


@order.command(
    "assign-carrier", cls=ConnectedProviderCommand, short_help="name the order's carrier"
)
@escrow_options
@order_options
@carrier_option
def assign_carrier(
    network: Any,
    account: Any,
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None,
    order_id: str | None,
    carrier: int,
) -> None:
    """Hand the funded order to --carrier before its ship-by deadline, without marking it
    shipped: the carrier's pickup report (`ape run carrier shipped`) ships it. Only that
    carrier's reports count on the order from now on, and the buyer can no longer cancel."""
    s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
    ops.require(check_ship(s.view, s.address))
    receipt = ops.send(s.account, s.escrow.contract.assignCarrier, s.view.terms.as_abi(), carrier)
    done(f"handed order {s.view.order_id} to carrier {carrier}", receipt)


@order.command(cls=ConnectedProviderCommand, short_help="release after the dispute window")
@escrow_options
@order_options
@click.option(
    "--item",
    "items",
    type=int,
    multiple=True,
    metavar="INDEX",
    help="Release only these delivered items (0-based, repeatable).",
)
def release(
    network: Any,
    account: Any,
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None,
    order_id: str | None,
    items: tuple[int, ...],
) -> None:
    """Pay the order out to the merchant once the dispute window after delivery is over (a
    shipped order never reported delivered counts as delivered at its deliver-by time; an
    order paid with credit pays only items a carrier reported delivered). Anyone may send it;
    the items of an order handed to a carrier are recorded as sold to the buyer."""
    s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
    terms = s.view.terms
    if items:
        bits = ops.bits_of(items, terms.item_count, "--item")
        ops.require(check_release_items(s.view, bits))
        receipt = ops.send(s.account, s.escrow.contract.releaseItems, terms.as_abi(), bits)
    else:
        ops.require(check_release(s.view))
        receipt = ops.send(s.account, s.escrow.contract.release, terms.as_abi())
    report_release(s.escrow, receipt, ops.asset_of(terms.token))
