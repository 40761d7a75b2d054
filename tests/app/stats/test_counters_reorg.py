"""A reorg takes the orphaned rows' counts out of the counters, and the new branch's in, on an
Anvil of this module's own (a fork of the session's, so the suite is deployed and other tests'
state is never reverted)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.chain.contracts import connect
from app.domain.vocab import LogisticsKind
from app.main import create_app
from app.settings import Settings
from harness.nodes import ChainNode
from tests.app.conftest import Deployment
from tests.app.index.actors import DAY, Shop, SuiteDriver
from tests.app.stats.story import ETH, counters_and_recount, play_story, totals

# Counters kept and rolled back in the database's own transactions: on each backend.
pytestmark = pytest.mark.both_databases


@pytest.fixture(scope="module")
def chain(fork: ChainNode, deployment: Deployment) -> SuiteDriver:
    return SuiteDriver(connect(fork.rpc_url), deployment)


@pytest.fixture
def shop_on_fork(settings: Settings, fork: ChainNode, chain: SuiteDriver) -> Iterator[Shop]:
    app = create_app(
        settings.model_copy(
            update={"rpc_url": fork.rpc_url, "confirmation_depth": 0, "stats_refresh_seconds": 0}
        )
    )
    app.state.index.indexer.from_block = chain.head() + 1
    with TestClient(app) as client:
        yield Shop(client, app)


def _counters(
    shop: Shop,
) -> tuple[dict[tuple[str, str, str, str], int], dict[tuple[str, str, str, str], int]]:
    session: Session
    with shop.app.state.services.database.sessions() as session:
        return counters_and_recount(session)


def test_a_reorg_takes_the_orphaned_rows_out_of_the_counters(
    shop_on_fork: Shop, chain: SuiteDriver
) -> None:
    shop = shop_on_fork
    merchant, buyer, reporter = chain.new_merchant(), chain.new_account(), chain.new_account()
    kept = chain.register_item(merchant)
    chain.open_order(buyer, merchant, [kept.item_id], amount=3 * 10**15)
    shop.index()
    snapshot = chain.rpc("evm_snapshot")
    play_story(chain, merchant, buyer, reporter)
    shop.index()
    orphaned, _ = _counters(shop)
    assert totals(orphaned, merchant.address)[("orders", ETH)] == 4

    assert chain.rpc("evm_revert", snapshot) is True
    other = chain.register_item(merchant)
    chain.file_report(reporter, other.item_id)
    chain.mine(30)  # the new branch outgrows the old one
    assert shop.index().rolled_back_to is not None

    stored, recounted = _counters(shop)
    assert stored == recounted
    assert totals(stored, merchant.address) == {
        ("items", "single"): 2,
        ("orders", ETH): 1,
        ("gmv", ETH): 3 * 10**15,
        ("reports", "counterfeit:filed"): 1,
    }
    body = shop.client.get("/v1/stats", params={"merchant": merchant.address}).json()
    assert body["disputes"] == {"orders": 1, "disputes": 0, "rate": 0.0}


def test_delivery_times_fall_in_the_bins_of_the_chains_clock(
    shop_on_fork: Shop, chain: SuiteDriver
) -> None:
    shop = shop_on_fork
    merchant, buyer = chain.new_merchant(), chain.new_account()
    items = [chain.register_item(merchant) for _ in range(2)]
    quick = chain.open_order(buyer, merchant, [items[0].item_id])
    slow = chain.open_order(buyer, merchant, [items[1].item_id])
    chain.ship(merchant, quick)
    chain.ship(merchant, slow)
    chain.report(quick, LogisticsKind.DELIVERED)
    chain.rpc("evm_increaseTime", int(2.5 * DAY))  # this module's own chain
    chain.report(slow, LogisticsKind.DELIVERED)
    shop.index()

    rows = shop.client.get(
        f"/v1/stats/merchants/{merchant.address}/series/delivery_time.json", params={"days": 5}
    ).json()["rows"]

    assert [(row["label"], row["orders"]) for row in rows] == [
        ("< 1 d", 1), ("1-2 d", 0), ("2-3 d", 1), ("3-5 d", 0), ("5-7 d", 0), ("7-10 d", 0),
        ("≥ 10 d", 0),
    ]  # fmt: skip
