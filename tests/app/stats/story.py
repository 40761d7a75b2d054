"""A merchant's story for the stats tests (items, a batch, orders delivered, disputed, refunded,
a report confirmed), and the counters as stored beside a recount of the index's rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.domain.vocab import LogisticsKind
from app.stats.counters import stored_counters
from app.stats.counting import CounterKey, row_counts
from tests.app.index.actors import Actor, Order, SuiteDriver

ETH = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class Story:
    orders: list[Order]


def play_story(suite: SuiteDriver, merchant: Actor, buyer: Actor, reporter: Actor) -> Story:
    """2 single items and a batch of 3 (one activated); 3 orders of 1, 2 and 4 finney: the first
    shipped and delivered, the second shipped and disputed, the third cancelled (refunded); a
    counterfeit report on the first item confirmed, another on the second left open."""
    items = [suite.register_item(merchant) for _ in range(3)]
    batch = suite.register_batch(merchant, count=3)
    suite.activate(batch, batch.item_ids[0], buyer.address)
    delivered = suite.open_order(buyer, merchant, [items[0].item_id], amount=10**15)
    disputed = suite.open_order(buyer, merchant, [items[1].item_id], amount=2 * 10**15)
    cancelled = suite.open_order(buyer, merchant, [items[2].item_id], amount=4 * 10**15)
    suite.ship(merchant, delivered)
    suite.report(delivered, LogisticsKind.DELIVERED)
    suite.ship(merchant, disputed)
    suite.dispute(buyer, disputed)
    suite.cancel(buyer, cancelled)
    confirmed = suite.file_report(reporter, items[0].item_id)
    suite.confirm_report(confirmed)
    suite.file_report(reporter, items[1].item_id)
    return Story([delivered, disputed, cancelled])


def counters_and_recount(session: Session) -> tuple[dict[CounterKey, int], dict[CounterKey, int]]:
    return stored_counters(session), row_counts(session, None)


def totals(counters: dict[CounterKey, int], scope: str) -> dict[tuple[str, str], int]:
    """A scope's all-time totals by (series, key)."""
    return {
        (series, key): value
        for (found, series, day, key), value in counters.items()
        if found == scope and day == ""
    }
