"""`ape run merchant register` and `activate`: a merchant's items into the registry, singly
in chunks or as one Merkle batch, and batch items given records of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.domain.abi_types import hex32
from app.domain.deployments import write_json
from app.domain.item_rows import ItemEntry, load_items
from app.domain.manifest import build_manifest, read_manifest, singles_manifest
from scripts._lib import chain
from scripts._lib import registry as reg
from scripts._lib.chain import Run, Stop
from scripts._lib.journal import default_journal_path
from scripts._lib.service import service_url

MERCHANT = "The merchant: an Ape account alias, or TEST::N on a local network. Never a raw key."
JOURNAL_HELP = "Journal file (default: <input>.{}.journal.json)."


def rows_options(command: str, per_transaction: str) -> chain.Decorator:
    """--chunk-size and --journal of a command that sends a file's rows in chunks."""

    def decorate(fn: Any) -> Any:
        fn = click.option(
            "--journal", type=click.Path(path_type=Path), help=JOURNAL_HELP.format(command)
        )(fn)
        return click.option(
            "--chunk-size",
            type=click.IntRange(1, 1000),
            default=reg.DEFAULT_CHUNK_SIZE,
            show_default=True,
            help=per_transaction,
        )(fn)

    return decorate


def input_file(path: Path, hint: str = "INPUT_FILE") -> Path:
    if not path.is_file():
        raise Stop(f"{hint}: no such file: {path}")
    return path


def batch_manifest(path: Path, hint: str = "MANIFEST_FILE") -> dict[str, Any]:
    try:
        data = read_manifest(input_file(path, hint))
    except (ValueError, KeyError) as exc:
        raise Stop(f"{hint}: {exc}") from None
    if not data.get("root"):
        raise Stop(f"{hint}: {path} is not a batch manifest (no root)")
    return data


def show_items(entries: list[tuple[str, str]]) -> None:
    """Each item's id, label and the page where shoppers verify it."""
    base = service_url(None)
    for item_id, label in entries:
        click.echo(f"  item {item_id}  {label}  {base}/verify/{item_id}")


def register_command(group: click.Group) -> None:
    @chain.command(
        group,
        "register",
        short_help="register items from a CSV/JSON file",
        signer=MERCHANT,
        address="registry",
        dry_run=True,
    )
    @click.argument("input_path", metavar="INPUT_FILE", type=click.Path(path_type=Path))
    @click.option(
        "--batch", is_flag=True, help="Register all rows as one Merkle batch (registerBatch)."
    )
    @click.option(
        "--manifest",
        type=click.Path(path_type=Path),
        help="Where the manifest goes (with --batch default <input>.manifest.json; without "
        "--batch it is written only when asked: the items' ids, hashes and URIs).",
    )
    @click.option("--batch-uri", default="", help="With --batch: where the manifest is published.")
    @rows_options("register", "Items per registerItems transaction.")
    def register(
        run: Run,
        input_path: Path,
        batch: bool,
        manifest: Path | None,
        batch_uri: str,
        chunk_size: int,
        journal: Path | None,
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
        verifier granted you (`ape run ops grant-prefix`). The ids are printed, one per row, with
        the page where shoppers verify each.

        The whole file is validated first; each transaction is then simulated (a refusal is
        explained from the registry's error, naming the row). Items this merchant already
        registered with the same metadata are skipped, so an interrupted run can simply be
        started again.
        """
        entries = load_items(input_file(input_path), run.me)
        if batch and manifest is None:
            manifest = input_path.with_name(f"{input_path.name}.manifest.json")
        if manifest is not None:
            chain.writable(manifest, "--manifest")
        command = "register-batch" if batch else "register"
        registry = reg.open_registry(run)
        log = reg.open_journal(
            run, registry, journal or default_journal_path(input_path, command), command
        )
        if batch:
            assert manifest is not None
            _register_batch(run, registry, entries, manifest, batch_uri, log)
            return
        plan = reg.plan_items(registry, run.me, entries)
        if plan.done:
            click.echo(f"{len(plan.done)} item(s) already registered by you: skipped")
        receipts = reg.send_rows(
            run,
            registry.contract.registerItems,
            plan.to_send,
            lambda e: (e.key, e.metadata_hash, e.metadata_uri),
            lambda e: hex32(e.item_id),
            chunk_size=chunk_size,
            journal=log,
            label="registering",
        )
        if run.dry_run:
            chain.dry_run_report(f"would register {len(plan.to_send)} item(s)")
            return
        click.echo(f"registered {len(plan.to_send)} item(s) in {len(receipts)} transaction(s)")
        for receipt in receipts:
            click.echo(f"  tx {receipt.txn_hash}")
        show_items([(hex32(e.item_id), e.label) for e in entries])
        if manifest is not None:
            from ape import chain as ape_chain

            data = singles_manifest(
                entries, chain_id=int(ape_chain.chain_id), registry=registry.address,
                merchant=run.me,
            )  # fmt: skip
            write_json(manifest, data)
            click.echo(f"manifest {manifest}")
        click.echo(
            f"next: record custody events (ape run merchant custody FILE), or check them: "
            f"ape run merchant status {input_path} --account {_account(run)}"
        )


def _account(run: Run) -> str:
    alias = getattr(run.account, "alias", None)
    return str(alias) if alias else "ACCOUNT"


def _register_batch(
    run: Run,
    registry: reg.Registry,
    entries: list[ItemEntry],
    target: Path,
    batch_uri: str,
    log: Any,
) -> None:
    from ape import chain as ape_chain

    manifest = build_manifest(
        entries, chain_id=int(ape_chain.chain_id), registry=registry.address, merchant=run.me
    )
    root = hex32(manifest.root)
    if reg.batch_registered(registry, run.me, manifest, entries):
        click.echo(f"batch {root} is already registered by you: nothing to send")
    else:
        args = (manifest.root, manifest.item_count, manifest.metadata_hash, batch_uri)
        call = registry.contract.registerBatch
        receipt = chain.send(run, call, *args, what="the batch", journal=log, keys=[root])
        if receipt is None:
            chain.dry_run_report(f"would register a batch of {manifest.item_count} item(s)")
            return
        click.echo(
            f"registered batch {root} of {manifest.item_count} item(s) in tx {receipt.txn_hash}"
        )
    write_json(target, manifest.data)
    click.echo(f"manifest {target} (metadataHash 0x{manifest.metadata_hash.hex()})")
    show_items([(hex32(e.item_id), e.label) for e in entries[:5]])
    if len(entries) > 5:
        click.echo(f"  ... and {len(entries) - 5} more in the manifest")
    click.echo(
        f"next: publish the manifest so shoppers get each item's proof: ape run merchant "
        f"publish {target} --account {_account(run)}"
    )


def activate_command(group: click.Group) -> None:
    @chain.command(
        group,
        "activate",
        short_help="activate batch items from a manifest",
        signer="Who sends (and pays for) the activations: an Ape account alias, or TEST::N.",
        address="registry",
        dry_run=True,
    )
    @click.argument("manifest_file", type=click.Path(path_type=Path))
    @click.option(
        "--item",
        "items",
        multiple=True,
        metavar="0xID",
        help="Activate only this item of the manifest (repeatable; default: every item).",
    )
    @rows_options("activate", "Items per activateBatchItems transaction.")
    def activate(
        run: Run,
        manifest_file: Path,
        items: tuple[str, ...],
        chunk_size: int,
        journal: Path | None,
    ) -> None:
        """Give the items of a batch MANIFEST_FILE (written by `register --batch`) records of
        their own, so that custody events, recalls and escrow orders can name them: each is
        proven by its key (SKU or GTIN, and serial), metadata hash and Merkle proof from the
        manifest (`activateBatchItems`, --chunk-size items a transaction). Anyone may send them
        (--account pays the gas); the registry derives each id under the batch's merchant, so a
        batch holds only its merchant's own ids. Items already activated are skipped, here and
        by the registry: an interrupted run simply starts again. Each transaction is simulated
        first; a refusal is explained from the registry's error (e.g. a GTIN whose prefix was
        never granted to the batch's merchant)."""
        manifest = batch_manifest(manifest_file)
        wanted = [chain.bytes32(item, "--item") for item in items] or None
        registry = reg.open_registry(run)
        log = reg.open_journal(
            run, registry, journal or default_journal_path(manifest_file, "activate"), "activate"
        )
        to_send, done = reg.to_activate(registry, manifest, wanted)
        if done:
            click.echo(f"{len(done)} item(s) already activated: skipped")
        if not to_send:
            click.echo("nothing to activate; nothing was sent")
            return
        root = reg.root_of(manifest)
        receipts = reg.send_rows(
            run,
            registry.contract.activateBatchItems,
            to_send,
            lambda item: tuple(reg.activation_args(root, item)[1:]),
            lambda item: str(item["item_id"]),
            chunk_size=chunk_size,
            journal=log,
            label="activating",
            leading=(root,),
        )
        if run.dry_run:
            chain.dry_run_report(f"would activate {len(to_send)} item(s)")
            return
        click.echo(
            f"activated {len(to_send)} item(s) of batch 0x{root.hex()} in "
            f"{len(receipts)} transaction(s)"
        )
        for receipt in receipts:
            click.echo(f"  tx {receipt.txn_hash}")
        for item in to_send:
            click.echo(f"  item {item['item_id']}  {item.get('label', '')}")
        click.echo("next: record their custody events: ape run merchant custody FILE")
