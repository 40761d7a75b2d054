"""Which relayer may send for an oracle account (``RelayLease``): one at a time per database, so
several service processes (``uvicorn --workers``) never race for nonces. A relayer renews its
lease every cycle and before every batch; one that dies without releasing it is replaced once it
expires."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from app.db.session import Database
from app.outbox.models import RelayLease

LEASE_SECONDS = 15.0


class Lease:
    """One relayer's hold on one named lease."""

    def __init__(
        self,
        database: Database,
        name: str,
        clock: Callable[[], float],
        seconds: float = LEASE_SECONDS,
    ) -> None:
        self.database = database
        self.name = name
        self.clock = clock
        self.seconds = seconds
        self.owner = uuid.uuid4().hex

    def take(self) -> bool:
        """Takes or renews the lease; False while another relayer holds it."""
        now = self.clock()
        try:
            with self.database.transaction() as session:
                if session.get(RelayLease, self.name) is None:
                    session.add(RelayLease(name=self.name, owner=self.owner, expires_at=0.0))
        except IntegrityError:
            pass  # another relayer made the row first
        with self.database.transaction() as session:
            # One statement, so two relayers cannot both win it.
            taken = session.execute(
                update(RelayLease)
                .where(
                    RelayLease.name == self.name,
                    or_(RelayLease.owner == self.owner, RelayLease.expires_at < now),
                )
                .values(owner=self.owner, expires_at=now + self.seconds)
                .execution_options(synchronize_session=False)
            )
        return bool(taken.rowcount)  # type: ignore[attr-defined]

    def release(self) -> None:
        """Lets another relayer take over at once (on a clean stop)."""
        with self.database.transaction() as session:
            session.execute(
                update(RelayLease)
                .where(RelayLease.name == self.name, RelayLease.owner == self.owner)
                .values(expires_at=0.0)
                .execution_options(synchronize_session=False)
            )
