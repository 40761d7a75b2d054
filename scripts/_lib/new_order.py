"""What a buyer names when opening an escrow order — paid from the wallet (`ape run buyer open`)
or with credit (`ape run borrower draw`): the same options, deadlines and order file for both."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from eth_utils.crypto import keccak

from app.domain.abi_types import from_hex
from app.domain.manifest import batch_item
from app.domain.orders import OrderFile, OrderTerms, write_order_file
from app.domain.units import format_duration, format_moment, parse_duration, parse_moment
from app.domain.vocab import OrderStatus
from scripts._lib import chain
from scripts._lib.assets import Asset
from scripts._lib.calls import report
from scripts._lib.chain import Run, Stop, parse_address
from scripts._lib.escrow import FILE, Escrow, read_order
from scripts._lib.registry import activate_unregistered, batch_manifest

DEFAULT_DISPUTE_WINDOW = 3 * 86_400
ITEM_ID = "A registry item of the merchant (repeatable, at most 32)."
REF = "The merchant's SKU or order reference (needed without --item-id)."
SHIP_BY = "Ship by: a duration from now (7d) or a time (2026-12-01T18:00:00Z)."
DELIVER_BY = "When a shipped order with no delivery report counts as delivered."
WINDOW = "How long after delivery you may dispute (default 3d, within the admin's bounds)."
MANIFEST = "A batch manifest of some --item-id: they are activated from it first (repeatable)."


def new_order_options(order_file_help: str) -> chain.Decorator:
    """--item-id, --ref, --ship-by, --deliver-by, --dispute-window, --salt, --manifest and
    --order-file, in the order --help shows them."""
    return chain.stacked(
        click.option("--item-id", "item_ids", multiple=True, metavar="0xID", help=ITEM_ID),
        click.option("--ref", "reference", help=REF),
        click.option("--ship-by", default="7d", show_default=True, help=SHIP_BY),
        click.option("--deliver-by", default="21d", show_default=True, help=DELIVER_BY),
        click.option("--dispute-window", help=WINDOW),
        click.option("--salt", type=click.IntRange(0, 2**256 - 1), help="Makes terms unique."),
        click.option("--manifest", "manifests", multiple=True, type=FILE, help=MANIFEST),
        click.option("--order-file", type=click.Path(path_type=Path), help=order_file_help),
    )


def new_order(
    run: Run,
    escrow: Escrow,
    given: dict[str, Any],
    *,
    merchant: str,
    payer: str,
    asset: Asset,
    price: str,
) -> tuple[OrderTerms, Path | None]:
    """The terms of a new order from ``new_order_options``' values, and its order file (a new
    one, checked writable): all read before anything is sent. Deadlines count from the chain's
    time; without --dispute-window the default, kept within the admin's bounds; the current
    fee; a random salt unless given. The contract checks the rest."""
    ids = [chain.bytes32(item, "--item-id") for item in given["item_ids"]]
    reference, order_file, now = given["reference"], given["order_file"], chain.now()
    if not ids and not reference:
        raise Stop("name what is bought: --item-id (registry items) or --ref (a SKU)")
    seller, amount = parse_address(merchant, "--merchant"), asset.parse(price, "--price")
    if order_file is not None:
        chain.writable(order_file, "--order-file", new=True)
    ship_by, deliver_by = (
        chain.parsed(lambda t: parse_moment(t, now), given[key], f"--{key.replace('_', '-')}")
        for key in ("ship_by", "deliver_by")
    )
    low, high = (int(v) for v in escrow.contract.disputeWindowBounds())
    window = min(max(DEFAULT_DISPUTE_WINDOW, low), high)
    if given["dispute_window"] is not None:
        window = chain.parsed(parse_duration, given["dispute_window"], "--dispute-window")
    ref = keccak(reference.encode("utf-8")) if reference else bytes(32)
    salt = secrets.randbits(128) if given["salt"] is None else given["salt"]
    fee = int(escrow.contract.feeBps())
    abi = (run.me, seller, payer, asset.token, amount, ship_by, deliver_by, window, fee, ref)
    return OrderTerms.from_abi([*abi, salt, ids]), order_file


def place(
    run: Run,
    escrow: Escrow,
    terms: OrderTerms,
    given: dict[str, Any],
    order_file: Path | None,
    send: Callable[[], Any],
    what: str,
    asset: Asset,
) -> None:
    """Gives the listed batch items without a record of their own one from their manifest's
    proof (``activateBatchItem``, a transaction each) so the order can hold them; sends the
    order (``send``), its terms first written to ``order_file`` so that an interrupted run never
    loses them (the file goes again if the order was not opened); says what happened (amounts
    in ``asset``, the order's token), the deadlines and what comes next."""
    from ape import chain as ape_chain

    batches = [batch_manifest(path, "--manifest") for path in given["manifests"]]
    for item_id in terms.item_ids:
        for manifest in batches:
            entry = batch_item(manifest, from_hex(item_id))
            if entry is not None:
                activate_unregistered(run, escrow.registry(), manifest, entry)
                break
    record = OrderFile(
        chain_id=int(ape_chain.chain_id),
        escrow=escrow.address,
        order_id=terms.order_id,
        terms=terms,
        reference=given["reference"],
    )
    kept = None if run.dry_run else order_file
    if kept is not None:
        write_order_file(kept, record)
    try:
        receipt = send()
    except BaseException:
        if kept is not None and read_order(escrow, terms).status is OrderStatus.NONE:
            kept.unlink(missing_ok=True)
        raise
    if receipt is None:
        chain.dry_run_report(f"would open order {terms.order_id}")
        return
    if kept is not None:
        update = {"opened_tx": str(receipt.txn_hash), "opened_block": int(receipt.block_number)}
        write_order_file(kept, record.model_copy(update=update))
    now = chain.now()
    report(receipt, what, None, asset)
    click.echo(
        f"ship by {format_moment(terms.ship_by, now)}; deliver by "
        f"{format_moment(terms.deliver_by, now)}; dispute window "
        f"{format_duration(terms.dispute_window)}"
    )
    flag = f"--order-file {order_file}" if order_file else f"--order {terms.order_id}"
    if order_file is not None:
        click.echo(f"order file {order_file}")
    click.echo(f"next: the merchant ships it; follow it with ape run buyer status {flag}")
