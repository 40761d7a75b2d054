"""A merchant's files (items, custody events, batch manifests), batch items given records of their
own from their proofs (a recall, an order needs one), and which rows of a file the chain shows
done already (skipped, so an interrupted run simply starts again): every other rule is the
registry's to refuse, when the rows are simulated."""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any

from app.domain.abi_types import from_hex, hex32
from app.domain.custody_ids import custody_key, first_unspent
from app.domain.custody_rows import CustodyEntry
from app.domain.ids import item_key, manifest_item_key
from app.domain.item_rows import ItemEntry
from app.domain.manifest import batch_item, read_manifest
from app.domain.orders import ZERO_ADDRESS
from scripts._lib import chain
from scripts._lib.chain import Run, Stop
from scripts._lib.journal import Row

# The rows to send, and how many rows of the file are done already.
Planned = tuple[list[Row], int]


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
    same content). Rows without an id get the ids after the highest the signer spent or the file
    names, in sequence: consecutive ids share a storage word of the registry's bitmap."""
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
