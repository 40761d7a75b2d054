"""One process indexes at a time per database: the index's lease (``app.db.lease``) decides
which; the others stand by, and one takes over when the holder stops (at once when it lets go
on a clean stop, once the lease expires when it dies)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from app.db.lease import Lease
from app.db.migrate import upgrade_schema
from app.db.session import Database
from app.index.chain import ChainAccess
from app.index.indexer import Indexer
from app.index.models import ItemRow
from app.index.runtime import INDEX_LEASE
from app.settings import Settings
from tests.app.index.actors import Actor, SuiteDriver

pytestmark = pytest.mark.both_databases

LEASE_SECONDS = 15.0


def _indexer(
    settings: Settings, database: Database, clock: Callable[[], float], start_block: int
) -> Indexer:
    return Indexer(
        database,
        ChainAccess(settings),
        confirmation_depth=0,
        from_block=start_block,
        lease=Lease(database, INDEX_LEASE, clock, LEASE_SECONDS),
    )


def _rows(database: Database, item_id: str) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count()).where(ItemRow.item_id == item_id)) or 0


def test_only_the_holder_indexes_and_another_takes_over_when_it_dies(
    settings: Settings, suite: SuiteDriver, merchant: Actor, start_block: int
) -> None:
    database = Database(settings.database_url)
    upgrade_schema(database.engine)
    now = [1_000.0]
    first = _indexer(settings, database, lambda: now[0], start_block)
    second = _indexer(settings, database, lambda: now[0], start_block)
    early = suite.register_item(merchant)

    assert first.take_lead() and not second.take_lead()
    assert (first.status.leading, second.status.leading) == (True, False)
    assert first.run_once(leased=True).logs > 0
    late = suite.register_item(merchant)
    # The one standing by stops before its first range: it writes nothing.
    assert second.run_once(leased=True).logs == 0
    assert _rows(database, late.hex) == 0

    now[0] += LEASE_SECONDS + 1  # the holder died without letting go: its lease runs out
    assert second.take_lead() and not first.take_lead()
    assert second.run_once(leased=True).logs > 0
    assert (_rows(database, early.hex), _rows(database, late.hex)) == (1, 1)
    database.dispose()


def test_a_worker_that_stops_cleanly_hands_over_at_once(
    settings: Settings, suite: SuiteDriver, merchant: Actor, start_block: int
) -> None:
    database = Database(settings.database_url)
    upgrade_schema(database.engine)
    leader = _indexer(settings, database, time.time, start_block)
    standby = _indexer(settings, database, time.time, start_block)
    item = suite.register_item(merchant)

    async def run_then_stop() -> None:
        worker = asyncio.create_task(leader.run_forever(0.01))
        deadline = time.monotonic() + 30
        while _rows(database, item.hex) == 0:  # until the leader's worker indexed the item
            assert time.monotonic() < deadline, "the leader did not index"
            await asyncio.wait({worker}, timeout=0.02)
        assert not standby.take_lead()
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    asyncio.run(run_then_stop())
    assert standby.take_lead()  # the lease was let go: no waiting for it to expire
    database.dispose()
