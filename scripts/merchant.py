"""`ape run merchant ...`: register and activate items, append custody events, recall, read
verdicts; the verifier's approvals, GS1 prefixes and reassignments; the merchant's escrow
orders. The commands live in ``scripts/_lib/merchant_*.py``; this file holds the group and the
smaller ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand
from eth_utils.crypto import keccak

from app.domain.ids import item_id_from_gs1, item_id_from_sku
from app.domain.manifest_signing import manifest_content_hash, manifest_message
from scripts._lib import batches, merchant_items, merchant_verifier, recalls
from scripts._lib import custody as custody_ops
from scripts._lib import registry as ops
from scripts._lib.custody_inputs import load_custody
from scripts._lib.escrow_cli import parse_bytes32
from scripts._lib.inputs import InputFileError, load_items, read_rows
from scripts._lib.journal import Journal, default_journal_path
from scripts._lib.manifest import read_manifest
from scripts._lib.merchant_orders import order
from scripts._lib.registry_cli import (
    bad_file,
    dry_run_option,
    open_registry,
    progress,
    registry_options,
    report_estimate,
)
from scripts._lib.service import SERVICE_URL_HELP, ServiceError, post_json, service_url
from scripts._lib.signers import parse_address, resolve_account


@click.group(
    help="""Merchant operations on the ProductRegistry and on OrderEscrow orders.

\b
  register       register items from a CSV/JSON file, singly in chunks or as one Merkle
                 batch; prints their ids
  activate       give batch items records of their own, from the batch manifest
  custody        append custody events from a CSV/JSON file
  recall         recall one item or a whole batch
  publish        publish a batch manifest to the TrustMall service (shoppers get the proofs)
  status         show the verdict of every item of a file or manifest
  order          escrow orders: list, status, assign-carrier, ship, release, cancel,
                 evidence, offer/accept/withdraw-offer, withdraw (`merchant order --help`)
\b
The verifier's commands (VERIFIER_ROLE; local default TEST::0):
  approve        approve a merchant with its owner's identity commitment
  grant-prefix   grant a merchant a GS1 company prefix (its GTINs are then its alone)
  revoke-prefix  revoke a GS1 company prefix
  reassign       move a squatted item id to its merchant, or revoke its record

The registry is --registry ADDRESS, else the ProductRegistry recorded for the connected
chain in --deployments-dir (default: $TRUSTMALL_DEPLOYMENTS_DIR or deployments/).
Every command checks the chain and simulates its transactions before sending anything: if
the contract would refuse, nothing is sent and its reason is printed."""
)
def cli() -> None:
    pass


for _command in (*merchant_verifier.COMMANDS, *merchant_items.COMMANDS, order):
    cli.add_command(_command)


# ---------------------------------------------------------------------------------------- custody


@cli.command(cls=ConnectedProviderCommand, short_help="append custody events from a file")
@registry_options
@click.argument("input_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--merchant",
    "sku_merchant",
    help="Whose SKUs the sku/serial rows name (default: the signer; set it when the "
    "oracle submits).",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 1000),
    default=ops.DEFAULT_CHUNK_SIZE,
    show_default=True,
    help="Events per recordCustody transaction.",
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Journal file (default: <input>.custody.journal.json).",
)
@dry_run_option
def custody(
    network: Any,
    account: Any,
    registry: str | None,
    deployments_dir: Path | None,
    input_file: Path,
    sku_merchant: str | None,
    chunk_size: int,
    journal: Path | None,
    dry_run: bool,
) -> None:
    """Append the custody events of INPUT_FILE (.csv or .json), signed by the item's merchant
    or an ORACLE_ROLE holder.

    \b
    Columns / keys:
      item_id (0x + 64 hex) | sku,serial | gtin,serial    the item
      action        produced, shipped, in_transit, delivered, sold, returned
      occurred_at   unix seconds or ISO-8601 with offset (2025-03-01T10:00:00Z)
      location      text (e.g. a GLN), recorded as keccak256
      context       text (or column `reference`: order, shipment...), keccak256
      event_id      optional unsigned integer, unique per submitter

    \b
    Rows without event_id get the submitter's next free ids in sequence (one past the
    highest it used on this registry or in the file): consecutive ids share one storage
    word of the contract's bitmap. Events the submitter already recorded (same id and
    content, or same content when no id is given) are skipped, so a run can be repeated.
    """
    submitter = resolve_account(account, network)
    owner = parse_address(sku_merchant, "--merchant") if sku_merchant else str(submitter.address)
    try:
        entries = load_custody(input_file, owner)
    except InputFileError as exc:
        raise bad_file(exc) from None
    reg = open_registry(registry, deployments_dir)
    from ape import chain

    log = Journal.open(
        journal or default_journal_path(input_file, "custody"),
        "custody",
        int(chain.chain_id),
        reg.address,
        str(submitter.address),
    )
    if not dry_run:
        ops.settle_pending(log, click.echo)
    plan = custody_ops.plan_custody(reg, str(submitter.address), entries)
    if plan.done:
        click.echo(f"{len(plan.done)} event(s) already recorded by you: skipped")
    if not plan.to_send:
        click.echo("nothing to record")
        return
    with progress(len(plan.to_send), "recording") as bar:
        result = custody_ops.record_custody(
            reg,
            submitter,
            plan,
            chunk_size=chunk_size,
            journal=log,
            dry_run=dry_run,
            on_chunk=bar.update,
        )
    if dry_run:
        report_estimate(result, f"would record {len(plan.to_send)} event(s)")
        return
    ids = [event.event_id for event in plan.to_send]
    click.echo(
        f"recorded {result.sent} event(s) in {len(result.receipts)} transaction(s); "
        f"event ids {_id_ranges(ids)}"
    )
    for tx_hash in result.tx_hashes:
        click.echo(f"  tx {tx_hash}")


def _id_ranges(ids: list[int]) -> str:
    spans: list[str] = []
    for value in sorted(ids):
        if spans and "-" not in spans[-1] and int(spans[-1]) + 1 == value:
            spans[-1] = f"{spans[-1]}-{value}"
        elif spans and "-" in spans[-1] and int(spans[-1].split("-")[1]) + 1 == value:
            spans[-1] = f"{spans[-1].split('-')[0]}-{value}"
        else:
            spans.append(str(value))
    return ", ".join(spans)


# ---------------------------------------------------------------------------------------- recall


@cli.command(cls=ConnectedProviderCommand, short_help="recall an item or a whole batch")
@registry_options
@click.option("--item-id", help="The item's id (0x + 64 hex).")
@click.option("--sku", help="The item's SKU (with --serial).")
@click.option("--gtin", help="The item's GTIN (with --serial).")
@click.option("--serial", help="The item's serial (with --sku or --gtin).")
@click.option("--batch-root", help="Recall a whole batch by its Merkle root.")
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A batch manifest: alone, recall the whole batch; with an item, recall that item.",
)
@click.option("--reason", required=True, help="Recall notice; its keccak256 is recorded.")
def recall(
    network: Any,
    account: Any,
    registry: str | None,
    deployments_dir: Path | None,
    item_id: str | None,
    sku: str | None,
    gtin: str | None,
    serial: str | None,
    batch_root: str | None,
    manifest: Path | None,
    reason: str,
) -> None:
    """Recall, for the --account merchant (final):

    \b
      one item       --item-id ID | --sku SKU --serial S | --gtin GTIN --serial S
      a batch item   the same, plus --manifest BATCH_MANIFEST (activated first if needed)
      a whole batch  --batch-root ROOT | --manifest BATCH_MANIFEST
    """
    merchant = resolve_account(account, network)
    items = [t for t in (item_id, sku, gtin) if t is not None]
    named_by_key = sku is not None or gtin is not None
    if (serial is not None) != named_by_key:
        raise click.UsageError("--serial goes with --sku or --gtin, and they need it")
    whole_batch = [t for t in (batch_root, manifest) if t is not None]
    if len(items) > 1 or (items and batch_root) or (not items and len(whole_batch) != 1):
        raise click.UsageError(
            "name one target: --item-id, --sku with --serial, --gtin with --serial "
            "(plus --manifest for a batch item), --batch-root, or --manifest"
        )
    reg = open_registry(registry, deployments_dir)
    reason_hash = keccak(reason.encode("utf-8"))
    batch = _read_batch_manifest(manifest) if manifest is not None else None
    if not items:
        root_text = batch_root if batch_root is not None else (batch or {}).get("root")
        root = parse_bytes32(str(root_text), "--batch-root")
        receipt = recalls.recall_batch(reg, merchant, root, reason_hash)
        click.echo(f"recalled batch 0x{root.hex()} in tx {receipt.txn_hash}")
        return
    if item_id is not None:
        target = parse_bytes32(item_id, "--item-id")
    elif gtin is not None:
        try:
            target = item_id_from_gs1(gtin, str(serial))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--gtin/--serial") from None
    else:
        target = item_id_from_sku(str(merchant.address), str(sku), str(serial))
    if batch is not None:
        receipt = recalls.recall_batch_item(reg, merchant, batch, target, reason_hash, click.echo)
    else:
        receipt = recalls.recall_item(reg, merchant, target, reason_hash)
    click.echo(f"recalled item 0x{target.hex()} in tx {receipt.txn_hash}")


def _read_batch_manifest(path: Path) -> dict[str, Any]:
    try:
        data = read_manifest(path)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--manifest") from None
    if not data.get("root"):
        raise click.BadParameter(
            f"{path} is not a batch manifest (no root)", param_hint="--manifest"
        )
    return data


# ---------------------------------------------------------------------------------------- publish


@cli.command(cls=ConnectedProviderCommand, short_help="publish a batch manifest to the service")
@registry_options
@click.argument("manifest_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--service", "service", help=SERVICE_URL_HELP)
def publish(
    network: Any,
    account: Any,
    registry: str | None,
    deployments_dir: Path | None,
    manifest_file: Path,
    service: str | None,
) -> None:
    """Publish MANIFEST_FILE (written by `register --batch`) to the TrustMall service, so that
    shoppers get each item's Merkle proof. The --account merchant signs the batch root and the
    manifest's content hash here (EIP-191); the service gets the signature, never the key."""
    merchant = resolve_account(account, network)
    manifest = _read_batch_manifest(manifest_file)
    root = parse_bytes32(str(manifest["root"]), "root")
    owner = str(open_registry(registry, deployments_dir).contract.batchOf(root).merchant)
    if owner != merchant.address:
        raise click.ClickException(
            f"batch 0x{root.hex()} is registered by {owner}, not by {merchant.address}"
            if int(owner, 16)
            else f"batch 0x{root.hex()} is not registered on this chain"
        )
    signed = merchant.sign_message(manifest_message(root, manifest_content_hash(manifest)))
    if signed is None:
        raise click.ClickException("the account declined to sign")
    url = f"{service_url(service)}/v1/batches/0x{root.hex()}/manifest"
    try:
        answer = post_json(
            url, {"manifest": manifest, "signature": "0x" + signed.encode_rsv().hex()}
        )
    except ServiceError as error:
        raise click.ClickException(f"the service refused the manifest: {error}") from None
    body = answer.body
    click.echo(
        ("published" if body.get("created") else "already published, same content")
        + f": batch 0x{root.hex()}, {body.get('item_count')} items, content hash "
        + f"{body.get('content_hash')} "
        + ("matches" if body.get("matches_onchain_metadata_hash") else "does NOT match")
        + " the batch's on-chain metadata hash"
    )


# ---------------------------------------------------------------------------------------- status


@cli.command(cls=ConnectedProviderCommand, short_help="show verdicts of a file's items")
@registry_options
@click.argument("input_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--merchant", help="Whose SKUs the sku/serial rows name (default: --account).")
def status(
    network: Any,
    account: Any,
    registry: str | None,
    deployments_dir: Path | None,
    input_file: Path,
    merchant: str | None,
) -> None:
    """Show the verdict of every item of INPUT_FILE: an item file (as for `register`) or a
    batch manifest (checked with its proofs, as a shopper's app would). Sends nothing."""
    reg = open_registry(registry, deployments_dir)
    if _is_manifest(input_file):
        statuses = batches.manifest_verdicts(reg, read_manifest(input_file))
    else:
        if merchant is not None:
            owner = parse_address(merchant, "--merchant")
        elif account is not None:
            owner = str(account.address)
        else:
            owner = ops.ZERO_ADDRESS
            if any("sku" in row.data for row in _rows_or_fail(input_file)):
                raise click.UsageError("sku rows need --merchant or --account to compute ids")
        try:
            entries = load_items(input_file, owner)
        except InputFileError as exc:
            raise bad_file(exc) from None
        statuses = ops.item_verdicts(reg, entries)
    for item in statuses:
        click.echo(
            f"{item.where:<10} 0x{item.item_id.hex()}  {item.verdict.name.lower():<18} {item.label}"
        )


def _is_manifest(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    try:
        read_manifest(path)
    except (ValueError, KeyError):
        return False
    return True


def _rows_or_fail(path: Path) -> list[Any]:
    try:
        return read_rows(path, "items")
    except InputFileError as exc:
        raise bad_file(exc) from None
