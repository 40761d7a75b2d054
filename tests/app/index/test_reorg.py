"""Reorgs, made with Anvil's ``evm_snapshot`` / ``evm_revert`` on an Anvil of this module's own
(a fork of the session's, so the suite is already deployed at the same addresses and other tests'
state is never reverted): the index rolls back what the reorg removed and follows the new branch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chain.contracts import connect
from app.domain.vocab import CustodyAction
from app.index.models import CustodyRow, IndexedBlock
from app.main import create_app
from app.settings import Settings
from harness.nodes import ChainNode
from tests.app.conftest import Deployment
from tests.app.index.actors import ZERO_ADDRESS, Shop, SuiteDriver, item_row
from tests.app.index.records import recounted_seller_records, stored_seller_records

pytestmark = pytest.mark.both_databases


@pytest.fixture(scope="module")
def chain(fork: ChainNode, deployment: Deployment) -> SuiteDriver:
    return SuiteDriver(connect(fork.rpc_url), deployment)


def _shop(settings: Settings, fork: ChainNode, chain: SuiteDriver, depth: int) -> Iterator[Shop]:
    app = create_app(
        settings.model_copy(update={"rpc_url": fork.rpc_url, "confirmation_depth": depth})
    )
    app.state.index.indexer.from_block = chain.head() + 1
    with TestClient(app) as client:
        yield Shop(client, app)


@pytest.fixture
def shop_on_fork(settings: Settings, fork: ChainNode, chain: SuiteDriver) -> Iterator[Shop]:
    yield from _shop(settings, fork, chain, depth=0)


@pytest.fixture
def deep_shop_on_fork(settings: Settings, fork: ChainNode, chain: SuiteDriver) -> Iterator[Shop]:
    yield from _shop(settings, fork, chain, depth=2)


def _session(shop: Shop) -> Session:
    session: Session = shop.app.state.services.database.sessions()
    return session


def _kept_blocks_match_the_chain(shop: Shop, chain: SuiteDriver) -> bool:
    with _session(shop) as session:
        kept = list(session.scalars(select(IndexedBlock)))
    return all(
        "0x" + bytes(chain.w3.eth.get_block(block.number)["hash"]).hex() == block.hash
        for block in kept
    )


def test_reorg_rolls_back_rows_of_removed_blocks_and_indexes_the_new_branch(
    shop_on_fork: Shop, chain: SuiteDriver
) -> None:
    shop = shop_on_fork
    merchant = chain.new_merchant()
    fork_point = chain.head()
    snapshot = chain.rpc("evm_snapshot")
    orphan = chain.register_item(merchant)
    chain.record_custody(merchant, orphan.item_id, CustodyAction.PRODUCED)
    shop.index()
    assert shop.client.get(f"/v1/items/{orphan.hex}").status_code == 200

    assert chain.rpc("evm_revert", snapshot) is True
    survivor = chain.register_item(merchant)
    chain.mine(2)
    progress = shop.index()

    assert progress.rolled_back_to == fork_point
    with _session(shop) as session:
        assert item_row(session, orphan.hex) is None
        assert (
            session.scalars(select(CustodyRow).where(CustodyRow.item_id == orphan.hex)).all() == []
        )
        kept = item_row(session, survivor.hex)
        assert kept is not None
        assert kept.block_number == survivor.receipt["blockNumber"] == orphan.receipt["blockNumber"]
        assert kept.tx_hash == "0x" + bytes(survivor.receipt["transactionHash"]).hex()
    assert _kept_blocks_match_the_chain(shop, chain)
    gone = shop.client.get(f"/v1/items/{orphan.hex}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "item_unknown"
    assert shop.client.get(f"/v1/items/{survivor.hex}").json()["verdict"] == "authentic"


def test_reorg_takes_the_orphaned_orders_out_of_the_seller_record(
    shop_on_fork: Shop, chain: SuiteDriver
) -> None:
    shop = shop_on_fork
    merchant, buyer = chain.new_merchant(), chain.new_account()
    items = [chain.register_item(merchant) for _ in range(3)]
    floor = chain.floor(ZERO_ADDRESS)
    kept = chain.open_order(buyer, merchant, [items[0].item_id], amount=floor)
    chain.ship(merchant, kept)
    chain.confirm_receipt(buyer, kept)
    shop.index()
    snapshot = chain.rpc("evm_snapshot")
    orphans = [
        chain.open_order(buyer, merchant, [item.item_id], amount=floor) for item in items[1:]
    ]
    chain.ship(merchant, orphans[0])
    chain.dispute(buyer, orphans[0])
    shop.index()
    with _session(shop) as session:
        assert stored_seller_records(session)[merchant.address] == (3, 1, 0, 1, 0)

    assert chain.rpc("evm_revert", snapshot) is True
    chain.mine(8)
    assert shop.index().rolled_back_to is not None

    with _session(shop) as session:
        stored = stored_seller_records(session)
        assert stored == recounted_seller_records(session)
    assert stored[merchant.address] == (1, 1, 0, 0, 0)
    answered = shop.client.get(f"/v1/merchants/{merchant.address}").json()["seller_record"]
    assert (answered["orders_total"], answered["disputes_total"]) == (1, 0)


def test_reorg_to_a_shorter_chain_rolls_back_to_the_last_common_block(
    shop_on_fork: Shop, chain: SuiteDriver
) -> None:
    shop = shop_on_fork
    merchant = chain.new_merchant()
    shop.index()
    common = chain.head()
    snapshot = chain.rpc("evm_snapshot")
    orphan = chain.register_item(merchant)
    chain.mine(3)
    assert shop.index().last_block == common + 4

    assert chain.rpc("evm_revert", snapshot) is True
    progress = shop.index()

    assert progress.rolled_back_to == common
    assert progress.last_block == chain.head() == common
    with _session(shop) as session:
        assert item_row(session, orphan.hex) is None
    assert _kept_blocks_match_the_chain(shop, chain)


def test_reorg_within_the_confirmation_depth_never_reaches_the_index(
    deep_shop_on_fork: Shop, chain: SuiteDriver
) -> None:
    shop = deep_shop_on_fork
    merchant = chain.new_merchant()
    chain.mine(2)
    shop.index()
    snapshot = chain.rpc("evm_snapshot")
    orphan = chain.register_item(merchant)
    assert shop.index().last_block < orphan.receipt["blockNumber"]

    assert chain.rpc("evm_revert", snapshot) is True
    survivor = chain.register_item(merchant)
    chain.mine(2)
    progress = shop.index()

    assert progress.rolled_back_to is None
    with _session(shop) as session:
        assert item_row(session, orphan.hex) is None
        assert item_row(session, survivor.hex) is not None
