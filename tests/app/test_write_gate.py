"""SQLite's writers of one process take turns on the process's write gate: a transaction that
ends in any way (commit, rollback, a session closed unfinished, an error) hands the turn on, and
one that keeps it holds the next writer back until the gate's timeout, which fails it as SQLite's
own lock would."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.db.write_gate import WriteGate

GATE_SECONDS = 1.0
rows = Table("rows", MetaData(), Column("id", Integer, primary_key=True))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = create_engine(
        f"sqlite:///{tmp_path / 'gate.db'}", connect_args={"check_same_thread": False}
    )
    rows.metadata.create_all(made)
    WriteGate(GATE_SECONDS).install(made)
    yield made
    made.dispose()


def write_elsewhere(engine: Engine, value: int) -> BaseException | None:
    """One committed insert from another thread; what it raised, if anything."""
    failure: list[BaseException] = []

    def write() -> None:
        try:
            with Session(engine) as session, session.begin():
                session.execute(insert(rows).values(id=value))
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(timeout=30)
    return failure[0] if failure else None


def rolled_back(session: Session) -> None:
    session.rollback()


def closed_unfinished(session: Session) -> None:
    session.close()


@pytest.mark.parametrize(
    "end", [Session.commit, rolled_back, closed_unfinished], ids=["commit", "rollback", "close"]
)
def test_a_writing_transaction_that_ends_hands_the_turn_on(
    engine: Engine, end: Callable[[Session], None]
) -> None:
    session = Session(engine)
    session.execute(insert(rows).values(id=1))

    end(session)

    assert write_elsewhere(engine, 2) is None
    session.close()
    with Session(engine) as reader:
        assert set(reader.scalars(select(rows.c.id))) >= {2}


def test_a_transaction_that_fails_midway_hands_the_turn_on(engine: Engine) -> None:
    with pytest.raises(ZeroDivisionError), Session(engine) as session, session.begin():
        session.execute(insert(rows).values(id=1))
        raise ZeroDivisionError

    assert write_elsewhere(engine, 2) is None


def test_a_writer_behind_one_that_keeps_its_turn_fails_at_the_gates_timeout(
    engine: Engine,
) -> None:
    holder = Session(engine)
    holder.execute(insert(rows).values(id=1))

    failure = write_elsewhere(engine, 2)

    assert isinstance(failure, OperationalError)  # as SQLite's own lock fails it
    assert "database is locked" in str(failure)
    holder.commit()
    holder.close()
    assert write_elsewhere(engine, 3) is None


def test_reads_do_not_wait_for_the_writer(engine: Engine) -> None:
    holder = Session(engine)
    holder.execute(insert(rows).values(id=1))
    seen: list[set[int]] = []

    def read() -> None:
        with Session(engine) as reader:
            seen.append(set(reader.scalars(select(rows.c.id))))

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(timeout=GATE_SECONDS / 2)

    assert seen == [set()]  # read at once, before the writer's commit
    holder.commit()
    holder.close()
