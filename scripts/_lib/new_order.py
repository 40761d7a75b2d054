"""What a buyer names when opening an escrow order — paid from the wallet (`ape run buyer open`)
or with credit (`ape run borrower draw`): the same options, deadlines and order file for both."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from app.domain.abi_types import from_hex, hex32
from app.domain.manifest import batch_item
from app.domain.orders import OrderFile, OrderTerms, text_hash, write_order_file
from app.domain.units import format_duration, format_moment, parse_duration, parse_moment
from app.domain.vocab import OrderStatus
from scripts._lib import chain
from scripts._lib.assets import Asset
from scripts._lib.calls import report
from scripts._lib.chain import Run, Stop
from scripts._lib.escrow import Escrow, read_order
from scripts._lib.registry import activate_unregistered, batch_manifest
from scripts._lib.signers import parse_address

DEFAULT_SHIP_BY = "7d"
DEFAULT_DELIVER_BY = "21d"
DEFAULT_DISPUTE_WINDOW = 3 * 86_400


def new_order_options(order_file_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--item-id, --ref, --ship-by, --deliver-by, --dispute-window, --salt, --manifest and
    --order-file."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        # Applied bottom-up: listed here in the order --help shows them.
        options = [
            click.option(
                "--item-id",
                "item_ids",
                multiple=True,
                metavar="0xID",
                help="A registry item of the merchant (repeatable, at most 32).",
            ),
            click.option(
                "--ref",
                "reference",
                help="The merchant's SKU or order reference (its keccak256 is recorded); "
                "required without --item-id.",
            ),
            click.option(
                "--ship-by",
                default=DEFAULT_SHIP_BY,
                show_default=True,
                help="Shipping deadline: a duration from now (7d) or a time "
                "(2026-12-01T18:00:00Z).",
            ),
            click.option(
                "--deliver-by",
                default=DEFAULT_DELIVER_BY,
                show_default=True,
                help="When a shipped order with no delivery report counts as delivered.",
            ),
            click.option(
                "--dispute-window",
                help="How long after delivery you may dispute (default 3d, kept within the "
                "admin's bounds).",
            ),
            click.option(
                "--salt", type=click.IntRange(0, 2**256 - 1), help="Makes the terms unique."
            ),
            click.option(
                "--manifest",
                "manifests",
                multiple=True,
                type=click.Path(dir_okay=False, path_type=Path),
                help="A batch manifest holding some --item-id: those without a record of their "
                "own are activated from it first (repeatable; anyone may).",
            ),
            click.option("--order-file", type=click.Path(path_type=Path), help=order_file_help),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


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
    """The terms of a new order from ``new_order_options``' values, and its order file (checked
    writable): all read before anything is sent."""
    ids = ordered_items(given["item_ids"], given["reference"])
    seller = parse_address(merchant, "--merchant")
    order_file = order_file_checked(given["order_file"])
    terms = new_terms(
        escrow.contract, buyer=run.me, merchant=seller, payer=payer, token=asset.token,
        amount=asset.parse(price, "--price"), ids=ids, reference=given["reference"],
        when=(given["ship_by"], given["deliver_by"], given["dispute_window"]), salt=given["salt"],
    )  # fmt: skip
    return terms, order_file


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
    """Activates the listed batch items, sends the order (``send``) with its file kept, and says
    what happened (amounts in ``asset``, the order's token), the deadlines and what comes next."""
    activate_listed(run, escrow, list(terms.item_ids), given["manifests"])
    receipt = open_with(run, escrow, terms, given["reference"], order_file, send)
    if receipt is None:
        chain.dry_run_report(f"would open order {terms.order_id}")
        return
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


def ordered_items(item_ids: tuple[str, ...], reference: str | None) -> list[str]:
    """The order's item ids (0x hex), before any chain call; the contract checks the rest."""
    ids = [hex32(chain.bytes32(item, "--item-id")) for item in item_ids]
    if not ids and not reference:
        raise Stop("name what is bought: --item-id (registry items) or --ref (a SKU)")
    return ids


def activate_listed(run: Run, escrow: Escrow, ids: list[str], manifests: tuple[Path, ...]) -> None:
    """Gives the batch items among ``ids`` that have no record of their own yet one, from their
    manifest's proof (``activateBatchItem``, one transaction each), so the order can hold them."""
    batches = [batch_manifest(path, "--manifest") for path in manifests]
    registry = escrow.registry() if batches else None
    for item_id in ids:
        for manifest in batches:
            entry = batch_item(manifest, from_hex(item_id))
            if entry is not None:
                activate_unregistered(run, registry, manifest, entry)
                break


def new_terms(
    escrow: Any,
    *,
    buyer: str,
    merchant: str,
    payer: str,
    token: str,
    amount: int,
    ids: list[str],
    when: tuple[str, str, str | None],
    reference: str | None,
    salt: int | None,
) -> OrderTerms:
    """The terms: deadlines from the options (without --dispute-window the default, kept within
    the admin's bounds), the current fee, a random salt unless given."""
    now = chain.now()
    low, high = (int(v) for v in escrow.disputeWindowBounds())
    window = min(max(DEFAULT_DISPUTE_WINDOW, low), high)
    if when[2] is not None:
        window = chain.parsed(parse_duration, when[2], "--dispute-window")
    return OrderTerms(
        buyer=buyer,
        merchant=merchant,
        payer=payer,
        token=token,
        amount=amount,
        ship_by=chain.parsed(lambda t: parse_moment(t, now), when[0], "--ship-by"),
        deliver_by=chain.parsed(lambda t: parse_moment(t, now), when[1], "--deliver-by"),
        dispute_window=window,
        fee_bps=int(escrow.feeBps()),
        order_ref=text_hash(reference) if reference else hex32(bytes(32)),
        salt=secrets.randbits(128) if salt is None else salt,
        item_ids=tuple(ids),
    )


def open_with(
    run: Run,
    escrow: Escrow,
    terms: OrderTerms,
    reference: str | None,
    order_file: Path | None,
    send: Callable[[], Any],
) -> Any:
    """Sends the order (``send``), its terms first written to ``order_file`` so that an
    interrupted run never loses them; the file goes again if the order was not opened."""
    from ape import chain as ape_chain

    record = OrderFile(
        chain_id=int(ape_chain.chain_id),
        escrow=escrow.address,
        order_id=terms.order_id,
        terms=terms,
        reference=reference,
    )
    if order_file is not None and not run.dry_run:
        write_order_file(order_file, record)
    try:
        receipt = send()
    except BaseException:
        opened = read_order(escrow, terms).status is not OrderStatus.NONE
        if order_file is not None and not run.dry_run and not opened:
            order_file.unlink(missing_ok=True)
        raise
    if order_file is not None and receipt is not None:
        update = {"opened_tx": str(receipt.txn_hash), "opened_block": int(receipt.block_number)}
        write_order_file(order_file, record.model_copy(update=update))
    return receipt


def order_file_checked(order_file: Path | None) -> Path | None:
    """An order file is new: checked writable before anything is sent."""
    return None if order_file is None else chain.writable(order_file, "--order-file", new=True)
