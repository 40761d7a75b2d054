"""The demo's own steps, between the merchant's: `ape run demo onboard|report|verdicts`.

`make demo` (tools/demo.py) runs the whole story on a local chain; these subcommands are the
parts played by the platform's verifier and by shoppers. They sign with Ape test accounts and
so run on local networks only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand, network_option
from eth_utils import keccak

from scripts._lib.deployments import deployments_dir, load_record
from scripts._lib.vocab import Verdict

VERIFIER_INDEX = 0
MERCHANT_INDEX = 2
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
@click.option("--name", default="Northwind Outfitters", show_default=True)
def onboard(network: Any, name: str) -> None:
    """The platform's verifier approves the demo merchant (test account 2)."""
    registry = _registry(network)
    verifier = accounts.test_accounts[VERIFIER_INDEX]
    merchant = accounts.test_accounts[MERCHANT_INDEX]
    if registry.merchantOf(merchant).status != 0:
        click.echo(f"merchant {merchant.address} already onboarded")
        return
    identity_hash = keccak(text=f"{name}|company-register:HRB-0451|vat:DE811907980")
    registry.approveMerchant(merchant, name, identity_hash, sender=verifier)
    click.echo(f"verifier approved merchant {name!r} at {merchant.address}")


@cli.command(cls=ConnectedProviderCommand)
@network_option()
@click.option("--item-id", "item_id_hex", required=True, help="The reported item, 0x-hex.")
def report(network: Any, item_id_hex: str) -> None:
    """A shopper reports a counterfeit; the verifier checks the evidence and confirms it."""
    registry = _registry(network)
    shopper = accounts.test_accounts[SHOPPER_INDEX]
    verifier = accounts.test_accounts[VERIFIER_INDEX]
    item_id = bytes.fromhex(item_id_hex.removeprefix("0x"))
    evidence = keccak(text="photo of a label with a misprinted hologram; seller: street market")
    receipt = registry.fileReport(item_id, 0, evidence, sender=shopper)
    report_id = receipt.return_value or registry.reportCount()
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
def verdicts(network: Any, manifests: tuple[Path, ...]) -> None:
    """Prints every item's verdict, as a shopper's scan would read it from the chain."""
    registry = _registry(network)
    for path in manifests:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        root = manifest.get("root")
        for item in manifest["items"]:
            item_id = bytes.fromhex(item["item_id"].removeprefix("0x"))
            if root:
                proof = [bytes.fromhex(node.removeprefix("0x")) for node in item["proof"]]
                metadata_hash = bytes.fromhex(item["metadata_hash"].removeprefix("0x"))
                code = registry.verifyBatchItem(root, item_id, metadata_hash, proof)
                where = "batch"
            else:
                code = registry.verify(item_id)
                where = "single"
            verdict = Verdict(code).name.replace("_", " ").lower()
            label = item.get("label") or item["item_id"][:18]
            click.echo(f"  {label:<34} {where:<6} {verdict}")
