"""A deployed ProductRegistry as the scripts use it: its handle and logs, and batch items given
records of their own from their manifest's proofs (a recall, an escrow order needs one)."""

from __future__ import annotations

from typing import Any

from app.domain.abi_types import from_hex
from app.domain.ids import item_key, manifest_item_key
from app.domain.orders import ZERO_ADDRESS
from scripts._lib import chain
from scripts._lib.chain import Run, Stop


def open_registry(run: Run) -> Any:
    return run.contract("ProductRegistry", run.address)


def logs(run: Run, registry: Any, event: str, **topics: Any) -> list[Any]:
    """``event`` logs of ``registry`` since the block it was deployed in, if recorded."""
    start = run.record_block("ProductRegistry", str(registry.address))
    return chain.logs(registry, event, topics, start)


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
    """Activates a batch item of ``manifest`` from its proof, unless it has a record already."""
    if str(contract.itemOf(from_hex(item["item_id"])).merchant) != ZERO_ADDRESS:
        return
    args = activation_args(root_of(manifest), item)
    what = f"the activation of batch item {item['item_id']}"
    receipt = chain.send(run, contract.activateBatchItem, *args, what=what)
    chain.done(f"activated batch item {item['item_id']}", receipt)
