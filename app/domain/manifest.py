"""The manifest of a Merkle batch: every item's id, metadata hash, URI and proof, plus the root.

The batch's on-chain ``metadataHash`` is ``keccak256(canonical_json(manifest))`` of exactly the
object written to the manifest file (which is pretty-printed; parse it and canonicalize to check).
Nothing in it depends on time or transactions, so the same input always gives the same manifest::

    {
      "version": 1, "chain_id": 1337, "registry": "0x...", "merchant": "0x...",
      "root": "0x...", "item_count": 3, "leaf_encoding": ["bytes32", "bytes32"],
      "items": [
        {"item_id": "0x...", "label": "sku MUG-01 serial 0001", "metadata_hash": "0x...",
         "metadata_uri": "ipfs://...", "proof": ["0x...", ...],
         "sku": "MUG-01", "serial": "0001"}                        # or "gtin" for GS1 items
      ]
    }

``register --manifest`` without ``--batch`` writes the same shape without ``root``,
``leaf_encoding`` and proofs: the list of items registered singly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.abi_types import ADDRESS_PATTERN, BYTES32_PATTERN, hex32
from app.domain.item_rows import ItemEntry
from app.domain.merkle import LEAF_ENCODING, BatchLeaf, ItemBatch
from app.domain.metadata import metadata_hash

VERSION = 1


@dataclass(frozen=True)
class Manifest:
    data: dict[str, Any]
    root: bytes
    item_count: int

    @property
    def metadata_hash(self) -> bytes:
        return metadata_hash(self.data)


def _item(entry: ItemEntry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "item_id": hex32(entry.item_id),
        "label": entry.label,
        "metadata_hash": hex32(entry.metadata_hash),
        "metadata_uri": entry.metadata_uri,
        "serial": entry.row.serial,
    }
    if entry.row.gtin is not None:
        item["gtin"] = entry.row.gtin
    else:
        item["sku"] = entry.row.sku
    return item


def build_manifest(
    entries: list[ItemEntry], *, chain_id: int, registry: str, merchant: str
) -> Manifest:
    """The manifest of a Merkle batch of ``entries``, each item with its proof."""
    batch = ItemBatch([BatchLeaf(e.item_id, e.metadata_hash) for e in entries])
    items = [
        {**_item(entry), "proof": [hex32(node) for node in batch.proof(entry.item_id)]}
        for entry in entries
    ]
    data = {
        "version": VERSION,
        "chain_id": chain_id,
        "registry": registry,
        "merchant": merchant,
        "root": hex32(batch.root),
        "item_count": len(entries),
        "leaf_encoding": list(LEAF_ENCODING),
        "items": items,
    }
    return Manifest(data=data, root=batch.root, item_count=len(entries))


def singles_manifest(
    entries: list[ItemEntry], *, chain_id: int, registry: str, merchant: str
) -> dict[str, Any]:
    """The list of items registered singly (no root, no proofs): what labels and apps need."""
    return {
        "version": VERSION,
        "chain_id": chain_id,
        "registry": registry,
        "merchant": merchant,
        "item_count": len(entries),
        "items": [_item(entry) for entry in entries],
    }


def read_manifest(path: Path) -> dict[str, Any]:
    """A manifest file: a batch's (with ``root``) or a list of single items (without)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ValueError(f"{path} is not a manifest (needs 'items')")
    return data


def batch_item(manifest: dict[str, Any], item_id: bytes) -> dict[str, Any] | None:
    """The manifest entry of an item, or None."""
    wanted = hex32(item_id)
    return next((item for item in manifest["items"] if item["item_id"] == wanted), None)


class ManifestItemDocument(BaseModel):
    model_config = ConfigDict(extra="allow")

    item_id: str = Field(pattern=BYTES32_PATTERN)
    metadata_hash: str = Field(pattern=BYTES32_PATTERN)
    metadata_uri: str | None = None
    label: str | None = None
    sku: str | None = None
    gtin: str | None = None
    serial: str | None = None


class ManifestDocument(BaseModel):
    """The fields of a batch manifest the service relies on when it is published (others are
    kept as they are)."""

    model_config = ConfigDict(extra="allow")

    version: int
    chain_id: int
    registry: str = Field(pattern=ADDRESS_PATTERN)
    merchant: str = Field(pattern=ADDRESS_PATTERN)
    root: str = Field(pattern=BYTES32_PATTERN)
    item_count: int = Field(gt=0)
    leaf_encoding: list[str]
    items: list[ManifestItemDocument] = Field(min_length=1)
