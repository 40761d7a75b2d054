"""Leases: which process of the service leads a piece of work, one at a time per database —
the relayer of each oracle account (so processes never race for its nonces), the indexer (so one
process writes the index), the webhook deliverer. The holder asks for its lease every cycle and
before each step of work, and renews it in the database once a third of it has run, so a step
always starts with two thirds of the lease ahead and an idle holder writes once every few seconds
instead of every cycle; one that dies without releasing it is replaced once it expires, by
whichever process asks next.

Taking is one conditional UPDATE, so two processes can never both win it, on SQLite or
PostgreSQL."""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Callable

from sqlalchemy import Float, String, or_, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.db.session import Database

LEASE_SECONDS = 15.0
# The part of a lease its holder uses before renewing it.
RENEW_AFTER = 1 / 3


class LeaseRow(Base):
    """Who holds a named lease, until when (seconds since the epoch); its table's name is the
    one existing databases have."""

    __tablename__ = "relay_leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[float] = mapped_column(Float)


class Lease:
    """One process's hold on one named lease."""

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
        # The process id first, so an operator (or a fault campaign) can tell which process leads.
        self.owner = f"{os.getpid()}:{uuid.uuid4().hex[:20]}"
        self._renew_at = -math.inf  # held, unrenewed, until then (by this process's last take)
        self._row_exists = False

    def take(self) -> bool:
        """Takes or renews the lease; False while another process holds it."""
        now = self.clock()
        if now < self._renew_at:
            return True  # nobody else can take it before it expires, two thirds of it away
        if not self._row_exists:
            self._make_row()
        with self.database.transaction() as session:
            # One statement, so two processes cannot both win it.
            taken = session.execute(
                update(LeaseRow)
                .where(
                    LeaseRow.name == self.name,
                    or_(LeaseRow.owner == self.owner, LeaseRow.expires_at < now),
                )
                .values(owner=self.owner, expires_at=now + self.seconds)
                .execution_options(synchronize_session=False)
            )
        held = bool(taken.rowcount)  # type: ignore[attr-defined]
        self._renew_at = now + self.seconds * RENEW_AFTER if held else -math.inf
        return held

    def _make_row(self) -> None:
        try:
            with self.database.transaction() as session:
                if session.get(LeaseRow, self.name) is None:
                    session.add(LeaseRow(name=self.name, owner=self.owner, expires_at=0.0))
        except IntegrityError:
            pass  # another process made the row first
        self._row_exists = True

    def release(self) -> None:
        """Lets another process take over at once (on a clean stop). A database that cannot be
        reached is let be: the lease then runs out as it would after a crash."""
        self._renew_at = -math.inf
        try:
            with self.database.transaction() as session:
                session.execute(
                    update(LeaseRow)
                    .where(LeaseRow.name == self.name, LeaseRow.owner == self.owner)
                    .values(expires_at=0.0)
                    .execution_options(synchronize_session=False)
                )
        except SQLAlchemyError:
            pass
