"""`ape run buyer ...`: open and pay escrow orders, confirm receipt, cancel, dispute, settle,
take recall refunds, withdraw, and see where an order stands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.domain.abi_types import hex32
from app.domain.orders import OrderTerms
from scripts._lib import chain, escrow
from scripts._lib.assets import asset_of, parse_token
from scripts._lib.calls import Call, add_calls, report
from scripts._lib.chain import Run, Stop
from scripts._lib.escrow import bits_of, item_verdicts, order_options, recalled_items, session
from scripts._lib.party_commands import add_address_command, add_party_commands


@click.group(
    help="""Buyer operations on the OrderEscrow, which holds your payment until the goods arrive.
Every command after `open` names the order with --order-file FILE (written by `open`) or --order
0xID and simulates its call first: a refusal sends nothing and prints the contract's reason.
More: docs/scripts.md#buyer."""
)
def cli() -> None:
    pass


add_party_commands(cli, "buyer", "ape run buyer")
add_address_command(cli)
BUYER = "The buyer"
add_calls(cli, (
    Call("dispute", ("escrow",), "dispute", "the buyer", "dispute in the window, with evidence",
         then="the merchant answers (evidence), or offer a split: ape run buyer offer {order} "
         "--buyer-bps N"),
), default_signer=None, address="escrow")  # fmt: skip
RECALLED_ITEM = "A recalled or flagged item: 0-based index or id (repeatable; default: all)."
OPEN_GAS = 400_000  # above what `open` of 32 items uses (78k for one, 8k more each: BENCHMARKS.md)


@escrow.command(cli, "open", short_help="open an order and pay it", signer=BUYER)
@click.option("--merchant", required=True, help="The merchant's address (or TEST::N).")
@click.option("--price", required=True, help="In whole tokens: 0.25 (ETH), 19.99 (stablecoin).")
@click.option("--token", default="ETH", show_default=True, help="ETH or an ERC-20 address.")
@escrow.new_order_options("Write the order's terms here (a new file), for later commands.")
def open_order(run: Run, merchant: str, price: str, token: str, **given: Any) -> None:
    """Open an order with --merchant for its registry items (--item-id) or an off-registry SKU
    (--ref), and pay it in full (an ERC-20 is approved first: two transactions). Prints the
    order id; --order-file keeps the terms for later commands. More: docs/scripts.md#buyer-open."""
    from ape import chain as ape_chain

    asset = asset_of(parse_token(token))
    esc = escrow.open_escrow(run)
    terms, order_file = escrow.new_order(
        run, esc, given, merchant=merchant, payer=run.me, asset=asset, price=price
    )
    # A node refuses a transaction it cannot charge for before the contract is asked.
    need = terms.amount + OPEN_GAS * int(ape_chain.provider.gas_price)
    if asset.is_eth and (balance := asset.balance_of(run.me)) < need:
        raise Stop(
            f"{run.me} holds {asset.fmt(balance)}, less than the price {asset.fmt(terms.amount)} "
            f"and its gas ({asset.fmt(need)}); nothing was sent"
        )

    def send() -> Any:
        if not asset.is_eth:
            asset.allow(run, esc.address, terms.amount, "the price")
        value = terms.amount if asset.is_eth else 0
        return chain.send(run, esc.contract.open, terms.as_abi(), value=value, what="the order")

    opened = f"opened order {terms.order_id}: {asset.fmt(terms.amount)} escrowed"
    escrow.place(run, esc, terms, given, order_file, send, opened, asset)


@escrow.command(cli, short_help="confirm receipt: pay the merchant now", signer=BUYER)
@order_options
@escrow.items_option("Confirm only these items (0-based, repeatable); the rest stay escrowed.")
def confirm(
    run: Run, order_file: Path | None, order_id: str | None, items: tuple[int, ...]
) -> None:
    """Confirm receipt: what is still escrowed (or the --item shares) goes to the merchant at
    once, less the platform fee, and the items are recorded as sold to you in the registry."""
    s = session(run, order_file, order_id)
    bits = bits_of(items, s.terms.item_count, "--item")
    receipt = s.send(*(("releaseItems", bits) if items else ("confirmReceipt",)), what="confirm")
    then = "the merchant collects it: ape run merchant order withdraw"
    report(receipt, "confirmed", then, s.asset)


@escrow.command(
    cli, "refund-recalled", short_help="refund recalled or flagged items (anyone may)", signer=BUYER
)
@order_options
@click.option("--item", "items", multiple=True, metavar="INDEX|0xID", help=RECALLED_ITEM)
def refund_recalled(
    run: Run, order_file: Path | None, order_id: str | None, items: tuple[str, ...]
) -> None:
    """Refund the payer the share of each open item of the order that the registry reads
    recalled or flagged; the rest of the order goes on. Anyone may send it (and pays the gas)."""
    s = session(run, order_file, order_id)
    if items:
        bits = bits_of([_item_index(s.terms, item) for item in items], s.terms.item_count, "--item")
    else:
        verdicts = item_verdicts(s.escrow, s.terms)
        bits = recalled_items(s.view, verdicts)
        if not bits:
            shown = ", ".join(f"{i} {v.name.lower()}" for i, v in enumerate(verdicts))
            raise Stop(
                f"no open item of order {s.view.order_id} reads recalled or flagged "
                f"({shown or 'a SKU order has no registry items'}); nothing was sent"
            )
    receipt = s.send("refundRecalled", bits, what="refund-recalled")
    then = "the payer collects it: ape run buyer withdraw"
    report(receipt, "refunded recalled items", then, s.asset)


def _item_index(terms: OrderTerms, text: str) -> int:
    """An item named by its index in the order or by its id."""
    if text.strip().isdigit():
        return int(text)
    item_id = hex32(chain.bytes32(text, "--item"))
    if item_id not in terms.item_ids:
        raise Stop(f"--item: {item_id} is not an item of the order")
    return terms.item_ids.index(item_id)
