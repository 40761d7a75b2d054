"""Drives the deployed suite for the index and shopper tests: web3 on the session Anvil, Anvil's
unlocked test accounts for the admin (verifier) and the arbiter, and fresh accounts (funded with
``anvil_setBalance``, impersonated for transactions, their keys kept for signatures) for
merchants, buyers and shoppers, so tests on the shared chain never meet each other's state.

Items are named by keys (SKU and serial) the registry derives their ids from; orders list the
merchant's own registered items (the escrow holds them); the merchant names carrier 1 before the
logistics oracle (test account 8, the escrow's ORACLE_ROLE on a local deployment) reports on it.

Also the fixtures those tests share (offered to every test under tests/app by its conftest): an
app per test whose indexer starts at the test's first block, with no confirmation depth unless a
test asks for one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web3 import Web3
from web3.types import TxReceipt

from app.chain.contracts import load_abi
from app.domain.ids import item_id_of_key, item_key
from app.domain.manifest_signing import manifest_content_hash, sign_manifest
from app.domain.merkle import LEAF_ENCODING, BatchLeaf, ItemBatch
from app.domain.metadata import metadata_hash
from app.domain.vocab import CustodyAction, IdScheme, LogisticsKind
from app.index.indexer import Indexer, IndexProgress
from app.main import create_app
from app.settings import Settings
from harness.ape_run import ADMIN, ARBITER, TEST_PRIVATE_KEYS
from tests.app.index.records import Actor, Batch, Item, Order, item_row  # noqa: F401

if TYPE_CHECKING:
    # Only a name for annotations: tests/app/conftest.py imports this module's fixtures, so a
    # run-time import back from it would meet it half made.
    from tests.app.conftest import Deployment

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DAY = 86_400
LOGISTICS_ORACLE = Account.from_key(TEST_PRIVATE_KEYS[8]).address
CARRIER = 1


@dataclass
class SuiteDriver:
    """The suite's contracts, and the actions the tests take on them."""

    w3: Web3
    deployment: Deployment
    _event_ids: Iterator[int] = field(init=False)

    def __post_init__(self) -> None:
        addresses = self.deployment.addresses
        abi_dir = self.deployment.abi_dir
        self.registry = self.w3.eth.contract(
            address=Web3.to_checksum_address(addresses["ProductRegistry"]),
            abi=load_abi(abi_dir, "ProductRegistry"),
        )
        self.escrow = self.w3.eth.contract(
            address=Web3.to_checksum_address(addresses["OrderEscrow"]),
            abi=load_abi(abi_dir, "OrderEscrow"),
        )
        # Custody event ids are per submitter and every merchant here is fresh: start anywhere.
        self._event_ids = iter(range(secrets.randbits(64) << 8, 2**256))

    # ------------------------------------------------------------------------------ plumbing

    def send(self, call: Any, sender: str, value: int = 0) -> TxReceipt:
        tx_hash = call.transact({"from": sender, "value": value})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        assert receipt["status"] == 1, f"transaction {tx_hash.hex()} reverted"
        return receipt

    def rpc(self, method: str, *params: Any) -> Any:
        answer = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        assert "error" not in answer, answer
        return answer["result"]

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.rpc("evm_mine")

    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def block_time(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def new_account(self) -> Actor:
        account = Account.create()
        self.rpc("anvil_setBalance", account.address, hex(100 * 10**18))
        self.rpc("anvil_impersonateAccount", account.address)
        return Actor(account)

    # ------------------------------------------------------------------------------ registry

    def new_merchant(self, name: str = "Test Goods Ltd") -> Actor:
        merchant = self.new_account()
        identity = keccak(text=f"identity of {merchant.address}")
        self.send(self.registry.functions.approveMerchant(merchant.address, name, identity), ADMIN)
        return merchant

    def register_item(self, merchant: Actor, *, uri: str | None = None, **metadata: Any) -> Item:
        document = {"name": "Trail shoe", "serial": secrets.token_hex(6), **metadata}
        key = item_key(IdScheme.SKU, "SHOE-01", str(document["serial"]))
        item_id = item_id_of_key(merchant.address, IdScheme.SKU, key[1], key[2])
        digest = metadata_hash(document)
        uri = uri or f"ipfs://bafy{item_id.hex()[:20]}"
        receipt = self.send(
            self.registry.functions.registerItem(key, digest, uri), merchant.address
        )
        return Item(item_id, document, digest, uri, receipt, key)

    def register_gs1(self, merchant: Actor, gtin: str, prefix: str, serial: str) -> Item:
        """A GS1 item of the merchant, its GTIN's company prefix granted to it first."""
        if self.registry.functions.gs1PrefixHolder(prefix).call() != merchant.address:
            self.grant_prefix(prefix, merchant)
        document = {"gtin": gtin, "serial": serial}
        key = item_key(IdScheme.GS1, gtin, serial)
        digest = metadata_hash(document)
        receipt = self.send(self.registry.functions.registerItem(key, digest, ""), merchant.address)
        item_id = item_id_of_key(merchant.address, IdScheme.GS1, gtin, serial)
        return Item(item_id, document, digest, "", receipt, key)

    def register_batch(self, merchant: Actor, count: int = 4, gtin: str | None = None) -> Batch:
        """A Merkle batch of SKU items, or of GS1 items of ``gtin`` (serials 0000, 0001...)."""
        scheme = IdScheme.GS1 if gtin is not None else IdScheme.SKU
        code = gtin if gtin is not None else f"MUG-{secrets.token_hex(3)}"
        code_field = "gtin" if gtin is not None else "sku"
        documents = [{"name": "Mug", "serial": f"{i:04d}"} for i in range(count)]
        keys = [item_key(scheme, code, str(d["serial"])) for d in documents]
        ids = [item_id_of_key(merchant.address, scheme, code, k[2]) for k in keys]
        hashes = [metadata_hash(d) for d in documents]
        tree = ItemBatch([BatchLeaf(i, h) for i, h in zip(ids, hashes, strict=True)])
        manifest = {
            "version": 1,
            "chain_id": int(self.w3.eth.chain_id),
            "registry": self.registry.address,
            "merchant": merchant.address,
            "root": "0x" + tree.root.hex(),
            "item_count": count,
            "leaf_encoding": list(LEAF_ENCODING),
            "items": [
                {
                    "item_id": "0x" + item_id.hex(),
                    "label": f"{code_field} {code} serial {doc['serial']}",
                    "metadata_hash": "0x" + digest.hex(),
                    "metadata_uri": f"ipfs://bafymug{doc['serial']}",
                    "proof": ["0x" + node.hex() for node in tree.proof(item_id)],
                    "serial": doc["serial"],
                    code_field: code,
                }
                for item_id, digest, doc in zip(ids, hashes, documents, strict=True)
            ],
        }
        receipt = self.send(
            self.registry.functions.registerBatch(
                tree.root, count, manifest_content_hash(manifest), "ipfs://bafymanifest"
            ),
            merchant.address,
        )
        return Batch(tree.root, tree, manifest, receipt, dict(zip(ids, keys, strict=True)))

    def sign_manifest(self, signer: Actor, batch: Batch) -> str:
        return sign_manifest(signer.account, batch.root, batch.manifest)

    def activate(self, batch: Batch, item_id: bytes, sender: str) -> TxReceipt:
        leaf = next(leaf for leaf in batch.tree.leaves if leaf.item_id == item_id)
        return self.send(
            self.registry.functions.activateBatchItem(
                batch.root, batch.keys[item_id], leaf.metadata_hash, batch.tree.proof(item_id)
            ),
            sender,
        )

    def record_custody(
        self, merchant: Actor, item_id: bytes, action: CustodyAction, *, at: int | None = None
    ) -> TxReceipt:
        event = (
            item_id,
            next(self._event_ids),
            int(action),
            at if at is not None else self.block_time(),
            keccak(text="GLN 9506000000001"),
            keccak(text="shipment 42"),
        )
        return self.send(self.registry.functions.recordCustody([event]), merchant.address)

    def file_report(self, reporter: Actor, item_id: bytes) -> int:
        receipt = self.send(
            self.registry.functions.fileReport(item_id, 0, keccak(text="photo of a fake")),
            reporter.address,
        )
        (event,) = self.registry.events.ReportFiled().process_receipt(receipt)
        return int(event["args"]["reportId"])

    def confirm_report(self, report_id: int) -> TxReceipt:
        return self.send(
            self.registry.functions.confirmReport(report_id, keccak(text="it is fake")), ADMIN
        )

    def suspend(self, merchant: Actor) -> TxReceipt:
        return self.send(
            self.registry.functions.suspendMerchant(merchant.address, keccak(text="fraud")), ADMIN
        )

    def reinstate(self, merchant: Actor) -> TxReceipt:
        return self.send(self.registry.functions.reinstateMerchant(merchant.address), ADMIN)

    def recall_item(self, merchant: Actor, item_id: bytes) -> TxReceipt:
        return self.send(
            self.registry.functions.recallItem(item_id, keccak(text="recall notice")),
            merchant.address,
        )

    def recall_batch(self, merchant: Actor, batch: Batch) -> TxReceipt:
        return self.send(
            self.registry.functions.recallBatch(batch.root, keccak(text="batch recall")),
            merchant.address,
        )

    # ------------------------------------------------------------------------------ escrow

    def open_order(
        self,
        buyer: Actor,
        merchant: Actor,
        item_ids: list[bytes],
        amount: int = 10**15,
        token: str = ZERO_ADDRESS,
    ) -> Order:
        """An order paid in ETH, or in ``token`` (the buyer has approved the escrow for it)."""
        now = self.block_time()
        terms = (
            buyer.address,
            merchant.address,
            buyer.address,
            token,
            amount,
            now + 5 * DAY,
            now + 10 * DAY,
            2 * DAY,
            int(self.escrow.functions.feeBps().call()),
            keccak(text="order ref"),
            secrets.randbits(64),
            item_ids,
        )
        value = amount if token == ZERO_ADDRESS else 0
        receipt = self.send(self.escrow.functions.open(terms), buyer.address, value=value)
        order_id = bytes(self.escrow.functions.orderIdOf(terms).call())
        return Order(order_id, terms, receipt)

    def ship(self, merchant: Actor, order: Order, carrier: int = CARRIER) -> TxReceipt:
        return self.send(
            self.escrow.functions.ship(order.terms, carrier, keccak(text="tracking 1Z999")),
            merchant.address,
        )

    def assign_carrier(self, merchant: Actor, order: Order, carrier: int = CARRIER) -> TxReceipt:
        return self.send(
            self.escrow.functions.assignCarrier(order.terms, carrier), merchant.address
        )

    def report(
        self, order: Order, kind: LogisticsKind, carrier: int = CARRIER, items: int = 0
    ) -> TxReceipt:
        """The logistics oracle's report on an order (refused ones are logged, not reverted)."""
        update = (order.order_id, int(kind), carrier, items, keccak(text=f"scan {kind.name}"))
        return self.send(self.escrow.functions.reportLogistics([update]), LOGISTICS_ORACLE)

    def refund_recalled(self, sender: Actor, order: Order, items: int) -> TxReceipt:
        return self.send(self.escrow.functions.refundRecalled(order.terms, items), sender.address)

    def cancel(self, sender: Actor, order: Order) -> TxReceipt:
        return self.send(self.escrow.functions.cancel(order.terms), sender.address)

    def offer(self, sender: Actor, order: Order, buyer_bps: int, expires_at: int) -> TxReceipt:
        return self.send(
            self.escrow.functions.offerSettlement(order.terms, buyer_bps, expires_at),
            sender.address,
        )

    def withdraw_offer(self, sender: Actor, order: Order) -> TxReceipt:
        return self.send(self.escrow.functions.withdrawOffer(order.terms), sender.address)

    def set_floor(self, token: str, amount: int) -> TxReceipt:
        return self.send(self.escrow.functions.setSellerRecordFloor(token, amount), ADMIN)

    def floor(self, token: str = ZERO_ADDRESS) -> int:
        return int(self.escrow.functions.sellerRecordFloor(token).call())

    # ------------------------------------------------------------------------------ verifiers

    def reassign(self, item_id: bytes, to: str) -> TxReceipt:
        return self.send(
            self.registry.functions.reassignItem(item_id, to, keccak(text="squatted")), ADMIN
        )

    def grant_prefix(self, prefix: str, merchant: Actor) -> TxReceipt:
        return self.send(self.registry.functions.grantGs1Prefix(prefix, merchant.address), ADMIN)

    def revoke_prefix(self, prefix: str) -> TxReceipt:
        return self.send(self.registry.functions.revokeGs1Prefix(prefix), ADMIN)

    def confirm_receipt(self, buyer: Actor, order: Order) -> TxReceipt:
        return self.send(self.escrow.functions.confirmReceipt(order.terms), buyer.address)

    def dispute(self, buyer: Actor, order: Order) -> TxReceipt:
        return self.send(
            self.escrow.functions.dispute(order.terms, keccak(text="box was empty")),
            buyer.address,
        )

    def resolve(self, order: Order, buyer_bps: int) -> TxReceipt:
        return self.send(
            self.escrow.functions.resolveDispute(order.terms, buyer_bps, keccak(text="ruling")),
            ARBITER,
        )


# ---------------------------------------------------------------------------------- fixtures


@dataclass
class Shop:
    """One test's service: its HTTP client and app, and its indexer run on demand."""

    client: TestClient
    app: FastAPI

    def index(self) -> IndexProgress:
        progress: IndexProgress = self.app.state.index.indexer.run_once()
        return progress

    def restart_indexer(self) -> None:
        """A new indexer over the same database, as a restarted service has: it makes sure of
        the cursor and the derived tables' counts at its first cycle."""
        old: Indexer = self.app.state.index.indexer
        new = Indexer(
            old.database,
            old.chain,
            confirmation_depth=old.confirmation_depth,
            from_block=old.from_block,
            lease=old.lease,
        )
        new.derived = old.derived
        self.app.state.index.indexer = new


@pytest.fixture(scope="session")
def suite(w3: Web3, deployment: Deployment) -> SuiteDriver:
    return SuiteDriver(w3, deployment)


@pytest.fixture
def start_block(suite: SuiteDriver) -> int:
    """The test's first block: its service indexes from here (the chain is shared)."""
    return suite.head() + 1


@pytest.fixture
def shop_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"confirmation_depth": 0})


@pytest.fixture
def shop(shop_settings: Settings, start_block: int) -> Iterator[Shop]:
    app = create_app(shop_settings)
    app.state.index.indexer.from_block = start_block
    with TestClient(app) as client:
        yield Shop(client, app)


@pytest.fixture
def merchant(suite: SuiteDriver, start_block: int) -> Actor:
    return suite.new_merchant()


@pytest.fixture
def shopper(suite: SuiteDriver) -> Actor:
    return suite.new_account()


@pytest.fixture
def buyer(suite: SuiteDriver) -> Actor:
    return suite.new_account()
