"""Items of a Merkle batch, named by the manifest `register --batch` wrote: each item's key (SKU
or GTIN, and serial), metadata hash and proof. The registry derives a batch item's id from its
key under the batch's merchant, so activation and the proof-checked verdict send the key, never
the id.

* ``activate``: gives batch items their own records (``activateBatchItem``, one transaction per
  item: the registry takes one proof at a time), skipping those already activated, each
  simulated first; journaled like registrations, so an interrupted run simply starts again.
* ``manifest_verdicts``: what a shopper's app reads, through ``verifyBatchItem``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.domain.ids import item_key, manifest_item_key
from app.domain.vocab import Verdict
from scripts._lib.journal import Journal
from scripts._lib.manifest import batch_item
from scripts._lib.registry import (
    ZERO_ADDRESS,
    ItemStatus,
    PreflightError,
    Registry,
    RunResult,
    estimate,
    hex_of,
    refuse_if,
    send_chunk,
)

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI

Echo = Callable[[str], None]


def _bytes(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def root_of(manifest: dict[str, Any]) -> bytes:
    return _bytes(str(manifest.get("root") or "0x" + "00" * 32))


def key_of(item: dict[str, Any]) -> tuple[int, str, str] | None:
    """The registry's ItemKey of a manifest item; None when the manifest does not name one."""
    found = manifest_item_key(item)
    return None if found is None else item_key(*found)


def activation_args(root: bytes, item: dict[str, Any]) -> list[Any]:
    """``activateBatchItem`` / ``verifyBatchItem`` arguments: root, key, metadata hash, proof."""
    key = key_of(item)
    if key is None:
        raise PreflightError([f"manifest item {item.get('item_id')} names no sku/gtin and serial"])
    proof = [_bytes(node) for node in item.get("proof", [])]
    return [root, key, _bytes(item["metadata_hash"]), proof]


@dataclass
class ActivationPlan:
    root: bytes
    to_send: list[dict[str, Any]] = field(default_factory=list)
    done: list[dict[str, Any]] = field(default_factory=list)


def plan_activation(
    registry: Registry, manifest: dict[str, Any], wanted: list[bytes] | None
) -> ActivationPlan:
    """Which manifest items (all, or ``wanted``) still need a record of their own."""
    root = root_of(manifest)
    batch_merchant = str(registry.contract.batchOf(root).merchant)
    if batch_merchant == ZERO_ADDRESS:
        raise PreflightError([f"batch {hex_of(root)} is not registered on {registry.address}"])
    items = manifest["items"]
    if wanted is not None:
        missing = [hex_of(i) for i in wanted if batch_item(manifest, i) is None]
        if missing:
            raise PreflightError([f"item {i} is not in the manifest" for i in missing])
        items = [batch_item(manifest, i) for i in dict.fromkeys(wanted)]
    plan = ActivationPlan(root)
    for item in items:
        record = registry.contract.itemOf(_bytes(item["item_id"]))
        if str(record.merchant) == batch_merchant and bool(record.inBatch):
            plan.done.append(item)
        else:
            plan.to_send.append(item)
    return plan


def activate(
    registry: Registry,
    account: AccountAPI,
    plan: ActivationPlan,
    *,
    journal: Journal | None = None,
    dry_run: bool = False,
    on_item: Callable[[int], None] | None = None,
) -> RunResult:
    """Activates the planned items, one simulated transaction each (or estimates their gas)."""
    method = registry.contract.activateBatchItem
    result = RunResult(skipped=len(plan.done))
    for item in plan.to_send:
        args = activation_args(plan.root, item)
        refuse_if(account, method, args, f"item {item['item_id']}", result)
        if dry_run:
            result.gas_estimates.append(estimate(account, method, args))
        else:
            result.receipts.append(send_chunk(account, method, args, [item["item_id"]], journal))
            result.sent += 1
        if on_item is not None:
            on_item(1)
    return result


def manifest_verdicts(registry: Registry, manifest: dict[str, Any]) -> list[ItemStatus]:
    """Verdicts of a manifest's items: batch items through their keys and proofs
    (``verifyBatchItem``), items of a singles manifest through ``verify``."""
    root = root_of(manifest) if manifest.get("root") else None
    statuses = []
    for index, item in enumerate(manifest["items"]):
        item_id = _bytes(item["item_id"])
        if root is None:
            verdict = registry.contract.verify(item_id)
        elif key_of(item) is None:  # a manifest written before items carried their keys
            verdict = Verdict.UNKNOWN
        else:
            verdict = registry.contract.verifyBatchItem(*activation_args(root, item))
        label = str(item.get("label") or item["item_id"])
        statuses.append(ItemStatus(f"item {index}", label, item_id, Verdict(int(verdict))))
    return statuses
