"""What the stats give one app: a clock of the counters' version and the relay's lag, read from
the database at most every ``stats_refresh_seconds``, and the answers rendered for it, so that a
repeated request costs a dictionary look-up.

A rendered answer is kept (``app.shop.page_cache``, as the item pages are) under its request's
address and language, for the generation of the clock it was rendered at; the generation moves
on whenever the counters change (``StatsStateRow.changes``), the index moves to another block or
the relay's lag changes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

from app.api.page_language import Lang
from app.db.session import Database
from app.index.chain import RPC_ERRORS, ChainAccess, ChainUnavailable
from app.index.queries import index_position
from app.shop.page_cache import MadePage, PageCache, PageKey
from app.stats.counters import STATE
from app.stats.models import StatsStateRow
from app.stats.sources import RelayLagPublic, StatsSources

# Rendered answers kept per process (pages of many merchants, in two languages and windows),
# the least recently sent dropped first.
CACHE_ENTRIES = 512
CREDIT_VAULT = "CreditVault"
_NODE_AWAY: tuple[type[Exception], ...] = (
    ChainUnavailable,
    ContractLogicError,
    BadFunctionCallOutput,
    *RPC_ERRORS,
)


@dataclass(frozen=True)
class StatsSnapshot:
    changes: int
    last_block: int | None
    relay: RelayLagPublic | None


class StatsRuntime:
    """One per app, on ``app.state.stats``; thread-safe."""

    def __init__(
        self,
        database: Database,
        sources: StatsSources,
        chain: ChainAccess,
        refresh_seconds: float,
    ) -> None:
        self.database = database
        self.sources = sources
        self._chain = chain
        self._refresh = refresh_seconds
        self._lock = threading.Lock()
        self._snapshot: StatsSnapshot | None = None
        self._generation = 0
        self._read_at = -float("inf")
        self._answers = PageCache(CACHE_ENTRIES)  # its own: the item pages' has other versions
        self._rendering: dict[tuple[int, PageKey], asyncio.Future[str]] = {}
        self._pool_token: str | None = None

    # ------------------------------------------------------------------------ the clock

    def _fresh_generation(self) -> tuple[int, StatsSnapshot] | None:
        with self._lock:
            if self._snapshot is not None and time.monotonic() - self._read_at < self._refresh:
                return self._generation, self._snapshot
        return None

    def _read(self) -> tuple[int, StatsSnapshot]:
        with self.database.sessions() as session:
            state = session.get(StatsStateRow, STATE)
            position = index_position(session)
            relay = self.sources.relay_lag(session) if self.sources.relay_lag else None
        snapshot = StatsSnapshot(
            state.changes if state else 0, position.last_block if position else None, relay
        )
        with self._lock:
            if snapshot != self._snapshot:
                self._generation += 1
                self._snapshot = snapshot
            self._read_at = time.monotonic()
            return self._generation, snapshot

    # ------------------------------------------------------------------------ rendered answers

    def kept(self, key: PageKey) -> str | None:
        """The answer kept for ``key`` if the clock needs no reading: the hot path, which
        costs a look-up (a key is only ever kept for a request that was answered)."""
        with self._lock:
            if self._snapshot is None or time.monotonic() - self._read_at >= self._refresh:
                return None
            generation = self._generation
        page = self._answers.get((generation,), key)
        return None if page is None else page.html

    async def answer(self, key: PageKey, render: Callable[[Session, StatsSnapshot], str]) -> str:
        """The answer for ``key`` as rendered at the clock's generation: kept, or rendered now
        by ``render`` (in a worker thread, with a session of its own), once however many
        requests ask for it meanwhile."""
        fresh = self._fresh_generation()
        generation, snapshot = fresh if fresh is not None else await run_in_threadpool(self._read)
        kept = self._answers.get((generation,), key)
        if kept is not None:
            return kept.html
        # Requests run on the event loop's thread: the renders under way need no lock.
        slot = (generation, key)
        rendering = self._rendering.get(slot)
        if rendering is not None:
            return await asyncio.shield(rendering)
        rendering = self._rendering[slot] = asyncio.get_running_loop().create_future()
        try:
            body = await run_in_threadpool(self._render, render, snapshot)
        except BaseException as error:
            rendering.set_exception(error)
            rendering.exception()  # told to the waiters, if any; raised here
            raise
        finally:
            del self._rendering[slot]
        rendering.set_result(body)
        with self._lock:
            current = generation == self._generation
        if current:  # an answer of an older generation is never sent again
            self._answers.put((generation,), key, MadePage(200, body))
        return body

    def _render(
        self, render: Callable[[Session, StatsSnapshot], str], snapshot: StatsSnapshot
    ) -> str:
        with self.database.sessions() as session:
            return render(session, snapshot)

    # ------------------------------------------------------------------------ the pool's token

    def pool_token(self) -> str | None:
        """The credit vault's asset (its amounts' token), asked of the vault once; None without
        a vault or while the node is away."""
        if self._pool_token is not None:
            return self._pool_token
        try:
            vault = self._chain.contract(CREDIT_VAULT)
            if vault is None:
                return None
            token = str(vault.functions.asset().call())
        except _NODE_AWAY:
            return None
        self._pool_token = token
        return token


async def get_stats_runtime(request: Request) -> StatsRuntime:
    runtime: StatsRuntime = request.app.state.stats
    return runtime


StatsRuntimeDep = Annotated[StatsRuntime, Depends(get_stats_runtime)]


def answer_key(request: Request, lang: Lang = Lang.EN) -> PageKey:
    """An answer's key: its path and query as sent (a page's links are made of them) and its
    language."""
    return (request.scope["path"], request.scope["query_string"].decode("latin-1"), lang)
