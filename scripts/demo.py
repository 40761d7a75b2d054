"""The demo's own steps, between the merchant's: `ape run demo report|verdicts`, the parts the
platform's verifier and shoppers play in `make demo` (tools/demo.py). They sign with Ape test
accounts, so run on local networks only."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import click
from ape import accounts
from eth_utils.crypto import keccak

from app.domain.abi_types import from_hex
from app.domain.vocab import CustodyAction, Verdict
from scripts._lib import chain
from scripts._lib.registry import activation_args

VERIFIER_INDEX, SHOPPER_INDEX = 0, 4


def _run(network: Any, directory: Path | None, test_index: int) -> chain.Run:
    if not network.is_local:
        raise click.UsageError("the demo signs with test accounts: local networks only")
    return chain.Run(network, accounts.test_accounts[test_index], directory)


@click.group()
def cli() -> None:
    """The verifier's and shoppers' parts of the demo story."""


@cli.command(cls=chain.Command)
@chain.deployments_dir_option
@click.option("--item-id", "item_id_hex", required=True, help="The reported item, 0x-hex.")
def report(network: Any, deployments_dir: Path | None, item_id_hex: str) -> None:
    """A shopper reports a counterfeit; the verifier checks the evidence and confirms it."""
    shopper = _run(network, deployments_dir, SHOPPER_INDEX)
    registry = shopper.contract("ProductRegistry")
    evidence = keccak(text="photo of a label with a misprinted hologram; seller: street market")
    call, item_id = registry.fileReport, from_hex(item_id_hex)
    receipt = chain.send(shopper, call, item_id, 0, evidence, what="the report")
    report_id = receipt.events.filter(registry.ReportFiled)[0].reportId
    click.echo(f"shopper {shopper.me} filed counterfeit report #{report_id}")
    finding = keccak(text="hologram serial not issued")
    verifier = _run(network, deployments_dir, VERIFIER_INDEX)
    chain.send(verifier, registry.confirmReport, report_id, finding, what="the confirmation")
    click.echo(f"verifier confirmed report #{report_id}: item flagged")


@cli.command(cls=chain.Command)
@chain.deployments_dir_option
@click.option(
    "--manifest",
    "manifests",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A register manifest (single or batch); repeatable.",
)
@click.option("--show", default=3, show_default=True, help="Batch items listed one by one.")
def verdicts(
    network: Any, deployments_dir: Path | None, manifests: tuple[Path, ...], show: int
) -> None:
    """Prints each item's verdict as a shopper's scan reads it from the chain.

    Every item of a batch is checked with its proof; the first --show are listed, the rest counted.
    """
    registry = _run(network, deployments_dir, SHOPPER_INDEX).contract("ProductRegistry")
    for path in manifests:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        root, tally = manifest.get("root"), Counter[str]()
        for index, item in enumerate(manifest["items"]):
            item_id = from_hex(item["item_id"])
            if root:  # the registry derives the id from the item's key under the batch's merchant
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
