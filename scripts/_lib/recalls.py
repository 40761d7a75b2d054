"""Recalls on a deployed ProductRegistry: one item, one item of a Merkle batch (activated first
with its key and proof when it has no record yet), or a whole batch; final."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.domain.vocab import Verdict
from scripts._lib.batches import activation_args, root_of
from scripts._lib.manifest import batch_item
from scripts._lib.registry import ZERO_ADDRESS, PreflightError, Registry, hex_of, refuse_if

if TYPE_CHECKING:
    from ape.api.accounts import AccountAPI

Echo = Callable[[str], None]


def recall_item(registry: Registry, account: AccountAPI, item_id: bytes, reason_hash: bytes) -> Any:
    item = registry.contract.itemOf(item_id)
    owner = str(item.merchant)
    problems = []
    if owner == ZERO_ADDRESS:
        problems.append(
            f"item {hex_of(item_id)} is not registered (activate a batch item first, "
            "or recall its whole batch)"
        )
    elif owner != account.address:
        problems.append(
            f"item {hex_of(item_id)} belongs to merchant {owner}, not {account.address}"
        )
    elif Verdict(int(registry.contract.verify(item_id))) is Verdict.RECALLED:
        problems.append(f"item {hex_of(item_id)} is already recalled (itself or with its batch)")
    if problems:
        raise PreflightError(problems)
    return registry.contract.recallItem(item_id, reason_hash, sender=account)


def recall_batch(registry: Registry, account: AccountAPI, root: bytes, reason_hash: bytes) -> Any:
    batch = registry.contract.batchOf(root)
    owner = str(batch.merchant)
    problems = []
    if owner == ZERO_ADDRESS:
        problems.append(f"batch {hex_of(root)} is not registered")
    elif owner != account.address:
        problems.append(f"batch {hex_of(root)} belongs to merchant {owner}, not {account.address}")
    elif batch.recalled:
        problems.append(f"batch {hex_of(root)} is already recalled")
    if problems:
        raise PreflightError(problems)
    return registry.contract.recallBatch(root, reason_hash, sender=account)


def recall_batch_item(
    registry: Registry,
    account: AccountAPI,
    manifest: dict[str, Any],
    item_id: bytes,
    reason_hash: bytes,
    echo: Echo,
) -> Any:
    """Recalls one item of a batch: activates it first with its key and proof from the manifest
    when it has no record yet (``activateBatchItem``), then ``recallItem``."""
    root = root_of(manifest)
    item = batch_item(manifest, item_id)
    batch = registry.contract.batchOf(root)
    problems = []
    if item is None:
        problems.append(f"item {hex_of(item_id)} is not in the manifest")
    elif str(batch.merchant) != account.address:
        problems.append(f"batch {hex_of(root)} belongs to {batch.merchant}, not {account.address}")
    elif batch.recalled:
        problems.append(f"batch {hex_of(root)} is already recalled, with all its items")
    if problems or item is None:
        raise PreflightError(problems)
    if str(registry.contract.itemOf(item_id).merchant) == ZERO_ADDRESS:
        args = activation_args(root, item)
        refuse_if(account, registry.contract.activateBatchItem, args, "the activation")
        receipt = registry.contract.activateBatchItem(*args, sender=account)
        echo(f"activated batch item {hex_of(item_id)} in tx {receipt.txn_hash}")
    return recall_item(registry, account, item_id, reason_hash)
