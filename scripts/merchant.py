"""`ape run merchant ...`: register items, append custody events, recall, and read verdicts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand
from eth_utils.crypto import keccak

from app.domain.deployments import write_json
from app.domain.ids import item_id_from_gs1, item_id_from_sku
from app.domain.manifest_signing import manifest_content_hash, manifest_message
from app.domain.vocab import MerchantStatus
from scripts._lib import escrow as escrow_ops
from scripts._lib import registry as ops
from scripts._lib.escrow_cli import (
    done,
    escrow_options,
    hashed_text,
    hashed_text_options,
    order_options,
    party_commands,
    report_release,
    session,
)
from scripts._lib.inputs import InputFileError, ItemEntry, load_custody, load_items, read_rows
from scripts._lib.journal import Journal, default_journal_path
from scripts._lib.manifest import build_manifest, read_manifest, singles_manifest
from scripts._lib.options import deployments_dir_option
from scripts._lib.service import SERVICE_URL_HELP, ServiceError, post_json, service_url
from scripts._lib.signers import parse_address, resolve_account, signer_option


@click.group(
    help="""Merchant operations on the ProductRegistry and on OrderEscrow orders.

\b
  approve   (verifier) approve a merchant
  register  register items from a CSV/JSON file, singly in chunks or as one Merkle batch
  custody   append custody events from a CSV/JSON file
  recall    recall one item or a whole batch
  publish   publish a batch manifest to the TrustMall service (shoppers get the proofs)
  status    show the verdict of every item of a file or manifest
  order     escrow orders: list, status, ship, release, cancel, evidence, offer/accept,
            withdraw (`ape run merchant order --help`)

The registry is --registry ADDRESS, else the ProductRegistry recorded for the connected
chain in --deployments-dir (default: $TRUSTMALL_DEPLOYMENTS_DIR or deployments/).
Every command checks the chain before sending anything and sends nothing if a check fails."""
)
def cli() -> None:
    pass


def registry_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = deployments_dir_option(command)
    command = click.option("--registry", help="ProductRegistry address (overrides the record).")(
        command
    )
    with_account: Callable[..., Any] = signer_option()(command)
    return with_account


def _open(registry: str | None, deployments_dir: Path | None) -> ops.Registry:
    address = parse_address(registry, "--registry") if registry else None
    return ops.open_registry(address, deployments_dir)


def _bad_file(exc: InputFileError) -> click.BadParameter:
    return click.BadParameter(str(exc), param_hint="INPUT_FILE")


def _progress(total: int, label: str) -> Any:
    return click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)


def _report_estimate(result: ops.RunResult, what: str) -> None:
    gas = sum(result.gas_estimates)
    price = ops.gas_price()
    click.echo(
        f"dry run: {what} in {len(result.gas_estimates)} transaction(s); estimated gas {gas} "
        f"(~{gas * price / 1e18:.6f} ETH at {price / 1e9:.2f} gwei); nothing was sent"
    )


def _parse_bytes32(value: str, what: str) -> bytes:
    text = value.strip().removeprefix("0x")
    if len(text) != 64:
        raise click.BadParameter("must be 0x followed by 64 hex digits", param_hint=what)
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise click.BadParameter("must be 0x followed by 64 hex digits", param_hint=what) from None


# ---------------------------------------------------------------------------------------- approve


@cli.command(cls=ConnectedProviderCommand, short_help="(verifier) approve a merchant")
@registry_options
@click.argument("merchant")
@click.option("--name", required=True, help="Display name shown to shoppers.")
@click.option("--identity", help="Identity document text; its keccak256 is recorded.")
@click.option(
    "--identity-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Identity document; keccak256 of its bytes is recorded.",
)
@click.option("--identity-hash", help="The identity hash itself (0x + 64 hex).")
def approve(
    network: Any,
    account: Any,
    registry: str | None,
    deployments_dir: Path | None,
    merchant: str,
    name: str,
    identity: str | None,
    identity_file: Path | None,
    identity_hash: str | None,
) -> None:
    """Approve MERCHANT (an address). Signed by a VERIFIER_ROLE holder: --account, or on a local
    network TEST::0 (the default verifier of `ape run deploy`)."""
    given = [v for v in (identity, identity_file, identity_hash) if v is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --identity, --identity-file, --identity-hash")
    if identity is not None:
        digest = keccak(identity.encode("utf-8"))
    elif identity_file is not None:
        digest = keccak(identity_file.read_bytes())
    else:
        digest = _parse_bytes32(str(identity_hash), "--identity-hash")
    verifier = resolve_account(account, network, default_test_index=0)
    target = parse_address(merchant, "MERCHANT")
    reg = _open(registry, deployments_dir)
    contract = reg.contract
    problems = []
    if not contract.hasRole(contract.VERIFIER_ROLE(), verifier.address):
        problems.append(f"{verifier.address} does not hold VERIFIER_ROLE on {reg.address}")
    status = MerchantStatus(int(contract.merchantOf(target).status))
    if status is not MerchantStatus.NONE:
        problems.append(f"merchant {target} already has a record (status {status.name.lower()})")
    if problems:
        raise ops.PreflightError(problems)
    receipt = contract.approveMerchant(target, name, digest, sender=verifier)
    click.echo(f"approved merchant {target} ({name}) in tx {receipt.txn_hash}")


# ---------------------------------------------------------------------------------------- register


@cli.command(cls=ConnectedProviderCommand, short_help="register items from a CSV/JSON file")
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
@click.option("--dry-run", is_flag=True, help="Check and estimate gas; send nothing.")
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

    The whole file is validated first; then the chain is checked: the merchant must be
    active, no id may be registered by anyone else. Items this merchant already registered
    with the same metadata are skipped, so an interrupted run can simply be started again.
    """
    merchant = resolve_account(account, network)
    try:
        entries = load_items(input_file, str(merchant.address))
    except InputFileError as exc:
        raise _bad_file(exc) from None
    reg = _open(registry, deployments_dir)
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
    with _progress(len(plan.to_send), "registering") as bar:
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
        _report_estimate(result, f"would register {len(plan.to_send)} item(s)")
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
        _report_estimate(result, f"would register a batch of {manifest.item_count} item(s)")
        return
    else:
        result = ops.register_batch(reg, merchant, manifest, batch_uri, journal=log)
        click.echo(
            f"registered batch {root} of {manifest.item_count} item(s) in tx {result.tx_hashes[0]}"
        )
    target = manifest_path or input_file.with_name(f"{input_file.name}.manifest.json")
    write_json(target, manifest.data)
    click.echo(f"manifest {target} (metadataHash 0x{manifest.metadata_hash.hex()})")


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
@click.option("--dry-run", is_flag=True, help="Check and estimate gas; send nothing.")
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
        raise _bad_file(exc) from None
    reg = _open(registry, deployments_dir)
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
    plan = ops.plan_custody(reg, str(submitter.address), entries)
    if plan.done:
        click.echo(f"{len(plan.done)} event(s) already recorded by you: skipped")
    if not plan.to_send:
        click.echo("nothing to record")
        return
    with _progress(len(plan.to_send), "recording") as bar:
        result = ops.record_custody(
            reg,
            submitter,
            plan,
            chunk_size=chunk_size,
            journal=log,
            dry_run=dry_run,
            on_chunk=bar.update,
        )
    if dry_run:
        _report_estimate(result, f"would record {len(plan.to_send)} event(s)")
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
    reg = _open(registry, deployments_dir)
    reason_hash = keccak(reason.encode("utf-8"))
    batch = _read_batch_manifest(manifest) if manifest is not None else None
    if not items:
        root_text = batch_root if batch_root is not None else (batch or {}).get("root")
        root = _parse_bytes32(str(root_text), "--batch-root")
        receipt = ops.recall_batch(reg, merchant, root, reason_hash)
        click.echo(f"recalled batch 0x{root.hex()} in tx {receipt.txn_hash}")
        return
    if item_id is not None:
        target = _parse_bytes32(item_id, "--item-id")
    elif gtin is not None:
        try:
            target = item_id_from_gs1(gtin, str(serial))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--gtin/--serial") from None
    else:
        target = item_id_from_sku(str(merchant.address), str(sku), str(serial))
    if batch is not None:
        receipt = ops.recall_batch_item(reg, merchant, batch, target, reason_hash, click.echo)
    else:
        receipt = ops.recall_item(reg, merchant, target, reason_hash)
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
    root = _parse_bytes32(str(manifest["root"]), "root")
    owner = str(_open(registry, deployments_dir).contract.batchOf(root).merchant)
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
    reg = _open(registry, deployments_dir)
    if _is_manifest(input_file):
        statuses = ops.manifest_verdicts(reg, read_manifest(input_file))
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
            raise _bad_file(exc) from None
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
        raise _bad_file(exc) from None


# ---------------------------------------------------------------------------------------- orders


@cli.group(short_help="escrow orders: ship, release, settle, withdraw")
def order() -> None:
    """The merchant's side of OrderEscrow orders.

    \b
      list             orders opened with you (from the escrow's events)
      status           where an order stands, its deadlines, what you can do now
      ship             mark an order shipped, before its ship-by deadline
      release          after the dispute window (anyone may): pay the order out to you
      cancel           refund the buyer in full, any time before the last release
      evidence         answer a dispute with your evidence
      offer / accept   settle with the buyer on a split, no arbiter needed
      withdraw         collect what the escrow credited you

    Orders are named by --order 0xID (terms from the OrderOpened event) or by the buyer's
    --order-file. The escrow is --escrow, else the deployment record's OrderEscrow.
    Every command checks the chain first and sends nothing if a check fails."""


for _command in party_commands("merchant", "ape run merchant order"):
    order.add_command(_command)


@order.command(cls=ConnectedProviderCommand, short_help="mark an order shipped")
@escrow_options
@order_options
@hashed_text_options("tracking", "tracking reference")
def ship(
    network: Any,
    account: Any,
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None,
    order_id: str | None,
    tracking: str | None,
    tracking_file: Path | None,
    tracking_hash: str | None,
) -> None:
    """Mark the order shipped (no later than its ship-by deadline), with the carrier's tracking
    reference (its keccak256 is recorded)."""
    digest = hashed_text("tracking", tracking, tracking_file, tracking_hash)
    s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
    escrow_ops.require(escrow_ops.check_ship(s.view, s.address))
    receipt = escrow_ops.send(s.account, s.escrow.contract.ship, s.view.terms.as_abi(), digest)
    done(f"shipped order {s.view.order_id} (tracking hash 0x{digest.hex()})", receipt)


@order.command(cls=ConnectedProviderCommand, short_help="release after the dispute window")
@escrow_options
@order_options
@click.option(
    "--item",
    "items",
    type=int,
    multiple=True,
    metavar="INDEX",
    help="Release only these delivered items (0-based, repeatable).",
)
def release(
    network: Any,
    account: Any,
    escrow_address: str | None,
    deployments_dir: Path | None,
    order_file: Path | None,
    order_id: str | None,
    items: tuple[int, ...],
) -> None:
    """Pay the order out to the merchant once the dispute window after delivery is over (a
    shipped order never reported delivered counts as delivered at its deliver-by time).
    Anyone may send it; the items are recorded as sold to the buyer in the registry."""
    s = session(network, account, escrow_address, deployments_dir, order_file, order_id)
    terms = s.view.terms
    if items:
        bits = escrow_ops.bits_of(items, terms.item_count, "--item")
        escrow_ops.require(escrow_ops.check_release_items(s.view, bits))
        receipt = escrow_ops.send(s.account, s.escrow.contract.releaseItems, terms.as_abi(), bits)
    else:
        escrow_ops.require(escrow_ops.check_release(s.view))
        receipt = escrow_ops.send(s.account, s.escrow.contract.release, terms.as_abi())
    report_release(s.escrow, receipt, escrow_ops.asset_of(terms.token))
