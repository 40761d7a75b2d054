"""Rate limits: a token bucket per key (an ingestion source, a client address), kept in the
database, so every process of the service (API replicas, the workers' process) counts against
the same buckets.

A key limited to ``requests_per_minute`` = N may send N requests at once, then one more every
60/N seconds. Taking a token is one conditional UPDATE of the key's row, so two processes
cannot both take the last one. Times are the wall clock's seconds (processes share no other
clock).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Float, String, bindparam, case, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.rows import insert_unless_present
from app.db.session import Database

# Each process forgets the buckets that have refilled once in this many takes: a key seen again
# starts with a full bucket, as it would have, so keys that come and go (client addresses) leave
# no rows behind for long.
PRUNE_EVERY = 1_000


class RateBucket(Base):
    """One key's bucket: its tokens when last taken from, and how it refills."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)
    capacity: Mapped[float] = mapped_column(Float)
    per_second: Mapped[float] = mapped_column(Float)


# The bucket's tokens now: refilled since it was last taken from, at most its capacity.
_REFILLED = RateBucket.tokens + (bindparam("now") - RateBucket.updated) * bindparam("per_second")
_NOW = case((bindparam("capacity") < _REFILLED, bindparam("capacity")), else_=_REFILLED)
_TAKE = (
    update(RateBucket)
    .where(RateBucket.key == bindparam("bucket"), _NOW >= 1.0)
    .values(
        tokens=_NOW - 1.0,
        updated=bindparam("now"),
        capacity=bindparam("capacity"),
        per_second=bindparam("per_second"),
    )
    .execution_options(synchronize_session=False)
)
_FULL = RateBucket.tokens + (bindparam("now") - RateBucket.updated) * RateBucket.per_second
_PRUNE = delete(RateBucket).where(RateBucket.capacity <= _FULL)


class RateLimits:
    """The buckets of one service, in its database."""

    def __init__(self, database: Database, clock: Callable[[], float] = time.time) -> None:
        self._database = database
        self._clock = clock
        self._takes = 0

    def take(self, key: str, requests_per_minute: int) -> float:
        """0.0 when ``key`` may go on (a token taken), else how many seconds it should wait."""
        now = self._clock()
        capacity, per_second = float(requests_per_minute), requests_per_minute / 60.0
        values = {"now": now, "capacity": capacity, "per_second": per_second, "bucket": key}
        with self._database.transaction() as session:
            self._takes += 1
            if self._takes % PRUNE_EVERY == 0:
                session.execute(_PRUNE, {"now": now})
            insert_unless_present(
                session,
                RateBucket,
                {"key": key, "tokens": capacity, "updated": now, "capacity": capacity,
                 "per_second": per_second},
            )  # fmt: skip
            if session.execute(_TAKE, values).rowcount:  # type: ignore[attr-defined]
                return 0.0
            tokens = session.scalar(select(_NOW).where(RateBucket.key == key), values)
        return (1.0 - float(tokens or 0.0)) / per_second

    def __len__(self) -> int:
        """How many keys hold a bucket."""
        with self._database.sessions() as session:
            return len(session.scalars(select(RateBucket.key)).all())
