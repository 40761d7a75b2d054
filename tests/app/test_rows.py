"""Statements the backends spell differently (``app.db.rows``), run on both: the outbox's bulk
updates by id, where PostgreSQL takes the ids and each row's values as arrays."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select

from app.db.rows import update_by_id
from app.db.session import Database
from app.outbox.models import OutboxRecord, RelayStatus
from tests.app.databases import ServiceDatabases

pytestmark = pytest.mark.both_databases


@pytest.fixture
def database(databases: ServiceDatabases, tmp_path: Path) -> Database:
    return Database(databases.url(tmp_path, "rows"))  # at the newest migration


def queued(database: Database, count: int) -> list[int]:
    records = [
        {
            "relay_id": f"r{n}",
            "source": "carrier",
            "source_event_id": f"e{n}",
            "kind": "custody",
            "subject": f"0x{n:064x}",
            "action": "shipped",
            "occurred_at": 1_700_000_000,
            "payload": {},
            "details": {},
            "content_hash": "00" * 32,
            "status": RelayStatus.QUEUED,
            "attempts": 0,
        }
        for n in range(count)
    ]
    with database.transaction() as session:
        session.execute(insert(OutboxRecord), records)
    with database.sessions() as session:
        return list(session.scalars(select(OutboxRecord.id).order_by(OutboxRecord.id)))


def rows_of(database: Database) -> dict[int, tuple[str, int, str | None]]:
    with database.sessions() as session:
        found = session.execute(
            select(
                OutboxRecord.id,
                OutboxRecord.status,
                OutboxRecord.attempts,
                OutboxRecord.custody_event_id,
            )
        ).all()
    return {row_id: (status, attempts, event) for row_id, status, attempts, event in found}


def test_each_row_takes_the_shared_values_and_its_own(database: Database) -> None:
    ids = queued(database, 600)
    chosen = ids[:500]
    own = {row_id: str(10**30 + 7 * row_id) for row_id in chosen}
    own[chosen[3]] = None  # type: ignore[assignment]

    with database.transaction() as session:
        updated = update_by_id(
            session,
            OutboxRecord,
            chosen,
            {"status": RelayStatus.SUBMITTED, "attempts": OutboxRecord.attempts + 1},
            each={"custody_event_id": own},
        )

    assert updated == 500
    rows = rows_of(database)
    assert {rows[i] for i in ids[500:]} == {(RelayStatus.QUEUED, 0, None)}
    assert all(rows[i] == (RelayStatus.SUBMITTED, 1, own[i]) for i in chosen)


def test_rows_that_fail_the_condition_are_left_and_not_counted(database: Database) -> None:
    ids = queued(database, 4)
    with database.transaction() as session:
        update_by_id(session, OutboxRecord, ids[:1], {"status": RelayStatus.FAILED})

    with database.transaction() as session:
        updated = update_by_id(
            session,
            OutboxRecord,
            ids,
            {"status": RelayStatus.SUBMITTED},
            each={"custody_event_id": {row_id: str(row_id) for row_id in ids}},
            where=[OutboxRecord.status == RelayStatus.QUEUED],
        )
        assert update_by_id(session, OutboxRecord, [], {"status": RelayStatus.FAILED}) == 0

    assert updated == 3
    rows = rows_of(database)
    assert rows[ids[0]] == (RelayStatus.FAILED, 0, None)
    assert [rows[i] for i in ids[1:]] == [(RelayStatus.SUBMITTED, 0, str(i)) for i in ids[1:]]
