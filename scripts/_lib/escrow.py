"""Escrow orders on a deployed OrderEscrow: the order a command names (its file or its id), its
state on chain, the inputs naming items and texts, and a new order's options, terms and sending,
the same for one paid from the wallet (`ape run buyer open`) or with credit (`borrower draw`)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import click
from eth_utils.crypto import keccak

from app.domain.abi_types import from_hex, hex32
from app.domain.escrow_moves import releasable_at
from app.domain.manifest import batch_item
from app.domain.orders import OrderFile, OrderTerms, read_order_file, write_order_file
from app.domain.units import format_duration, format_moment, parse_duration, parse_moment
from app.domain.vocab import OrderStatus, Verdict
from scripts._lib import chain
from scripts._lib.assets import Asset, asset_of
from scripts._lib.chain import Run, Stop, parse_address
from scripts._lib.registry import activate_unregistered, batch_manifest

FILE = click.Path(dir_okay=False, path_type=Path)
DEFAULT_DISPUTE_WINDOW = 3 * 86_400
ITEM_ID = "A registry item of the merchant (repeatable, at most 32)."
REF = "The merchant's SKU or order reference (needed without --item-id)."
SHIP_BY = "Ship by: a duration from now (7d) or a time (2026-12-01T18:00:00Z)."
DELIVER_BY = "When a shipped order with no delivery report counts as delivered."
WINDOW = "How long after delivery you may dispute (default 3d, within the admin's bounds)."
MANIFEST = "A batch manifest of some --item-id: they are activated from it first (repeatable)."


@dataclass(frozen=True)
class Escrow:
    contract: Any
    from_block: int

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def registry(self) -> Any:
        """The ProductRegistry this escrow holds items in and records sales in."""
        from ape import project

        return project.ProductRegistry.at(self.contract.registry())

    def logs(self, event: str, topics: dict[str, Any] | None = None, start: int = 0) -> list[Any]:
        return chain.logs(self.contract, event, topics, max(start, self.from_block))


def open_escrow(run: Run, address: str | None = None) -> Escrow:
    """--escrow, else ``address`` (an order file's), else the deployment record's escrow."""
    contract = run.contract("OrderEscrow", run.address or address)
    return Escrow(contract, run.record_block("OrderEscrow", str(contract.address)))


# A command on the escrow: ``--escrow`` overrides the deployment record's.
command = partial(chain.command, address="escrow")


def order_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--order-file or --order: which order."""
    help_id = "The order id; terms from its OrderOpened event."
    command = click.option("--order", "order_id", metavar="0xID", help=help_id)(command)
    help_file = "The order file `ape run buyer open --order-file` wrote."
    return click.option("--order-file", type=FILE, help=help_file)(command)


def items_option(help_text: str) -> chain.Decorator:
    """--item INDEX (repeatable): some of the order's items, by 0-based index."""
    return click.option("--item", "items", type=int, multiple=True, metavar="INDEX", help=help_text)


@dataclass(frozen=True)
class OrderView:
    """An order's terms and, read at ``now``, its ``IOrderEscrow.Order`` and pending ``Offer``."""

    terms: OrderTerms
    state: Any
    offer: Any | None
    escrowed: int
    now: int

    @property
    def order_id(self) -> str:
        return self.terms.order_id

    @property
    def status(self) -> OrderStatus:
        return OrderStatus(int(self.state.status))

    @property
    def releasable_at(self) -> int:
        """When the dispute window closes (shown to people; the contract decides)."""
        terms = self.terms
        return releasable_at(
            self.status, int(self.state.deliveredAt), terms.deliver_by, terms.dispute_window
        )


def read_order(escrow: Escrow, terms: OrderTerms, now: int | None = None) -> OrderView:
    contract, order_id = escrow.contract, terms.order_id
    offer, escrowed = contract.offerOf(order_id), int(contract.escrowedOf(terms.as_abi()))
    now = chain.now() if now is None else now
    return OrderView(
        terms, contract.orderOf(order_id), offer if offer.exists else None, escrowed, now
    )


def terms_from_event(escrow: Escrow, order_id: str) -> tuple[OrderTerms, Any]:
    """The terms an order was opened with, and its ``OrderOpened`` event."""
    found = escrow.logs("OrderOpened", {"orderId": order_id})
    if not found:
        raise Stop(f"--order: no order {order_id} was opened on escrow {escrow.address}")
    return OrderTerms.from_abi(list(found[0].terms)), found[0]


@dataclass(frozen=True)
class Session:
    """A command's escrow, signer and order, read from the chain."""

    run: Run
    escrow: Escrow
    view: OrderView
    flag: str  # how later commands name the order

    @property
    def terms(self) -> OrderTerms:
        return self.view.terms

    @property
    def asset(self) -> Asset:
        return asset_of(self.terms.token)

    def send(self, method: str, *args: Any, what: str = "the call") -> Any:
        """The escrow's ``method`` on this order's terms, simulated then sent."""
        call = getattr(self.escrow.contract, method)
        return chain.send(self.run, call, self.terms.as_abi(), *args, what=what)


def session(run: Run, order_file: Path | None, order_id: str | None) -> Session:
    """The order named by --order-file or --order: exactly one, on this chain and escrow."""
    from ape import chain as ape_chain

    if (order_file is None) == (order_id is None):
        raise Stop("name the order: --order-file FILE or --order 0xID")
    if order_file is not None:
        try:
            data = read_order_file(order_file)
        except ValueError as exc:
            raise Stop(f"--order-file: {exc}") from None
        if data.chain_id != int(ape_chain.chain_id):
            raise Stop(f"{order_file} is an order on chain {data.chain_id}, not this chain")
        escrow = open_escrow(run, data.escrow)
        if data.escrow != escrow.address:
            raise Stop(f"{order_file} is an order on escrow {data.escrow}, not {escrow.address}")
        terms, flag = data.terms, f"--order-file {order_file}"
    else:
        escrow = open_escrow(run)
        oid = hex32(chain.bytes32(str(order_id), "--order"))
        terms, flag = terms_from_event(escrow, oid)[0], f"--order {oid}"
    view = read_order(escrow, terms)
    if view.status is OrderStatus.NONE:
        raise Stop(f"order {terms.order_id} was never opened on {escrow.address}")
    return Session(run, escrow, view, flag)


def bits_of(indices: Sequence[int], count: int, option: str) -> int:
    """A bitmap of 0-based item indices, within the order's item count."""
    bits = 0
    for index in indices:
        if not 0 <= index < count:
            raise Stop(f"{option}: item {index} is not an item of the order (0-{count - 1})")
        bits |= 1 << index
    return bits


def item_verdicts(escrow: Escrow, terms: OrderTerms) -> list[Verdict]:
    if not terms.item_ids:
        return []
    registry = escrow.registry()
    return [Verdict(int(registry.verify(item))) for item in terms.item_ids]


def recalled_items(view: OrderView, verdicts: Sequence[Verdict]) -> int:
    """Bitmap of the order's open items the registry reads recalled or flagged."""
    bits = sum(1 << i for i, v in enumerate(verdicts) if v in (Verdict.RECALLED, Verdict.FLAGGED))
    return bits & ~int(view.state.releasedItems | view.state.refundedItems)


def hashed_text_options(name: str, what: str) -> chain.Decorator:
    """--NAME TEXT, --NAME-file FILE or --NAME-hash 0x..: sent as keccak256, kept here."""
    return chain.stacked(
        click.option(
            f"--{name}", help=f"The {what}: its keccak256 is recorded, the text stays here."
        ),
        click.option(f"--{name}-file", type=FILE, help="Or a file of it."),
        click.option(f"--{name}-hash", help="Or its keccak256 itself (0x + 64 hex)."),
    )


def hashed_text(name: str, text: str | None, file: Path | None, digest: str | None) -> bytes:
    if sum(v is not None for v in (text, file, digest)) != 1:
        raise Stop(f"give exactly one of --{name}, --{name}-file, --{name}-hash")
    if text is not None:
        return keccak(text.encode("utf-8"))
    if file is not None:
        if not file.is_file():
            raise Stop(f"--{name}-file: no such file: {file}")
        return keccak(file.read_bytes())
    return chain.bytes32(str(digest), f"--{name}-hash")


def new_order_options(order_file_help: str) -> chain.Decorator:
    """What a new order names: --item-id, --ref, the deadlines, --salt, --manifest, --order-file."""
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
    """A new order's terms from ``new_order_options``' values (deadlines from the chain's time, the
    default window within the admin's bounds, the current fee, a random salt unless given) and its
    new order file, checked writable: all before anything is sent; the contract checks the rest."""
    ids = [chain.bytes32(item, "--item-id") for item in given["item_ids"]]
    reference, order_file, now = given["reference"], given["order_file"], chain.now()
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
    """Activates the listed batch items that have no record from their manifests, then sends the
    order (``send``), its terms written to ``order_file`` first (and removed if the order was not
    opened); says what happened (amounts in ``asset``), the deadlines and what comes next."""
    from ape import chain as ape_chain

    from scripts._lib.calls import report  # calls reads orders with this module

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
