"""Click pieces of `ape run merchant`'s registry commands: the options that name the registry,
file errors, progress bars, dry-run reports, and one simulated call sent (or only estimated)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from scripts._lib import registry as ops
from scripts._lib.inputs import InputFileError
from scripts._lib.options import deployments_dir_option
from scripts._lib.signers import parse_address, signer_option


def registry_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--registry, --deployments-dir and --account."""
    command = deployments_dir_option(command)
    command = click.option("--registry", help="ProductRegistry address (overrides the record).")(
        command
    )
    with_account: Callable[..., Any] = signer_option()(command)
    return with_account


def dry_run_option(command: Callable[..., Any]) -> Callable[..., Any]:
    with_flag: Callable[..., Any] = click.option(
        "--dry-run", is_flag=True, help="Check and estimate gas; send nothing."
    )(command)
    return with_flag


def open_registry(registry: str | None, deployments_dir: Path | None) -> ops.Registry:
    address = parse_address(registry, "--registry") if registry else None
    return ops.open_registry(address, deployments_dir)


def bad_file(exc: InputFileError, hint: str = "INPUT_FILE") -> click.BadParameter:
    return click.BadParameter(str(exc), param_hint=hint)


def progress(total: int, label: str) -> Any:
    return click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)


def report_estimate(result: ops.RunResult, what: str) -> None:
    gas = sum(result.gas_estimates)
    price = ops.gas_price()
    click.echo(
        f"dry run: {what} in {len(result.gas_estimates)} transaction(s); estimated gas {gas} "
        f"(~{gas * price / 1e18:.6f} ETH at {price / 1e9:.2f} gwei); nothing was sent"
    )


def send_one(account: Any, method: Any, args: list[Any], what: str, *, dry_run: bool) -> Any:
    """Simulates the call (a refusal stops the run with the contract's error explained), then
    sends it and returns the receipt; with ``dry_run`` reports the gas estimate instead and
    returns None."""
    ops.refuse_if(account, method, args, what)
    if dry_run:
        report_estimate(ops.RunResult(gas_estimates=[ops.estimate(account, method, args)]), what)
        return None
    return method(*args, sender=account)
