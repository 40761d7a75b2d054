"""The service's token buckets (ingestion sources, sign-in nonces, problem reports, publishing),
kept in the database: every process of the service counts against the same ones."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import app.db.rate_limits as rate_limits
from app.db.migrate import upgrade_schema
from app.db.rate_limits import RateLimits
from app.db.session import Database
from tests.app.databases import ServiceDatabases

pytestmark = pytest.mark.both_databases


@pytest.fixture
def database(databases: ServiceDatabases, tmp_path: Path) -> Database:
    made = Database(databases.url(tmp_path, "limits"))
    upgrade_schema(made.engine)
    return made


def test_n_a_minute_go_at_once_then_one_every_60_over_n_seconds(database: Database) -> None:
    now = [1_000.0]
    limits = RateLimits(database, clock=lambda: now[0])

    assert [limits.take("carrier", 2) for _ in range(3)] == [0.0, 0.0, 30.0]
    now[0] += 30.0
    assert limits.take("carrier", 2) == 0.0
    assert limits.take("another key", 2) == 0.0  # each key its own bucket


def test_two_processes_count_against_one_bucket(database: Database) -> None:
    now = [1_000.0]
    replica_a = RateLimits(database, clock=lambda: now[0])
    replica_b = RateLimits(Database(str(database.engine.url)), clock=lambda: now[0])

    taken = [limits.take("client", 3) for limits in (replica_a, replica_b, replica_a, replica_b)]

    assert taken == [0.0, 0.0, 0.0, 20.0]


def test_concurrent_takes_never_take_more_than_the_bucket_holds(database: Database) -> None:
    limits = RateLimits(database, clock=lambda: 1_000.0)
    gate = threading.Barrier(8)
    granted: list[float] = []

    def take_some() -> None:
        gate.wait()
        granted.extend(limits.take("burst", 10) for _ in range(5))

    threads = [threading.Thread(target=take_some) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(1 for wait in granted if wait == 0.0) == 10
    assert len(granted) == 40


def test_refilled_buckets_are_forgotten_a_limited_one_is_kept(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rate_limits, "PRUNE_EVERY", 50)
    now = [1_000.0]
    limits = RateLimits(database, clock=lambda: now[0])
    while limits.take("hot", 60) == 0.0:
        pass
    for n in range(40):  # addresses that come once and go
        limits.take(f"10.0.0.{n}", 60)
    now[0] += 1.0  # each of them has refilled since; "hot" has one token back of its 60

    while len(limits) > 2:  # the next prune forgets the refilled ones
        assert limits.take("one more", 60) == 0.0

    assert [limits.take("hot", 60) for _ in range(2)] == [0.0, 1.0]
