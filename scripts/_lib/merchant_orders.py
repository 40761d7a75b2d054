"""`ape run merchant order ...`: the merchant's side of OrderEscrow orders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from scripts._lib import chain, escrow
from scripts._lib.chain import Run
from scripts._lib.escrow import bits_of, order_options, report_release, session
from scripts._lib.party_commands import add_party_commands

CARRIER_ID = click.IntRange(1, 2**16 - 1)
SCRIPT = "ape run merchant order"


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


add_party_commands(order, "merchant", SCRIPT)


def carrier_option(command: Any) -> Any:
    return click.option(
        "--carrier",
        type=CARRIER_ID,
        required=True,
        metavar="N",
        help="The carrier's number on the platform (1-65535): only its reports count.",
    )(command)


@escrow.command(order, short_help="mark an order shipped")
@order_options
@carrier_option
@escrow.hashed_text_options("tracking", "tracking reference")
def ship(
    run: Run,
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
    digest = escrow.hashed_text("tracking", tracking, tracking_file, tracking_hash)
    s = session(run, order_file, order_id)
    receipt = s.send("ship", carrier, digest, what="ship")
    chain.done(
        f"shipped order {s.view.order_id} with carrier {carrier} (tracking hash 0x{digest.hex()})",
        receipt,
        f"carrier {carrier} reports the delivery: ape run carrier delivered --carrier {carrier} "
        f"--order {s.view.order_id}",
    )


@escrow.command(order, "assign-carrier", short_help="name the order's carrier")
@order_options
@carrier_option
def assign_carrier(run: Run, order_file: Path | None, order_id: str | None, carrier: int) -> None:
    """Hand the funded order to --carrier before its ship-by deadline, without marking it
    shipped: the carrier's pickup report (`ape run carrier shipped`) ships it. Only that
    carrier's reports count on the order from now on, and the buyer can no longer cancel."""
    s = session(run, order_file, order_id)
    receipt = s.send("assignCarrier", carrier, what="assign-carrier")
    chain.done(
        f"handed order {s.view.order_id} to carrier {carrier}",
        receipt,
        f"the carrier reports the pickup: ape run carrier shipped --carrier {carrier} "
        f"--order {s.view.order_id}",
    )


@escrow.command(order, short_help="release after the dispute window")
@order_options
@escrow.items_option("Release only these delivered items (0-based, repeatable).")
def release(
    run: Run, order_file: Path | None, order_id: str | None, items: tuple[int, ...]
) -> None:
    """Pay the order out to the merchant once the dispute window after delivery is over (a
    shipped order never reported delivered counts as delivered at its deliver-by time; an
    order paid with credit pays only items a carrier reported delivered). Anyone may send it;
    the items of an order handed to a carrier are recorded as sold to the buyer."""
    s = session(run, order_file, order_id)
    if items:
        bits = bits_of(items, s.terms.item_count, "--item")
        receipt = s.send("releaseItems", bits, what="release")
    else:
        receipt = s.send("release", what="release")
    report_release(s, receipt, f"{SCRIPT} withdraw")
