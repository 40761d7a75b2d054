"""The counters the indexer keeps equal a recount of the index's rows, whatever ranges the rows
came in, and an index built before the counters is counted once."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.stats.models import StatsCounterRow, StatsStateRow
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.stats.story import ETH, counters_and_recount, play_story, totals

# Counters kept and rolled back in the database's own transactions: on each backend.
pytestmark = pytest.mark.both_databases


def _session(shop: Shop) -> Session:
    session: Session = shop.app.state.services.database.sessions()
    return session


def test_counters_follow_a_story_indexed_in_many_ranges_and_equal_a_recount(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor, shopper: Actor
) -> None:
    shop.app.state.index.indexer.block_range = 3  # many small ranges, each counted on its own
    play_story(suite, merchant, buyer, shopper)
    shop.index()

    with _session(shop) as session:
        stored, recounted = counters_and_recount(session)
    assert stored == recounted
    mine = totals(stored, merchant.address)
    assert mine == {
        ("items", "single"): 3,
        ("items", "batches"): 1,
        ("items", "batch_declared"): 3,
        ("items", "batch_activated"): 1,
        ("orders", ETH): 3,
        ("gmv", ETH): 7 * 10**15,
        ("delivery", "0"): 1,  # delivered within a day of opening
        ("disputes", ""): 1,
        ("refunds", ""): 1,
        ("reports", "counterfeit:filed"): 2,
        ("reports", "counterfeit:confirmed"): 1,
    }
    platform = totals(stored, "")
    assert all(platform[key] >= value for key, value in mine.items())


def test_an_index_built_before_the_counters_is_counted_once_when_the_service_restarts(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor, shopper: Actor
) -> None:
    play_story(suite, merchant, buyer, shopper)
    shop.index()
    with shop.app.state.services.database.transaction() as session:
        before, _ = counters_and_recount(session)
        session.execute(delete(StatsCounterRow))
        session.execute(delete(StatsStateRow))
    assert (
        shop.client.get("/v1/stats", params={"merchant": merchant.address}).json()["items"][
            "single"
        ]
        == 0
    )  # what a database of an older service has: no counters

    shop.restart_indexer()
    shop.index()

    with _session(shop) as session:
        after, recounted = counters_and_recount(session)
    assert after == before == recounted
    body = shop.client.get("/v1/stats", params={"merchant": merchant.address}).json()
    assert body["items"]["single"] == 3 and body["disputes"]["orders"] == 3
