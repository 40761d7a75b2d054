"""`ape run merchant register` and `activate`: a merchant's items into the registry, singly
in chunks or as one Merkle batch, and batch items given records of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from app.domain.deployments import write_json
from scripts._lib import batches
from scripts._lib import registry as ops
from scripts._lib.escrow_cli import parse_bytes32
from scripts._lib.inputs import InputFileError, ItemEntry, load_items
from scripts._lib.journal import Journal, default_journal_path
from scripts._lib.manifest import build_manifest, read_manifest, singles_manifest
from scripts._lib.registry_cli import (
    bad_file,
    dry_run_option,
    open_registry,
    progress,
    registry_options,
    report_estimate,
)
from scripts._lib.signers import resolve_account


@click.command(cls=ConnectedProviderCommand, short_help="register items from a CSV/JSON file")
@registry_options
@click.argument("input_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--batch", is_flag=True, help="Register all rows as one Merkle batch (registerBatch)."
)
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the manifest goes (with --batch default <input>.manifest.json; without "
    "--batch it is written only when asked: the items' ids, hashes and URIs).",
)
@click.option("--batch-uri", default="", help="With --batch: where the manifest is published.")
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 1000),
    default=ops.DEFAULT_CHUNK_SIZE,
    show_default=True,
    help="Items per registerItems transaction.",
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Journal file (default: <input>.register.journal.json).",
)
@dry_run_option
def register(
    network: Any,
    account: Any,
    registry: str | None,
    deployments_dir: Path | None,
    input_file: Path,
    batch: bool,
    manifest: Path | None,
    batch_uri: str,
    chunk_size: int,
    journal: Path | None,
    dry_run: bool,
) -> None:
    """Register the items of INPUT_FILE (.csv or .json) for the --account merchant.

    \b
    Columns / keys:
      sku,serial   or   gtin,serial        the item (GS1 serials: 1-20 chars of set 82)
      metadata     a JSON object (in CSV, JSON text)   or   metadata_file (a JSON file path)
      metadata_uri where the metadata is published
    metadataHash = keccak256 of the canonical JSON (RFC 8785) of the metadata.

    Each item is sent as the registry's ItemKey (SKU or GTIN, and serial): the registry
    derives its id, a SKU's under your address, a GTIN's only under a GS1 company prefix a
    verifier granted you (`grant-prefix`). The ids are printed, one per row.

    The whole file is validated first; then the chain is checked: the merchant must be
    active, no id may be registered by anyone else, and each transaction is simulated (a
    refusal is explained from the registry's error). Items this merchant already registered
    with the same metadata are skipped, so an interrupted run can simply be started again.
    """
    merchant = resolve_account(account, network)
    try:
        entries = load_items(input_file, str(merchant.address))
    except InputFileError as exc:
        raise bad_file(exc) from None
    reg = open_registry(registry, deployments_dir)
    from ape import chain

    command = "register-batch" if batch else "register"
    log = Journal.open(
        journal or default_journal_path(input_file, command),
        command,
        int(chain.chain_id),
        reg.address,
        str(merchant.address),
    )
    if not dry_run:
        ops.settle_pending(log, click.echo)
    if batch:
        _register_batch(reg, merchant, entries, input_file, manifest, batch_uri, log, dry_run)
        return

    plan = ops.plan_items(reg, str(merchant.address), entries)
    if plan.done:
        click.echo(f"{len(plan.done)} item(s) already registered by you: skipped")
    if not plan.to_send:
        click.echo("nothing to register")
    else:
        _send_items(reg, merchant, plan, chunk_size, log, dry_run)
    if not dry_run:
        for entry in entries:
            click.echo(f"  item 0x{entry.item_id.hex()}  {entry.label}")
    if manifest is not None and not dry_run:
        data = singles_manifest(
            entries,
            chain_id=int(chain.chain_id),
            registry=reg.address,
            merchant=str(merchant.address),
        )
        write_json(manifest, data)
        click.echo(f"manifest {manifest}")


def _send_items(
    reg: ops.Registry,
    merchant: Any,
    plan: ops.ItemPlan,
    chunk_size: int,
    log: Journal,
    dry_run: bool,
) -> None:
    with progress(len(plan.to_send), "registering") as bar:
        result = ops.register_items(
            reg,
            merchant,
            plan,
            chunk_size=chunk_size,
            journal=log,
            dry_run=dry_run,
            on_chunk=bar.update,
        )
    if dry_run:
        report_estimate(result, f"would register {len(plan.to_send)} item(s)")
        return
    click.echo(f"registered {result.sent} item(s) in {len(result.receipts)} transaction(s)")
    for tx_hash in result.tx_hashes:
        click.echo(f"  tx {tx_hash}")


def _register_batch(
    reg: ops.Registry,
    merchant: Any,
    entries: list[ItemEntry],
    input_file: Path,
    manifest_path: Path | None,
    batch_uri: str,
    log: Journal,
    dry_run: bool,
) -> None:
    from ape import chain

    manifest = build_manifest(
        entries, chain_id=int(chain.chain_id), registry=reg.address, merchant=str(merchant.address)
    )
    root = "0x" + manifest.root.hex()
    if ops.plan_batch(reg, str(merchant.address), entries, manifest.root):
        click.echo(f"batch {root} is already registered by you: nothing to send")
    elif dry_run:
        result = ops.register_batch(reg, merchant, manifest, batch_uri, dry_run=True)
        report_estimate(result, f"would register a batch of {manifest.item_count} item(s)")
        return
    else:
        result = ops.register_batch(reg, merchant, manifest, batch_uri, journal=log)
        click.echo(
            f"registered batch {root} of {manifest.item_count} item(s) in tx {result.tx_hashes[0]}"
        )
    target = manifest_path or input_file.with_name(f"{input_file.name}.manifest.json")
    write_json(target, manifest.data)
    click.echo(f"manifest {target} (metadataHash 0x{manifest.metadata_hash.hex()})")


@click.command(cls=ConnectedProviderCommand, short_help="activate batch items from a manifest")
@registry_options
@click.argument("manifest_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--item",
    "items",
    multiple=True,
    metavar="0xID",
    help="Activate only this item of the manifest (repeatable; default: every item).",
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Journal file (default: <manifest>.activate.journal.json).",
)
@dry_run_option
def activate(
    network: Any,
    account: Any,
    registry: str | None,
    deployments_dir: Path | None,
    manifest_file: Path,
    items: tuple[str, ...],
    journal: Path | None,
    dry_run: bool,
) -> None:
    """Give the items of a batch MANIFEST_FILE (written by `register --batch`) records of their
    own, so that custody events, recalls and escrow orders can name them: each is proven by its
    key (SKU or GTIN, and serial), metadata hash and Merkle proof from the manifest
    (`activateBatchItem`, one transaction per item). Anyone may send them (--account pays the
    gas); the registry derives each id under the batch's merchant, so a batch holds only its
    merchant's own ids. Items already activated are skipped: an interrupted run simply starts
    again. Each transaction is simulated first; a refusal is explained from the registry's
    error (e.g. a GTIN whose prefix was never granted to the batch's merchant)."""
    signer = resolve_account(account, network)
    try:
        manifest = read_manifest(manifest_file)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="MANIFEST_FILE") from None
    if not manifest.get("root"):
        raise click.BadParameter(
            f"{manifest_file} is not a batch manifest (no root)", param_hint="MANIFEST_FILE"
        )
    wanted = [parse_bytes32(item, "--item") for item in items] or None
    reg = open_registry(registry, deployments_dir)
    from ape import chain

    log = Journal.open(
        journal or default_journal_path(manifest_file, "activate"),
        "activate",
        int(chain.chain_id),
        reg.address,
        str(signer.address),
    )
    if not dry_run:
        ops.settle_pending(log, click.echo)
    plan = batches.plan_activation(reg, manifest, wanted)
    if plan.done:
        click.echo(f"{len(plan.done)} item(s) already activated: skipped")
    if not plan.to_send:
        click.echo("nothing to activate")
        return
    with progress(len(plan.to_send), "activating") as bar:
        result = batches.activate(
            reg, signer, plan, journal=log, dry_run=dry_run, on_item=bar.update
        )
    if dry_run:
        report_estimate(result, f"would activate {len(plan.to_send)} item(s)")
        return
    click.echo(f"activated {result.sent} item(s) of batch 0x{plan.root.hex()}")
    for item, tx_hash in zip(plan.to_send, result.tx_hashes, strict=True):
        click.echo(f"  item {item['item_id']}  {item.get('label', '')} in tx {tx_hash}")


COMMANDS = (register, activate)
