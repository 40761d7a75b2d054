"""The demo's own steps, between the merchant's: `ape run demo report|verdicts`.

`make demo` (tools/demo.py) runs the whole story on a local chain; these subcommands are the
parts played by the platform's verifier and by shoppers. They sign with Ape test accounts and
so run on local networks only.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option
from eth_utils.crypto import keccak

from app.domain.abi_types import from_hex
from app.domain.deployments import deployments_dir, load_record
from app.domain.vocab import CustodyAction, Verdict
from scripts._lib.registry import activation_args

VERIFIER_INDEX = 0
SHOPPER_INDEX = 4


def _registry(network: Any) -> Any:
    if not network.is_local:
        raise click.UsageError("the demo signs with test accounts: local networks only")
    record = load_record(deployments_dir(), chain.chain_id)
    if record is None or "ProductRegistry" not in record.contracts:
        raise click.UsageError(f"no deployment for chain {chain.chain_id}: run `ape run deploy`")
    return project.ProductRegistry.at(record.contracts["ProductRegistry"].address)


@click.group()
def cli() -> None:
    """The verifier's and shoppers' parts of the demo story."""


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@click.option("--item-id", "item_id_hex", required=True, help="The reported item, 0x-hex.")
def report(network: Any, item_id_hex: str) -> None:
    """A shopper reports a counterfeit; the verifier checks the evidence and confirms it."""
    registry = _registry(network)
    shopper = accounts.test_accounts[SHOPPER_INDEX]
    verifier = accounts.test_accounts[VERIFIER_INDEX]
    item_id = from_hex(item_id_hex)
    evidence = keccak(text="photo of a label with a misprinted hologram; seller: street market")
    receipt = registry.fileReport(item_id, 0, evidence, sender=shopper)
    report_id = receipt.events.filter(registry.ReportFiled)[0].reportId
    click.echo(f"shopper {shopper.address} filed counterfeit report #{report_id}")
    registry.confirmReport(report_id, keccak(text="hologram serial not issued"), sender=verifier)
    click.echo(f"verifier confirmed report #{report_id}: item flagged")


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@click.option(
    "--manifest",
    "manifests",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A register manifest (single or batch); repeatable.",
)
@click.option("--show", default=3, show_default=True, help="Batch items listed one by one.")
def verdicts(network: Any, manifests: tuple[Path, ...], show: int) -> None:
    """Prints each item's verdict as a shopper's scan reads it from the chain.

    Every item of a batch is checked with its proof; the first --show are listed, the rest counted.
    """
    registry = _registry(network)
    for path in manifests:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        root = manifest.get("root")
        tally: Counter[str] = Counter()
        for index, item in enumerate(manifest["items"]):
            item_id = from_hex(item["item_id"])
            if root:
                # The registry derives the id from the item's key under the batch's merchant.
                code = registry.verifyBatchItem(*activation_args(from_hex(root), item))
            else:
                code = registry.verify(item_id)
            verdict = Verdict(code).name.replace("_", " ").lower()
            tally[verdict] += 1
            if root and index >= show:
                continue
            status = CustodyAction(registry.itemOf(item_id).lastAction).name.lower()
            trail = "" if status == "none" else f"  (last custody event: {status})"
            click.echo(f"  {item.get('label') or item['item_id']:<44} {verdict}{trail}")
        if root:
            counts = ", ".join(f"{count} {verdict}" for verdict, count in sorted(tally.items()))
            click.echo(f"  batch {root[:18]}…: {len(manifest['items'])} items checked: {counts}")
