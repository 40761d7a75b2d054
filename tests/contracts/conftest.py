"""Fixtures for contract unit tests on Ape's in-process EVM (`--network ethereum:local:test`).

Deployment happens once per session; Ape's pytest plugin snapshots the chain before every test
and reverts it afterwards, so each test starts from the same freshly set-up registry.

Items are registered by key (`ItemKey`): the registry derives the id from the key and the caller.
The factories keep the key of every id they make (`key_of`), so a test holding an id can still
register or activate it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.domain.merkle import BatchLeaf, ItemBatch
from app.domain.orders import ZERO_ADDRESS
from tests.contracts.registry.helpers import (
    ItemKey,
    ReportKind,
    h,
    key_of,
    remember_key,
    sku_key,
)


@dataclass(frozen=True)
class RegisteredBatch:
    """A batch registered on chain, with the tree that proves its items."""

    tree: ItemBatch
    merchant: Any

    @property
    def root(self) -> bytes:
        return self.tree.root

    def leaf(self, index: int) -> BatchLeaf:
        return self.tree.leaves[index]

    def proof(self, index: int) -> list[bytes]:
        return self.tree.proof(self.tree.leaves[index].item_id)

    def key(self, index: int) -> ItemKey:
        """The key of leaf `index` (the manifest's SKU or GTIN and serial)."""
        return key_of(self.tree.leaves[index].item_id)


# ------------------------------------------------------------------ accounts by role


@pytest.fixture(scope="session")
def admin(accounts: Any) -> Any:
    return accounts[0]


@pytest.fixture(scope="session")
def verifier(accounts: Any) -> Any:
    return accounts[1]


@pytest.fixture(scope="session")
def merchant(accounts: Any) -> Any:
    return accounts[2]


@pytest.fixture(scope="session")
def other_merchant(accounts: Any) -> Any:
    return accounts[3]


@pytest.fixture(scope="session")
def oracle(accounts: Any) -> Any:
    return accounts[4]


@pytest.fixture(scope="session")
def shopper(accounts: Any) -> Any:
    """Holds no role and is no merchant: the stranger of every access check."""
    return accounts[5]


# ------------------------------------------------------------------ the registry


@pytest.fixture(scope="session")
def bare_registry(project: Any, admin: Any) -> Any:
    """A freshly deployed registry: only the admin role is held."""
    return project.ProductRegistry.deploy(admin, ZERO_ADDRESS, sender=admin)


@pytest.fixture(scope="session")
def forwarder(project: Any, admin: Any) -> Any:
    """The suite's ERC-2771 forwarder, trusted by ``registry`` and the escrows built on it."""
    return project.TrustMallForwarder.deploy(sender=admin)


@pytest.fixture(scope="session")
def registry(
    project: Any,
    admin: Any,
    verifier: Any,
    merchant: Any,
    other_merchant: Any,
    oracle: Any,
    forwarder: Any,
) -> Any:
    """A registry with the verifier and oracle roles granted and two approved merchants."""
    contract = project.ProductRegistry.deploy(admin, forwarder, sender=admin)
    contract.grantRole(contract.VERIFIER_ROLE(), verifier, sender=admin)
    contract.grantRole(contract.ORACLE_ROLE(), oracle, sender=admin)
    contract.approveMerchant(merchant, "Acme Goods", h("acme identity"), sender=verifier)
    contract.approveMerchant(other_merchant, "Other Shop", h("other identity"), sender=verifier)
    return contract


# ------------------------------------------------------------------ factories

_serials = itertools.count(1)


@pytest.fixture(scope="session")
def new_item_key() -> Callable[..., ItemKey]:
    """A fresh SKU key (a new serial): the registry derives the id under whoever registers it."""

    def make(sku: str = "SKU-1") -> ItemKey:
        return sku_key(sku, f"S{next(_serials)}")

    return make


@pytest.fixture(scope="session")
def new_item_id(merchant: Any, new_item_key: Callable[..., ItemKey]) -> Callable[..., bytes]:
    """A fresh item id named by SKU and serial under `owner` (not registered); its key is kept
    (`key_of`) for the registration or activation."""

    def make(owner: Any = None, sku: str = "SKU-1") -> bytes:
        key = new_item_key(sku)
        return remember_key(key.item_id(owner or merchant), key)

    return make


@pytest.fixture(scope="session")
def register_item(
    registry: Any, merchant: Any, new_item_key: Callable[..., ItemKey]
) -> Callable[..., bytes]:
    """Registers one item singly (a fresh SKU key, or `key`, or the key of an id made by
    `new_item_id`) and returns the id the registry derived."""

    def register(
        sender: Any = None,
        item_id: bytes | None = None,
        metadata_hash: bytes | None = None,
        uri: str = "ipfs://item",
        key: ItemKey | None = None,
    ) -> bytes:
        owner = sender or merchant
        key = key or (key_of(item_id) if item_id is not None else new_item_key())
        tx = registry.registerItem(key.as_abi(), metadata_hash or h("metadata"), uri, sender=owner)
        [event] = tx.events.filter(registry.ItemRegistered)
        derived = bytes(event.itemId)
        assert derived == key.item_id(owner), "the registry derived another id than Python"
        return remember_key(derived, key)

    return register


@pytest.fixture(scope="session")
def make_batch(merchant: Any, new_item_id: Callable[..., bytes]) -> Callable[..., ItemBatch]:
    """Builds (off chain) a Merkle batch of `size` fresh items of `owner` (keys kept)."""

    def make(size: int = 5, owner: Any = None) -> ItemBatch:
        return ItemBatch(
            [
                BatchLeaf(new_item_id(owner or merchant, "BATCH"), h(f"metadata {i}"))
                for i in range(size)
            ]
        )

    return make


@pytest.fixture(scope="session")
def register_batch(
    registry: Any, merchant: Any, make_batch: Callable[..., ItemBatch]
) -> Callable[..., RegisteredBatch]:
    """Registers a Merkle batch (built here, or given) and returns it with its tree."""

    def register(
        size: int = 5, sender: Any = None, tree: ItemBatch | None = None
    ) -> RegisteredBatch:
        owner = sender or merchant
        tree = tree or make_batch(size, owner)
        registry.registerBatch(
            tree.root, len(tree.leaves), h("batch manifest"), "ipfs://batch", sender=owner
        )
        return RegisteredBatch(tree, owner)

    return register


@pytest.fixture(scope="session")
def activate(registry: Any, shopper: Any) -> Callable[..., Any]:
    """Activates item `index` of a registered batch (anyone may; the shopper does)."""

    def run(batch: RegisteredBatch, index: int = 0, sender: Any = None) -> Any:
        leaf = batch.leaf(index)
        return registry.activateBatchItem(
            batch.root,
            batch.key(index).as_abi(),
            leaf.metadata_hash,
            batch.proof(index),
            sender=sender or shopper,
        )

    return run


@pytest.fixture
def now(chain: Any) -> Callable[[], int]:
    """The timestamp of the latest block (a safe `occurredAt`, never in the future)."""
    return lambda: int(chain.blocks.head.timestamp)


@pytest.fixture(scope="session")
def file_report(registry: Any, shopper: Any) -> Callable[..., int]:
    """Files a report and returns its id."""

    def run(
        item_id: bytes,
        kind: int = ReportKind.COUNTERFEIT,
        sender: Any = None,
        evidence: str = "photo",
    ) -> int:
        tx = registry.fileReport(item_id, kind, h(evidence), sender=sender or shopper)
        return int(tx.events.filter(registry.ReportFiled)[0].reportId)

    return run


@pytest.fixture(scope="session")
def confirmed_flag(
    registry: Any, verifier: Any, file_report: Callable[..., int]
) -> Callable[[bytes], int]:
    """Files a counterfeit report against an item and has the verifier confirm it."""

    def run(item_id: bytes) -> int:
        report_id = file_report(item_id)
        registry.confirmReport(report_id, h("finding"), sender=verifier)
        return report_id

    return run
