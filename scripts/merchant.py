"""`ape run merchant ...`: register and activate items, append custody events, recall, publish,
read verdicts; and `ape run merchant order ...`, the merchant's side of escrow orders."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import click
from eth_utils.crypto import keccak

from app.domain.abi_types import from_hex, hex32
from app.domain.custody_rows import load_custody
from app.domain.deployments import write_json
from app.domain.ids import item_id_from_gs1, item_id_from_sku
from app.domain.item_rows import load_items
from app.domain.manifest import batch_item, build_manifest, read_manifest, singles_manifest
from app.domain.manifest_signing import manifest_content_hash, manifest_message
from app.domain.metadata import metadata_hash
from app.domain.orders import ZERO_ADDRESS
from app.domain.vocab import Verdict
from scripts._lib import chain, escrow
from scripts._lib import registry as reg
from scripts._lib.calls import Call, add_calls, report
from scripts._lib.chain import Run, Stop, parse_address
from scripts._lib.party_commands import add_address_command, add_party_commands
from scripts._lib.service import SERVICE_URL_HELP, ServiceError, fetch, register_items, service_url

MERCHANT, ANYONE = "The merchant", "Who sends (and pays for) it"
FILE = click.Path(path_type=Path)
cli = click.Group(
    help="""Merchant operations on the ProductRegistry and on OrderEscrow orders, each transaction
simulated first: a refusal sends nothing and prints the contract's reason. File formats, journals
and defaults: docs/scripts.md#merchant."""
)


def registry_command(name: str, short: str, signer: str = MERCHANT, **kw: Any) -> chain.Decorator:
    return chain.command(cli, name, short_help=short, signer=signer, address="registry", **kw)


def rows_options(command: str, per_transaction: str) -> chain.Decorator:
    """--chunk-size and --journal of a command that sends a file's rows in chunks."""
    journal = f"Journal file (default: <input>.{command}.journal.json)."
    size = click.option(
        "--chunk-size", "size", type=click.IntRange(1, 1000), default=100, help=per_transaction
    )
    path = click.option("--journal", "path", type=FILE, help=journal)
    return lambda fn: size(path(fn))


@registry_command("register", "register a file's items, singly or as a Merkle batch", dry_run=True)
@click.argument("input_path", metavar="INPUT_FILE", type=FILE)
@click.option("--batch", is_flag=True, help="All rows as one Merkle batch (registerBatch).")
@click.option(
    "--manifest", type=FILE, help="Where the manifest goes (with --batch: <input>.manifest.json)."
)
@click.option("--batch-uri", default="", help="With --batch: where the manifest is published.")
@rows_options("register", "Items per registerItems transaction (default 100).")
@click.option(
    "--via-service",
    "via",
    metavar="URL",
    help="Sign here, post to the service at URL: it relays and pays (docs/scripts.md#via-service).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=300.0,
    help="With --via-service: seconds to wait for the requests to settle (default 300).",
)
def register(
    run: Run,
    input_path: Path,
    batch: bool,
    manifest: Path | None,
    batch_uri: str,
    via: str | None,
    timeout: float,
    **rows: Any,
) -> None:
    """Register the items of INPUT_FILE (.csv or .json; columns: docs/scripts.md#register) for
    the --account merchant, skipping those registered already; prints each id and its page."""
    if via is not None and (batch or run.dry_run or rows["path"]):
        raise Stop("--via-service posts single items: not with --batch, --dry-run or --journal")
    entries = load_items(reg.input_file(input_path), run.me)
    if batch and manifest is None:
        manifest = input_path.with_name(f"{input_path.name}.manifest.json")
    if manifest is not None:
        chain.writable(manifest, "--manifest")
    registry = run.contract("ProductRegistry", run.address)
    # The direct path's journal; via the service, the service keeps the requests.
    command = "register-batch" if batch else "register"
    log = None if via else reg.Journal(run, registry, input_path, command, **rows)
    about: dict[str, Any] = {"chain_id": run.network.chain_id, "merchant": run.me}
    about["registry"] = str(registry.address)
    if not batch:
        planned = reg.items_to_register(run, registry, entries)
        if log is None:
            url, size = service_url(via), rows["size"]
            register_items(run, registry, planned, url=url, size=size, timeout=timeout)
        else:
            log.send(registry.registerItems, *planned)
        data = singles_manifest(entries, **about)
        then = "record custody events (ape run merchant custody FILE), or check them: "
        then += f"ape run merchant status {input_path}"
    else:
        built = build_manifest(entries, **about)
        root, data, n = hex32(built.root), built.data, built.item_count
        then = "publish the manifest so shoppers get each item's proof: "
        then += f"ape run merchant publish {manifest}"
        if str(registry.batchOf(built.root).merchant) == run.me:
            click.echo(f"batch {root} is already registered by you: nothing to send")
        else:
            # Only the root goes on chain: a GTIN whose prefix no verifier granted this merchant
            # would leave its items unknown, never activated. The registry says so of each GTIN.
            for e in {x.row.gtin: x for x in reversed(entries) if x.row.gtin}.values():
                if refused := chain.refusal(registry.itemIdOfKey, run.me, e.key):
                    raise Stop(f"{e.where} ({e.label}): the registry refuses its key: {refused}")
            args = (built.root, n, built.metadata_hash, batch_uri)
            receipt = chain.send(
                run, registry.registerBatch, *args, what="the batch", journal=log, keys=[root]
            )
            would = f"would register a batch of {n} item(s)"
            chain.done(f"registered batch {root} of {n} item(s)", receipt, would=would)
    if run.dry_run:
        return
    if manifest is not None:
        write_json(manifest, data)
        click.echo(f"manifest {manifest} (metadataHash 0x{metadata_hash(data).hex()})")
    base = service_url(via)
    for e in entries:
        click.echo(f"  item {hex32(e.item_id)}  {e.label}  {base}/verify/{hex32(e.item_id)}")
    click.echo(f"next: {then} --account {getattr(run.account, 'alias', None) or 'ACCOUNT'}")


@registry_command("activate", "give batch items records of their own", signer=ANYONE, dry_run=True)
@click.argument("manifest_file", type=FILE)
@click.option("--item", "items", multiple=True, metavar="0xID", help="Only this item (repeatable).")
@rows_options("activate", "Items per activateBatchItems transaction (default 100).")
def activate(run: Run, manifest_file: Path, items: tuple[str, ...], **rows: Any) -> None:
    """Give the items of a batch MANIFEST_FILE (from `register --batch`) records of their own,
    so custody events, recalls and orders can name them; those activated already are skipped."""
    manifest = reg.batch_manifest(manifest_file)
    wanted = [chain.bytes32(item, "--item") for item in items]
    registry = run.contract("ProductRegistry", run.address)
    log = reg.Journal(run, registry, manifest_file, "activate", **rows)
    todo, done = reg.items_to_activate(registry, manifest, wanted)
    log.send(registry.activateBatchItems, todo, done, from_hex(manifest["root"]))
    if not run.dry_run:
        for _, where, _ in todo:
            click.echo(f"  {where}")
        click.echo("next: record their custody events: ape run merchant custody FILE")


@registry_command("custody", "append custody events from a CSV/JSON file", dry_run=True)
@click.argument("input_path", metavar="INPUT_FILE", type=FILE)
@click.option("--merchant", "sku_merchant", help="Whose SKUs sku/serial rows name (default: you).")
@rows_options("custody", "Events per recordCustody transaction (default 100).")
def custody(run: Run, input_path: Path, sku_merchant: str | None, **rows: Any) -> None:
    """Append the custody events of INPUT_FILE (.csv or .json; columns: docs/scripts.md#custody)
    as the item's merchant or an ORACLE_ROLE holder; events already recorded are skipped."""
    owner = parse_address(sku_merchant, "--merchant") if sku_merchant else run.me
    entries = load_custody(reg.input_file(input_path), owner)
    registry = run.contract("ProductRegistry", run.address)
    log = reg.Journal(run, registry, input_path, "custody", **rows)
    todo, done = reg.events_to_record(run, registry, entries)
    log.send(registry.recordCustody, todo, done)
    if not run.dry_run:
        for _, where, row in todo:
            click.echo(f"  {where}: event {row[1]}")
        click.echo(f"next: shoppers see the trail at {service_url(None)}/verify/0xITEM_ID")


@registry_command("recall", "recall one item or a whole batch")
@click.option("--item-id", help="The item's id (0x + 64 hex).")
@click.option("--sku", help="The item's SKU (with --serial).")
@click.option("--gtin", help="The item's GTIN (with --serial).")
@click.option("--serial", help="The item's serial (with --sku or --gtin).")
@click.option("--batch-root", help="Recall a whole batch by its Merkle root.")
@click.option("--manifest", type=FILE, help="A batch manifest: alone, the whole batch is recalled.")
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
    named = [t for t in (item_id, sku, gtin) if t is not None]
    if (serial is not None) != (sku is not None or gtin is not None):
        raise Stop("--serial goes with --sku or --gtin, and they need it")
    if len(named) + (batch_root is not None) + (manifest is not None and not named) != 1:
        raise Stop(
            "name one target: --item-id, --sku with --serial, --gtin with --serial "
            "(plus --manifest for a batch item), --batch-root, or --manifest"
        )
    batch = reg.batch_manifest(manifest, "--manifest") if manifest is not None else {}
    if gtin is not None:
        target = chain.parsed(lambda g: item_id_from_gs1(g, str(serial)), gtin, "--gtin")
    elif sku is not None:
        target = item_id_from_sku(run.me, sku, str(serial))
    elif item_id is not None:
        target = chain.bytes32(item_id, "--item-id")
    else:
        target = chain.bytes32(
            str(batch_root or batch["root"]), "--batch-root" if batch_root else "root"
        )
    registry = run.contract("ProductRegistry", run.address)
    if named and batch:
        entry = batch_item(batch, target)
        if entry is None:
            raise Stop(f"item 0x{target.hex()} is not in the manifest {manifest}")
        reg.activate_unregistered(run, registry, batch, entry)
    method = registry.recallItem if named else registry.recallBatch
    receipt = chain.send(run, method, target, keccak(text=reason), what="the recall")
    then = "escrow orders holding it refund its share: ape run buyer refund-recalled --order 0xID"
    chain.done(f"recalled {'item' if named else 'batch'} 0x{target.hex()}", receipt, then)


@registry_command("publish", "publish a batch manifest to the service: shoppers get the proofs")
@click.argument("manifest_file", type=FILE)
@click.option("--service", "service", help=SERVICE_URL_HELP)
def publish(run: Run, manifest_file: Path, service: str | None) -> None:
    """Publish MANIFEST_FILE (written by `register --batch`) to the TrustMall service, signed
    here by the batch's merchant (--account), so that shoppers get each item's Merkle proof."""
    manifest = reg.batch_manifest(manifest_file)
    root, shown = chain.bytes32(str(manifest["root"]), "root"), manifest["root"]
    # The service refuses a signer who is not the batch's merchant; asked first, the chain
    # saves a keyfile account its passphrase prompt and says what to do.
    owner = str(run.contract("ProductRegistry", run.address).batchOf(root).merchant)
    if owner == ZERO_ADDRESS:
        raise Stop(f"batch {shown} is not on this chain: ape run merchant register FILE --batch")
    if owner != run.me:
        raise Stop(f"batch {shown} is registered by {owner}, not by {run.me}")
    signed = run.signer.sign_message(manifest_message(root, manifest_content_hash(manifest)))
    if signed is None:
        raise Stop("the account declined to sign")
    base = service_url(service)
    payload = {"manifest": manifest, "signature": "0x" + signed.encode_rsv().hex()}
    try:
        body = fetch(f"{base}/v1/batches/{shown}/manifest", payload)
    except ServiceError as error:
        raise Stop(f"the service refused the manifest: {error}") from None
    said = "published" if body.get("created") else "already published, same content"
    same = "matches" if body.get("matches_onchain_metadata_hash") else "does NOT match"
    click.echo(
        f"{said}: batch {shown}, {body.get('item_count')} items, content hash "
        f"{body.get('content_hash')} {same} the batch's on-chain metadata hash"
    )
    click.echo(
        f"next: shoppers verify at {base}/verify/{manifest['items'][0]['item_id']}; give items "
        f"records of their own: ape run merchant activate {manifest_file}"
    )


@registry_command("status", "show the verdict of every item of a file or manifest")
@click.argument("input_path", metavar="INPUT_FILE", type=FILE)
@click.option("--merchant", help="Whose SKUs the sku/serial rows name (default: --account).")
def status(run: Run, input_path: Path, merchant: str | None) -> None:
    """Show the verdict of every item of INPUT_FILE, an item file or a manifest. Sends nothing."""
    registry = run.contract("ProductRegistry", run.address)
    manifest: dict[str, Any] = {}
    if reg.input_file(input_path).suffix.lower() == ".json":
        with contextlib.suppress(ValueError, KeyError):  # else an item file
            manifest = read_manifest(input_path)
    rows: list[tuple[str, str, str, Any]] = []
    if not manifest:
        given = parse_address(merchant, "--merchant") if merchant else run.account and run.me
        entries = load_items(input_path, given or ZERO_ADDRESS)  # a GS1 key names no merchant
        if not given and any(e.row.sku is not None for e in entries):
            raise Stop("sku/serial rows name the merchant's items: give --merchant or --account")
        rows += [(e.where, e.label, hex32(e.item_id), registry.verify(e.item_id)) for e in entries]
    root = manifest.get("root")
    for index, item in enumerate(manifest.get("items", [])):
        key = reg.activation_args(from_hex(root), item) if root else None
        verdict = (
            registry.verifyBatchItem(*key) if key else registry.verify(from_hex(item["item_id"]))
        )
        label = str(item.get("label") or item["item_id"])
        rows.append((f"item {index}", label, item["item_id"], verdict))
    for where, label, item_id, verdict in rows:
        click.echo(f"{where:<10} {item_id}  {Verdict(int(verdict)).name.lower():<18} {label}")
    click.echo(f"next: a shopper's page: {service_url(None)}/verify/0xITEM_ID")


SCRIPT = "ape run merchant order"
order = click.Group(
    "order",
    short_help="escrow orders: ship, release, settle, withdraw",
    help="""The merchant's side of OrderEscrow orders, each named by --order 0xID (terms from its
OrderOpened event) or by the buyer's --order-file. Every call is simulated first.""",
)
cli.add_command(order)
add_party_commands(order, "merchant", SCRIPT)
DELIVERED = "ape run carrier {verb} --carrier {carrier} --order {orderId}"
add_calls(order, (
    Call("ship", ("escrow",), "ship", "the merchant", "mark an order shipped",
         then="the carrier reports the delivery: " + DELIVERED.replace("{verb}", "delivered")),
    Call("assign-carrier", ("escrow",), "assignCarrier", "the merchant", "name the order's carrier",
         then="the carrier reports the pickup: " + DELIVERED.replace("{verb}", "shipped")),
), default_signer=None, address="escrow")  # fmt: skip


@escrow.command(order, short_help="release after the dispute window")
@escrow.order_options
@escrow.items_option("Release only these delivered items (0-based, repeatable).")
def release(
    run: Run, order_file: Path | None, order_id: str | None, items: tuple[int, ...]
) -> None:
    """Pay the order (or its --item shares) out to the merchant once the dispute window after
    delivery is over; anyone may send it. More: docs/scripts.md#merchant."""
    s = escrow.session(run, order_file, order_id)
    bits = escrow.bits_of(items, s.terms.item_count, "--item")
    receipt = s.send(*(("releaseItems", bits) if items else ("release",)), what="release")
    report(receipt, "released", f"{SCRIPT} withdraw", s.asset)


add_address_command(cli)
