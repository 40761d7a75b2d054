"""What a buyer names when opening an escrow order — paid from the wallet (`ape run buyer open`)
or with credit (`ape run borrower draw`): the same options, checks and deadlines for both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from app.domain.abi_types import hex32
from scripts._lib.escrow_cli import parse_bytes32
from scripts._lib.orders import MAX_ITEMS
from scripts._lib.units import parse_duration, parse_moment

DEFAULT_SHIP_BY = "7d"
DEFAULT_DELIVER_BY = "21d"
DEFAULT_DISPUTE_WINDOW = 3 * 86_400


def new_order_options(order_file_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--item-id, --ref, --ship-by, --deliver-by, --dispute-window, --salt and --order-file."""

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
                "--order-file",
                type=click.Path(dir_okay=False, path_type=Path),
                help=order_file_help,
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def ordered_items(
    item_ids: tuple[str, ...], reference: str | None, order_file: Path | None
) -> list[str]:
    """The order's item ids (0x hex), checked with what names the order, before any chain call."""
    ids = [hex32(parse_bytes32(item, "--item-id")) for item in item_ids]
    if not ids and not reference:
        raise click.UsageError("name what is bought: --item-id (registry items) or --ref (a SKU)")
    if len(set(ids)) != len(ids):
        raise click.BadParameter("an item is named twice", param_hint="--item-id")
    if len(ids) > MAX_ITEMS:
        raise click.BadParameter(f"at most {MAX_ITEMS} items per order", param_hint="--item-id")
    if order_file is not None and order_file.exists():
        raise click.BadParameter(
            f"{order_file} exists; order files are never overwritten", param_hint="--order-file"
        )
    return ids


@dataclass(frozen=True)
class Schedule:
    ship_by: int
    deliver_by: int
    dispute_window: int


def order_schedule(
    ship_by: str,
    deliver_by: str,
    dispute_window: str | None,
    now: int,
    window_bounds: tuple[int, int],
) -> Schedule:
    """Deadlines from the options; without --dispute-window, the default kept within bounds."""
    low, high = window_bounds
    window = min(max(DEFAULT_DISPUTE_WINDOW, low), high)
    if dispute_window is not None:
        window = _parsed(parse_duration, "--dispute-window", dispute_window)
    return Schedule(
        ship_by=_parsed(lambda text: parse_moment(text, now), "--ship-by", ship_by),
        deliver_by=_parsed(lambda text: parse_moment(text, now), "--deliver-by", deliver_by),
        dispute_window=window,
    )


def _parsed(parse: Callable[[str], int], option: str, text: str) -> int:
    try:
        return parse(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None
