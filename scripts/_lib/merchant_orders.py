"""`ape run merchant order ...`: the merchant's side of OrderEscrow orders."""

from __future__ import annotations

from pathlib import Path

import click

from scripts._lib import escrow
from scripts._lib.calls import Call, add_calls, report
from scripts._lib.chain import Run
from scripts._lib.escrow import bits_of, order_options, session
from scripts._lib.party_commands import add_party_commands

SCRIPT = "ape run merchant order"
order = click.Group(
    "order",
    short_help="escrow orders: ship, release, settle, withdraw",
    help="""The merchant's side of OrderEscrow orders, each named by --order 0xID (terms from its
OrderOpened event) or by the buyer's --order-file. Every call is simulated first: nothing is sent
if the contract would refuse it, and its reason is printed.""",
)
add_party_commands(order, "merchant", SCRIPT)
MERCHANT = "the merchant"
DELIVERED = "ape run carrier {verb} --carrier {carrier} --order {orderId}"
add_calls(order, (
    Call("ship", ("escrow",), "ship", MERCHANT, "mark an order shipped",
         then="the carrier reports the delivery: " + DELIVERED.replace("{verb}", "delivered")),
    Call("assign-carrier", ("escrow",), "assignCarrier", MERCHANT, "name the order's carrier",
         then="the carrier reports the pickup: " + DELIVERED.replace("{verb}", "shipped")),
), default_signer=None, address="escrow")  # fmt: skip


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
    call = ("releaseItems", bits_of(items, s.terms.item_count, "--item")) if items else ("release",)
    report(s.send(*call, what="release"), "released", f"{SCRIPT} withdraw", s.asset)
