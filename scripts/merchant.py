"""`ape run merchant ...`: register and activate items, append custody events, recall, read
verdicts; the merchant's escrow orders. The commands live in ``scripts/_lib/merchant_*.py``; this
file holds the group and the smaller ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from eth_utils.crypto import keccak

from app.domain.custody_rows import load_custody
from app.domain.ids import item_id_from_gs1, item_id_from_sku
from app.domain.input_files import read_rows
from app.domain.item_rows import load_items
from app.domain.manifest import batch_item, read_manifest
from app.domain.manifest_signing import manifest_content_hash, manifest_message
from app.domain.orders import ZERO_ADDRESS
from scripts._lib import chain
from scripts._lib import registry as reg
from scripts._lib.chain import Run, Stop
from scripts._lib.custody import id_ranges, plan_custody
from scripts._lib.journal import default_journal_path
from scripts._lib.merchant_items import (
    MERCHANT,
    activate_command,
    batch_manifest,
    input_file,
    register_command,
    rows_options,
)
from scripts._lib.merchant_orders import order
from scripts._lib.service import SERVICE_URL_HELP, ServiceError, post_json, service_url
from scripts._lib.signers import parse_address


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
  address        the address of TEST::N or of an account alias (no node needed)
  order          escrow orders: list, status, assign-carrier, ship, release, cancel,
                 evidence, offer/accept/withdraw-offer, withdraw (`merchant order --help`)

A verifier approves merchants and grants GS1 prefixes with `ape run ops` (approve-merchant,
grant-prefix, revoke-prefix, reassign-item).

The registry is --registry ADDRESS, else the ProductRegistry recorded for the connected
chain in --deployments-dir (default: $TRUSTMALL_DEPLOYMENTS_DIR or deployments/; beside
`make demo`: var/demo/deployments). Every command simulates its transactions before sending
anything: if the contract would refuse, nothing is sent and its own reason is printed."""
)
def cli() -> None:
    pass


register_command(cli)
activate_command(cli)
cli.add_command(order)


def registry_command(name: str, short_help: str, **kw: Any) -> chain.Decorator:
    return chain.command(cli, name, short_help=short_help, address="registry", **kw)


@registry_command("custody", "append custody events from a file", signer=MERCHANT, dry_run=True)
@click.argument("input_path", metavar="INPUT_FILE", type=click.Path(path_type=Path))
@click.option(
    "--merchant",
    "sku_merchant",
    help="Whose SKUs the sku/serial rows name (default: the signer; set it when the "
    "oracle submits).",
)
@rows_options("custody", "Events per recordCustody transaction.")
def custody(
    run: Run,
    input_path: Path,
    sku_merchant: str | None,
    chunk_size: int,
    journal: Path | None,
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
    owner = parse_address(sku_merchant, "--merchant") if sku_merchant else run.me
    entries = load_custody(input_file(input_path), owner)
    registry = reg.open_registry(run)
    path = journal or default_journal_path(input_path, "custody")
    log = reg.open_journal(run, registry, path, "custody")
    plan = plan_custody(registry, run.me, entries)
    if plan.done:
        click.echo(f"{len(plan.done)} event(s) already recorded by you: skipped")
    if not plan.to_send:
        click.echo("nothing to record; nothing was sent")
        return
    receipts = reg.send_rows(
        run,
        registry.contract.recordCustody,
        plan.to_send,
        lambda event: event.as_input(),
        lambda event: str(event.event_id),
        chunk_size=chunk_size,
        journal=log,
        label="recording",
    )
    if run.dry_run:
        chain.dry_run_report(f"would record {len(plan.to_send)} event(s)")
        return
    ids = [event.event_id for event in plan.to_send]
    click.echo(
        f"recorded {len(ids)} event(s) in {len(receipts)} transaction(s); "
        f"event ids {id_ranges(ids)}"
    )
    for receipt in receipts:
        click.echo(f"  tx {receipt.txn_hash}")
    click.echo(f"next: shoppers see the trail; check it with ape run merchant status {input_path}")


@registry_command("recall", "recall an item or a whole batch", signer=MERCHANT)
@click.option("--item-id", help="The item's id (0x + 64 hex).")
@click.option("--sku", help="The item's SKU (with --serial).")
@click.option("--gtin", help="The item's GTIN (with --serial).")
@click.option("--serial", help="The item's serial (with --sku or --gtin).")
@click.option("--batch-root", help="Recall a whole batch by its Merkle root.")
@click.option(
    "--manifest",
    type=click.Path(path_type=Path),
    help="A batch manifest: alone, recall the whole batch; with an item, recall that item.",
)
@click.option("--reason", required=True, help="Recall notice; its keccak256 is recorded.")
def recall(
    run: Run,
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
    items = [t for t in (item_id, sku, gtin) if t is not None]
    if (serial is not None) != (sku is not None or gtin is not None):
        raise Stop("--serial goes with --sku or --gtin, and they need it")
    if (
        len(items) > 1
        or (items and batch_root)
        or (not items and (batch_root is None) == (manifest is None))
    ):
        raise Stop(
            "name one target: --item-id, --sku with --serial, --gtin with --serial "
            "(plus --manifest for a batch item), --batch-root, or --manifest"
        )
    batch = batch_manifest(manifest, "--manifest") if manifest is not None else None
    reason_hash = keccak(reason.encode("utf-8"))
    if gtin is not None:
        target = chain.parsed(lambda g: item_id_from_gs1(g, str(serial)), gtin, "--gtin")
    elif sku is not None:
        target = item_id_from_sku(run.me, sku, str(serial))
    elif item_id is not None:
        target = chain.bytes32(item_id, "--item-id")
    contract = reg.open_registry(run).contract
    then = "escrow orders holding it refund its share: ape run buyer refund-recalled --order 0xID"
    if not items:
        root = chain.bytes32(str(batch_root or (batch or {}).get("root")), "--batch-root")
        receipt = chain.send(run, contract.recallBatch, root, reason_hash, what="the recall")
        chain.done(f"recalled batch 0x{root.hex()}", receipt, then)
        return
    if batch is not None:
        entry = batch_item(batch, target)
        if entry is None:
            raise Stop(f"item 0x{target.hex()} is not in the manifest {manifest}")
        reg.activate_unregistered(run, contract, batch, entry)
    receipt = chain.send(run, contract.recallItem, target, reason_hash, what="the recall")
    chain.done(f"recalled item 0x{target.hex()}", receipt, then)


@registry_command("publish", "publish a batch manifest to the service", signer=MERCHANT)
@click.argument("manifest_file", type=click.Path(path_type=Path))
@click.option("--service", "service", help=SERVICE_URL_HELP)
def publish(run: Run, manifest_file: Path, service: str | None) -> None:
    """Publish MANIFEST_FILE (written by `register --batch`) to the TrustMall service, so that
    shoppers get each item's Merkle proof. The --account merchant signs the batch root and the
    manifest's content hash here (EIP-191); the service gets the signature, never the key."""
    manifest = batch_manifest(manifest_file)
    root = chain.bytes32(str(manifest["root"]), "root")
    owner = str(reg.open_registry(run).contract.batchOf(root).merchant)
    if owner != run.me:
        raise Stop(
            f"batch 0x{root.hex()} is registered by {owner}, not by {run.me}"
            if int(owner, 16)
            else f"batch 0x{root.hex()} is not registered on this chain: "
            f"ape run merchant register FILE --batch"
        )
    signed = run.signer.sign_message(manifest_message(root, manifest_content_hash(manifest)))
    if signed is None:
        raise Stop("the account declined to sign")
    base = service_url(service)
    url = f"{base}/v1/batches/0x{root.hex()}/manifest"
    try:
        answer = post_json(
            url, {"manifest": manifest, "signature": "0x" + signed.encode_rsv().hex()}
        )
    except ServiceError as error:
        raise Stop(f"the service refused the manifest: {error}") from None
    body = answer.body
    click.echo(
        ("published" if body.get("created") else "already published, same content")
        + f": batch 0x{root.hex()}, {body.get('item_count')} items, content hash "
        + f"{body.get('content_hash')} "
        + ("matches" if body.get("matches_onchain_metadata_hash") else "does NOT match")
        + " the batch's on-chain metadata hash"
    )
    first = manifest["items"][0]["item_id"] if manifest["items"] else ""
    click.echo(
        f"next: shoppers verify at {base}/verify/{first}; give items records of their own: "
        f"ape run merchant activate {manifest_file}"
    )


@registry_command("status", "show verdicts of a file's items", signer=MERCHANT)
@click.argument("input_path", metavar="INPUT_FILE", type=click.Path(path_type=Path))
@click.option("--merchant", help="Whose SKUs the sku/serial rows name (default: --account).")
def status(run: Run, input_path: Path, merchant: str | None) -> None:
    """Show the verdict of every item of INPUT_FILE: an item file (as for `register`) or a
    batch manifest (checked with its proofs, as a shopper's app would). Sends nothing."""
    registry = reg.open_registry(run)
    if _is_manifest(input_file(input_path)):
        rows = reg.manifest_verdicts(registry, read_manifest(input_path))
    else:
        if merchant is not None:
            owner = parse_address(merchant, "--merchant")
        elif run.account is not None:
            owner = run.me
        else:
            owner = ZERO_ADDRESS
            if any("sku" in row.data for row in read_rows(input_path, "items")):
                raise Stop("sku rows need --merchant or --account to compute ids")
        rows = reg.item_verdicts(registry, load_items(input_path, owner))
    base = service_url(None)
    for where, label, item_id, verdict in rows:
        click.echo(f"{where:<10} 0x{item_id.hex()}  {verdict.name.lower():<18} {label}")
    click.echo(f"next: a shopper's page: {base}/verify/0xITEM_ID")


@cli.command("address", cls=chain.Offline, short_help="the address of TEST::N or an alias")
@click.argument("account")
def address(account: str) -> None:
    """Print the address of ACCOUNT: TEST::N (test account N, the same as Anvil's account N)
    or the alias of one of your Ape accounts. Sends nothing, needs no node."""
    from ape import accounts

    if account.upper().startswith("TEST::"):
        found = parse_address(account, "ACCOUNT")
    elif account in accounts.aliases:
        found = str(accounts.load(account).address)
    else:
        raise Stop(f"ACCOUNT: no test account nor Ape account alias {account!r}")
    click.echo(found)


def _is_manifest(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    try:
        read_manifest(path)
    except (ValueError, KeyError):
        return False
    return True
