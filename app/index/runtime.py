"""What the index gives one app: the chain handle, the indexer and its worker, read connections."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Request

from app.db.lease import Lease
from app.db.session import Database
from app.index.chain import ChainAccess
from app.index.indexer import Indexer
from app.index.sql import ReadConnections
from app.settings import Settings

# The index is one per database, whatever chain it follows: so is the lease of its writer.
INDEX_LEASE = "index"


class IndexRuntime:
    """The chain as read by the index and the shopper API, and the indexer following it."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.chain = ChainAccess(settings)
        self.indexer = Indexer(
            database,
            self.chain,
            confirmation_depth=settings.confirmation_depth,
            lease=Lease(database, INDEX_LEASE, time.time, settings.index_lease_seconds),
        )
        # The shopper's hot path reads through these (see app.index.sql).
        self.reads = ReadConnections(database.engine)

    async def worker(self) -> None:
        """The ``indexer`` background worker."""
        await self.indexer.run_forever(self.settings.index_poll_seconds)


async def get_index(request: Request) -> IndexRuntime:
    runtime: IndexRuntime = request.app.state.index
    return runtime


IndexDep = Annotated[IndexRuntime, Depends(get_index)]
