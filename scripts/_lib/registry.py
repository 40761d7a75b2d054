"""Merchant operations on a deployed ProductRegistry: items registered in chunks or as one
Merkle batch, batch items activated, recalls, verdicts. Used by ``ape run merchant``.

Every transaction is simulated first (``scripts._lib.chain.send``): a refusal stops the run with
the registry's own error, and the row it names (an item id in the error is looked up among the
chunk's rows). Items are sent as the registry's ``ItemKey``; the registry derives their ids.

Idempotence: every run re-reads the chain before sending. An item this merchant already
registered with the same metadata hash and URI (from its ``ItemRegistered`` logs), a batch root
it registered, a batch item already activated: counted as done and skipped, so an interrupted
run simply starts again. A journal (``journal.py``) keeps the transaction hashes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import click

from app.domain.abi_types import from_hex, hex32
from app.domain.ids import item_key, manifest_item_key
from app.domain.item_rows import ItemEntry
from app.domain.manifest import Manifest, batch_item
from app.domain.orders import ZERO_ADDRESS
from app.domain.vocab import Verdict
from scripts._lib import chain
from scripts._lib.chain import Run, Stop
from scripts._lib.journal import Journal

DEFAULT_CHUNK_SIZE = 100


@dataclass(frozen=True)
class Registry:
    contract: Any
    from_block: int

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def logs(self, event: str, topics: dict[str, Any]) -> list[Any]:
        return chain.logs(self.contract, event, topics, self.from_block)


def open_registry(run: Run) -> Registry:
    contract = run.contract("ProductRegistry", run.address)
    return Registry(contract, run.record_block("ProductRegistry", str(contract.address)))


def open_journal(run: Run, registry: Registry, path: Any, command: str) -> Journal:
    """This run's journal section; transactions a previous run left in flight are settled from
    their receipts first."""
    from ape import chain as ape_chain

    journal = Journal.open(path, command, int(ape_chain.chain_id), registry.address, run.me)
    if run.dry_run:
        return journal
    for tx in journal.pending():
        try:
            receipt = ape_chain.provider.get_receipt(tx["tx_hash"], timeout=30)
        except Exception:  # never mined, or dropped: the chain check decides
            journal.settle(tx["tx_hash"], ok=False, block_number=None)
            click.echo(f"journal: {tx['tx_hash']} was never mined; its rows are re-checked")
            continue
        journal.settle(tx["tx_hash"], ok=not receipt.failed, block_number=receipt.block_number)
        click.echo(f"journal: {tx['tx_hash']} {'confirmed' if not receipt.failed else 'failed'}")
    return journal


def send_rows(
    run: Run,
    method: Any,
    rows: Sequence[Any],
    as_input: Callable[[Any], Any],
    key: Callable[[Any], str],
    *,
    chunk_size: int,
    journal: Journal | None,
    label: str,
    leading: Sequence[Any] = (),
) -> list[Any]:
    """Calls ``method`` with ``chunk_size`` rows at a time (after the ``leading`` arguments),
    each transaction simulated first; returns the receipts (none in a dry run)."""
    receipts = []
    with chain.progress(len(rows), label) as bar:
        for start in range(0, len(rows), chunk_size):
            chunk = rows[start : start + chunk_size]
            keys = [key(row) for row in chunk]
            what = f"rows {start + 1}-{start + len(chunk)}"
            if len(chunk) == 1:
                what = getattr(chunk[0], "where", None) or f"{label} {keys[0]}"
            args = [*leading, [as_input(r) for r in chunk]]
            try:
                receipt = chain.send(run, method, *args, what=what, journal=journal, keys=keys)
            except Stop as stop:
                if len(chunk) == 1:
                    raise
                raise Stop(_name_row(stop.message, chunk, keys)) from None
            if receipt is not None:
                receipts.append(receipt)
            bar.update(len(chunk))
    return receipts


def _name_row(message: str, chunk: Sequence[Any], keys: list[str]) -> str:
    """The refusal with the row whose key (an item id, an event id) the error names."""
    for row, key in zip(chunk, keys, strict=True):
        if key.lower() in message.lower() and getattr(row, "where", None):
            return f"{row.where}: {message}"
    return message


# ---------------------------------------------------------------------------------------- items


@dataclass
class ItemPlan:
    to_send: list[ItemEntry] = field(default_factory=list)
    done: list[ItemEntry] = field(default_factory=list)


def plan_items(registry: Registry, merchant: str, entries: list[ItemEntry]) -> ItemPlan:
    """Which rows this merchant already registered with the same metadata (skipped); the others
    go to the registry, which refuses what it must."""
    mine = {
        bytes(log.itemId): (bytes(log.metadataHash), str(log.metadataURI))
        for log in registry.logs("ItemRegistered", {"merchant": merchant})
    }
    plan = ItemPlan()
    for entry in entries:
        same = mine.get(entry.item_id) == (entry.metadata_hash, entry.metadata_uri)
        (plan.done if same else plan.to_send).append(entry)
    return plan


def item_verdicts(
    registry: Registry, entries: list[ItemEntry]
) -> list[tuple[str, str, bytes, Verdict]]:
    return [
        (e.where, e.label, e.item_id, Verdict(int(registry.contract.verify(e.item_id))))
        for e in entries
    ]


def batch_registered(
    registry: Registry, merchant: str, manifest: Manifest, entries: list[ItemEntry]
) -> bool:
    """True when this merchant registered this root already. Otherwise asks the registry whether
    it would derive an id from each GTIN under ``merchant`` (``itemIdOfKey``): a GTIN whose
    prefix no verifier granted would leave its batch items unknown, never activated."""
    if str(registry.contract.batchOf(manifest.root).merchant) == merchant:
        return True
    seen: set[str] = set()
    for entry in entries:
        gtin = entry.row.gtin
        if gtin is None or gtin in seen:
            continue
        seen.add(gtin)
        refused = chain.refusal(registry.contract.itemIdOfKey, merchant, entry.key)
        if refused is not None:
            raise Stop(f"{entry.where} ({entry.label}): the registry refuses its key: {refused}")
    return False


# ---------------------------------------------------------------------------------------- batches


def root_of(manifest: dict[str, Any]) -> bytes:
    return from_hex(str(manifest.get("root") or "0x" + "00" * 32))


def activation_args(root: bytes, item: dict[str, Any]) -> list[Any]:
    """``activateBatchItem`` / ``verifyBatchItem`` arguments: root, key, metadata hash, proof."""
    found = manifest_item_key(item)
    if found is None:
        raise Stop(f"manifest item {item.get('item_id')} names no sku/gtin and serial")
    proof = [from_hex(node) for node in item.get("proof", [])]
    return [root, item_key(*found), from_hex(item["metadata_hash"]), proof]


def activate_unregistered(
    run: Run, contract: Any, manifest: dict[str, Any], item: dict[str, Any]
) -> None:
    """Activates a batch item of ``manifest`` from its proof, unless it has a record already (a
    recall, an order, need one)."""
    if str(contract.itemOf(from_hex(item["item_id"])).merchant) != ZERO_ADDRESS:
        return
    args = activation_args(root_of(manifest), item)
    what = f"the activation of batch item {item['item_id']}"
    receipt = chain.send(run, contract.activateBatchItem, *args, what=what)
    chain.done(f"activated batch item {item['item_id']}", receipt)


def to_activate(
    registry: Registry, manifest: dict[str, Any], wanted: list[bytes] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(to send, done): which manifest items (all, or ``wanted``) still need their own record."""
    items = manifest["items"]
    if wanted is not None:
        missing = [hex32(i) for i in wanted if batch_item(manifest, i) is None]
        if missing:
            raise Stop(f"--item: {', '.join(missing)} not in the manifest; nothing was sent")
        items = [batch_item(manifest, i) for i in dict.fromkeys(wanted)]
    batch_merchant = str(registry.contract.batchOf(root_of(manifest)).merchant)
    send: list[dict[str, Any]] = []
    done: list[dict[str, Any]] = []
    for item in items:
        record = registry.contract.itemOf(from_hex(item["item_id"]))
        ok = str(record.merchant) == batch_merchant != ZERO_ADDRESS and bool(record.inBatch)
        (done if ok else send).append(item)
    return send, done


def manifest_verdicts(
    registry: Registry, manifest: dict[str, Any]
) -> list[tuple[str, str, bytes, Verdict]]:
    """Verdicts of a manifest's items: batch items through their keys and proofs
    (``verifyBatchItem``), items of a singles manifest through ``verify``."""
    root = root_of(manifest) if manifest.get("root") else None
    found = []
    for index, item in enumerate(manifest["items"]):
        item_id = from_hex(item["item_id"])
        if root is None:
            verdict = registry.contract.verify(item_id)
        elif manifest_item_key(item) is None:  # written before items carried their keys
            verdict = Verdict.UNKNOWN
        else:
            verdict = registry.contract.verifyBatchItem(*activation_args(root, item))
        label = str(item.get("label") or item["item_id"])
        found.append((f"item {index}", label, item_id, Verdict(int(verdict))))
    return found
