"""Click pieces shared by the escrow's command-line scripts: options that name the escrow, the
order and hashed texts (evidence, tracking, rulings), the session a command works in, and what a
receipt reports. The commands both parties have are in ``party_commands.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from eth_utils.crypto import keccak

from app.domain.abi_types import hex32
from scripts._lib import escrow as ops
from scripts._lib.options import deployments_dir_option
from scripts._lib.orders import ETH
from scripts._lib.signers import (
    parse_address,
    resolve_account,
    signer_option,
)

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
BPS_TYPE = click.IntRange(0, ops.BPS)


# ---------------------------------------------------------------------------------------- options


def escrow_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--escrow, --deployments-dir and --account."""
    command = deployments_dir_option(command)
    command = click.option(
        "--escrow",
        "escrow_address",
        help="OrderEscrow address (default: the order file's, else the deployment record's).",
    )(command)
    with_account: Callable[..., Any] = signer_option()(command)
    return with_account


def order_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--order-file or --order: which order."""
    command = click.option(
        "--order",
        "order_id",
        metavar="0xID",
        help="The order id; its terms are read from its OrderOpened event.",
    )(command)
    command = click.option(
        "--order-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The order file `ape run buyer open --order-file` wrote.",
    )(command)
    return command


def hashed_text_options(name: str, what: str) -> Decorator:
    """--NAME TEXT, --NAME-file FILE or --NAME-hash 0x..: recorded as keccak256."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        command = click.option(f"--{name}-hash", help=f"The {what} hash itself (0x + 64 hex).")(
            command
        )
        command = click.option(
            f"--{name}-file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help=f"A file; keccak256 of its bytes is recorded as the {what}.",
        )(command)
        return click.option(f"--{name}", help=f"Text; its keccak256 is recorded as the {what}.")(
            command
        )

    return decorate


def hashed_text(name: str, text: str | None, file: Path | None, digest: str | None) -> bytes:
    given = [v for v in (text, file, digest) if v is not None]
    if len(given) != 1:
        raise click.UsageError(f"give exactly one of --{name}, --{name}-file, --{name}-hash")
    if text is not None:
        return keccak(text.encode("utf-8"))
    if file is not None:
        return keccak(file.read_bytes())
    return parse_bytes32(str(digest), f"--{name}-hash")


def parse_bytes32(value: str, what: str) -> bytes:
    text = value.strip().removeprefix("0x")
    if len(text) != 64:
        raise click.BadParameter("must be 0x followed by 64 hex digits", param_hint=what)
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise click.BadParameter("must be 0x followed by 64 hex digits", param_hint=what) from None


def parse_token(value: str) -> str:
    """``ETH`` (or the zero address) or an ERC-20 address."""
    if value.strip().upper() == "ETH":
        return ETH
    return parse_address(value, "--token")


# ---------------------------------------------------------------------------------------- session


@dataclass(frozen=True)
class Session:
    """An escrow, a signer and an order, read from the chain."""

    escrow: ops.Escrow
    account: Any
    order: ops.LoadedOrder
    view: ops.OrderView

    @property
    def address(self) -> str:
        return str(self.account.address)


def connect(
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None = None,
) -> tuple[ops.Escrow, Any]:
    """The escrow: --escrow, else the order file's, else the deployment record's."""
    data = ops.load_order_file(order_file) if order_file is not None else None
    address = parse_address(escrow_address, "--escrow") if escrow_address else None
    if address is None and data is not None:
        address = data.escrow
    return ops.open_escrow(address, deployments_dir), data


def session(
    network: Any,
    account: Any,
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None,
    order_id: str | None,
    *,
    default_test_index: int | None = None,
) -> Session:
    signer = resolve_account(account, network, default_test_index=default_test_index)
    escrow, data = connect(escrow_address, deployments_dir, order_file)
    order = ops.find_order(escrow, data, order_file, parse_order_id(order_id))
    return Session(escrow, signer, order, ops.load_view(escrow, order))


def parse_order_id(value: str | None) -> str | None:
    return None if value is None else hex32(parse_bytes32(value, "--order"))


def order_flag(order: ops.LoadedOrder) -> str:
    """How later commands name this order: its file if it has one, else its id."""
    if order.path is not None:
        return f"--order-file {order.path}"
    return f"--order {order.order_id}"


def done(what: str, receipt: Any) -> None:
    click.echo(f"{what} in tx {receipt.txn_hash} (block {receipt.block_number})")


def report_release(escrow: ops.Escrow, receipt: Any, asset: ops.Asset) -> None:
    """What a release paid, and the registry's sale record, from the receipt's events."""
    contract = escrow.contract
    for event in receipt.events.filter(contract.OrderReleased):
        done(
            f"released order {hex32(event.orderId)} (items {ops.bits_text(event.items)}): "
            f"{asset.fmt(event.merchantAmount)} credited to the merchant, "
            f"fee {asset.fmt(event.feeAmount)}",
            receipt,
        )
    for event in receipt.events.filter(contract.SaleRecorded):
        click.echo(
            f"registry: {event.itemCount} item(s) recorded as sold to the buyer "
            f"(custody event ids from {event.firstEventId})"
        )
    for event in receipt.events.filter(contract.SaleNotRecorded):
        click.echo(f"registry refused the sale record ({hex32(event.reason)}); the payout stands")
