"""A merchant's files (items, custody events, batch manifests) and their rows sent to the
registry: which rows the chain shows done already (skipped, so an interrupted run simply starts
again), batch items given records of their own from their proofs (a recall, an order needs one),
and the rows sent in chunks, each simulated first, with the run's journal of what was sent
(docs/scripts.md#journals). Every other rule is the registry's to refuse."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import click

from app.domain.abi_types import from_hex, hex32
from app.domain.custody_ids import custody_key, first_unspent
from app.domain.custody_rows import CustodyEntry
from app.domain.deployments import write_json
from app.domain.ids import item_key, manifest_item_key
from app.domain.item_rows import ItemEntry
from app.domain.manifest import batch_item, read_manifest
from app.domain.orders import ZERO_ADDRESS
from scripts._lib import chain
from scripts._lib.chain import Run, Stop

CRASH_AFTER_CHUNKS_ENV = "TRUSTMALL_CRASH_AFTER_CHUNKS"
CRASH_EXIT_CODE = 75
VERSION = 1
# A row to send: its key (an item id, an event id), where the file names it, its ABI input.
Row = tuple[str, str, Any]
# The rows to send, and how many rows of the file are done already.
Planned = tuple[list[Row], int]
# What a command's rows are called: verb, noun, and who did the rows done already.
WORDS = {
    "register": ("register", "item", "already registered by you"),
    "activate": ("activate", "item", "already activated"),
    "custody": ("record", "event", "already recorded by you"),
}


def chunks(rows: list[Row], size: int) -> Iterator[tuple[list[Row], str]]:
    """The rows ``size`` at a time, each chunk with how the output names it: a single row by its
    place in the file, else by the rows' numbers."""
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        yield chunk, chunk[0][1] if len(chunk) == 1 else f"rows {start + 1}-{start + len(chunk)}"


def naming_the_row(chunk: list[Row], message: str) -> str:
    """A refusal of the chunk, led by the place of the first row whose key it names."""
    said = message.lower()
    named = [where for key, where, _ in chunk if len(chunk) > 1 and key.lower() in said]
    return ": ".join([*named[:1], message])


class Journal:
    """This run's section of the journal at ``path`` (else beside the input), and the sending of
    its rows, ``size`` a transaction."""

    def __init__(
        self, run: Run, registry: Any, source: Path, command: str, path: Path | None, size: int
    ) -> None:
        self.run, self.command, self.size, self.chunks = run, command, size, 0
        self.path = path or source.with_name(f"{source.name}.{command}.journal.json")
        self.data: dict[str, Any] = {"version": VERSION, "command": command, "runs": {}}
        if self.path.is_file():
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
            if self.data.get("version") != VERSION or self.data.get("command") != command:
                raise Stop(
                    f"--journal: {self.path} is not a version-{VERSION} journal of `{command}`; "
                    "pass --journal with another path"
                )
        section = self.data.setdefault("runs", {}).setdefault(
            f"{run.network.chain_id}:{registry.address}:{run.me}", {"transactions": []}
        )
        self.transactions: list[dict[str, Any]] = section["transactions"]
        for tx in [] if run.dry_run else [t for t in self.transactions if t["status"] == "sent"]:
            try:
                receipt = run.network.provider.get_receipt(tx["tx_hash"], timeout=30)
                ok, block = not receipt.failed, receipt.block_number
            except Exception:  # never mined, or dropped: the chain check decides
                ok, block = False, None
            tx["status"], tx["block_number"] = ("confirmed" if ok else "failed"), block
            write_json(self.path, self.data)
            said = "confirmed" if ok else "failed or was never mined; its rows are re-checked"
            click.echo(f"journal: {tx['tx_hash']} {said}")

    # ``chain.send`` calls these two around each transaction it sends with this journal.
    def sent(self, keys: list[str], tx_hash: str) -> None:
        self.transactions.append({"keys": keys, "status": "sent", "tx_hash": tx_hash})
        write_json(self.path, self.data)

    def chunk_confirmed(self, tx_hash: str, block_number: int) -> None:
        self.chunks += 1
        crash_after = os.environ.get(CRASH_AFTER_CHUNKS_ENV)
        if crash_after is not None and self.chunks >= int(crash_after):
            os._exit(CRASH_EXIT_CODE)
        self.transactions[-1] |= {"status": "confirmed", "block_number": block_number}
        write_json(self.path, self.data)

    def send(self, method: Any, rows: list[Row], done: int, *lead: bytes) -> None:
        """Calls ``method`` (after the ``lead`` arguments: a batch's root) with the rows, a chunk at
        a time, and says what was done; a refusal names the row the contract's error names."""
        verb, noun, skipped = WORDS[self.command]
        stem, receipts = verb.removesuffix("e"), []
        if done:
            click.echo(f"{done} {noun}(s) {skipped}: skipped")
        if not rows:
            click.echo(f"nothing to {verb}; nothing was sent")
            return
        with chain.progress(len(rows), f"{stem}ing") as bar:
            for chunk, what in chunks(rows, self.size):
                keys = [key for key, _, _ in chunk]
                args = [*lead, [row for _, _, row in chunk]]
                try:
                    receipts.append(
                        chain.send(self.run, method, *args, what=what, journal=self, keys=keys)
                    )
                except Stop as stop:
                    raise Stop(naming_the_row(chunk, stop.message)) from None
                bar.update(len(chunk))
        if self.run.dry_run:
            chain.dry_run_report(f"would {verb} {len(rows)} {noun}(s)")
            return
        of = f" of batch {hex32(lead[0])}" if lead else ""
        click.echo(f"{stem}ed {len(rows)} {noun}(s){of} in {len(receipts)} transaction(s)")
        for receipt in receipts:
            click.echo(f"  tx {receipt.txn_hash}")


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
    """Activates a batch item of ``manifest`` from its proof, unless it has a record already."""
    if str(contract.itemOf(from_hex(item["item_id"])).merchant) != ZERO_ADDRESS:
        return
    args = activation_args(from_hex(manifest["root"]), item)
    what = f"the activation of batch item {item['item_id']}"
    receipt = chain.send(run, contract.activateBatchItem, *args, what=what)
    chain.done(f"activated batch item {item['item_id']}", receipt)


def items_to_register(run: Run, registry: Any, entries: list[ItemEntry]) -> Planned:
    """The items the signer has not registered yet with the same metadata hash and URI."""
    start = run.record_block("ProductRegistry", str(registry.address))
    mine = {
        bytes(log.itemId): (bytes(log.metadataHash), str(log.metadataURI))
        for log in chain.logs(registry, "ItemRegistered", {"merchant": run.me}, start)
    }
    rows = [
        (hex32(e.item_id), e.where, (e.key, e.metadata_hash, e.metadata_uri))
        for e in entries
        if mine.get(e.item_id) != (e.metadata_hash, e.metadata_uri)
    ]
    return rows, len(entries) - len(rows)


def events_to_record(run: Run, registry: Any, entries: list[CustodyEntry]) -> Planned:
    """The events the signer has not recorded yet (the same id and content, or without an id the
    same content); rows without an id get the next ids in sequence (docs/scripts.md#custody)."""
    start = run.record_block("ProductRegistry", str(registry.address))
    recorded = {
        int(log.eventId): custody_key(
            log.itemId, log.action, log.occurredAt, log.locationHash, log.contextHash
        )
        for log in chain.logs(registry, "CustodyRecorded", {"submitter": run.me}, start)
    }
    said = set(recorded.values())
    named = [e.event_id for e in entries if e.event_id is not None]
    fresh = count(first_unspent([*recorded, *named]))
    rows: list[Row] = []
    for e in entries:
        if e.natural_key in (said if e.event_id is None else {recorded.get(e.event_id)}):
            continue  # recorded already: under its id, or (given none) under any
        event_id = next(fresh) if e.event_id is None else e.event_id
        inputs = (int(e.action), e.occurred_at, e.location_hash, e.context_hash)
        rows.append((str(event_id), e.where, (e.item_id, event_id, *inputs)))
    return rows, len(entries) - len(rows)


def items_to_activate(registry: Any, manifest: dict[str, Any], wanted: list[bytes]) -> Planned:
    """The manifest's items (all, or the ``wanted`` ones) with no record in its batch yet."""
    missing = [hex32(i) for i in wanted if batch_item(manifest, i) is None]
    if missing:
        raise Stop(f"--item: {', '.join(missing)} not in the manifest; nothing was sent")
    root = from_hex(manifest["root"])
    items = [batch_item(manifest, i) or {} for i in dict.fromkeys(wanted)] or manifest["items"]
    merchant = str(registry.batchOf(root).merchant)
    rows: list[Row] = []
    for item in items:
        record = registry.itemOf(from_hex(item["item_id"]))
        if merchant == ZERO_ADDRESS or str(record.merchant) != merchant or not record.inBatch:
            where = f"item {item['item_id']}  {item.get('label', '')}"
            rows.append((item["item_id"], where, tuple(activation_args(root, item)[1:])))
    return rows, len(items) - len(rows)
