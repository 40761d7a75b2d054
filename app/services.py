"""What one running app holds: settings, database, chain handles, background workers.

Built by ``create_app`` and kept on ``app.state.services``; nothing lives at module level, so
tests run several apps side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import structlog

from app.chain.keys import ServiceKeys
from app.db.rate_limits import RateLimits
from app.db.session import Database
from app.settings import Settings

log = structlog.get_logger(__name__)

Worker = Callable[[], Awaitable[None]]
State = TypeVar("State")


@dataclass
class AppServices:
    settings: Settings
    database: Database
    # The service's signing keys, decrypted once when the app is made (see app.chain.keys).
    keys: ServiceKeys = field(default_factory=ServiceKeys)
    workers: dict[str, Worker] = field(default_factory=dict)
    # What a feature keeps per app (ingestion's rate-limit buckets and chain-lookup cache), keyed
    # by the feature's own type, so that the services below the features never import them.
    _states: dict[type[Any], Any] = field(default_factory=dict)
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Rate limits are counted in the database: every process of the service shares them.
        self.rate_limits = RateLimits(self.database)

    def state(self, kind: type[State]) -> State:
        """This app's one ``kind``, made with no arguments on first use."""
        found = self._states.get(kind)
        if found is None:
            # setdefault: two threads meeting here keep the same one.
            found = self._states.setdefault(kind, kind())
        return cast(State, found)

    def start_workers(self) -> None:
        for name, worker in self.workers.items():
            self._tasks[name] = asyncio.create_task(self._supervised(name, worker), name=name)

    async def stop_workers(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def worker_alive(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    async def _supervised(self, name: str, worker: Worker) -> None:
        """Runs a worker for the app's lifetime, restarting it with backoff if it fails."""
        delay = 0.5
        while True:
            try:
                await worker()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("worker_failed", worker=name, restart_in_seconds=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
