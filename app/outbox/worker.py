"""The relayer as a background task of the app: cycles in a worker thread, backs off while the
node is away, and stops between steps when cancelled (a step in progress finishes first, so a
cancelled relayer never leaves a half-written step behind), releasing its lease."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from typing import TypeVar

import structlog

from app.chain.keys import SigningKeyUnavailable
from app.db.lease import RENEW_AFTER
from app.outbox.relayer import CycleReport, Relayer
from app.services import AppServices, Worker

log = structlog.get_logger(__name__)

MAX_BACKOFF_SECONDS = 30.0
IN_FLIGHT_POLL_SECONDS = 0.05
T = TypeVar("T")


async def in_thread(step: Callable[[], T]) -> T:
    """Runs a blocking step in a thread; if the caller is cancelled meanwhile, the step still
    completes before the cancellation goes on."""
    task = asyncio.ensure_future(asyncio.to_thread(step))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait({task})
        raise


class RelayLoop:
    """One cycle after another while there is work, else one per ``relay_poll_seconds``; with
    growing pauses while the chain cannot be reached. After a cycle that found nothing to do, the
    next ones only ask the database whether there is work (``Relayer.has_work``) until
    ``relay_idle_check_seconds`` have passed: an idle relayer then costs one read a poll, not a
    cycle's reads, writes and node calls, in the process that also answers shoppers."""

    def __init__(self, services: AppServices, clock: Callable[[], float] = time.monotonic) -> None:
        self.services = services
        self.clock = clock
        settings = services.settings
        self.poll = settings.relay_poll_seconds
        self.backoff = self.poll
        # A full cycle at least this often: it renews the lease before a third of it has run.
        self.full_cycle_every = min(
            settings.relay_idle_check_seconds, settings.relay_lease_seconds * RENEW_AFTER
        )
        self.quiet_until = -math.inf
        self.relayer: Relayer | None = None

    async def run(self) -> None:
        try:
            while True:
                delay = await self.cycle()
                if delay is None:
                    return
                await asyncio.sleep(delay)
        finally:
            if self.relayer is not None:
                with contextlib.suppress(Exception):
                    await in_thread(self.relayer.release_lease)

    async def cycle(self) -> float | None:
        """One cycle; the pause before the next, or None to stop for good."""
        try:
            if self.relayer is None:
                self.relayer = await in_thread(lambda: Relayer.from_services(self.services))
            if self.clock() < self.quiet_until and not await in_thread(self.relayer.has_work):
                return self.poll
            report = await in_thread(self.relayer.run_once)
        except SigningKeyUnavailable as error:
            log.error("relayer_disabled", reason=str(error))
            return None
        except Exception as error:
            # The node away or refusing, the database busy: the same cycle is safe to repeat.
            log.warning(
                "relay_cycle_failed",
                error_type=type(error).__name__,
                error=str(error)[:300],
                retry_in_seconds=self.backoff,
            )
            delay, self.backoff = self.backoff, min(self.backoff * 2, MAX_BACKOFF_SECONDS)
            return delay
        self.backoff = self.poll
        self.quiet_until = self.clock() + self.full_cycle_every if report.idle else -math.inf
        return self._pause(report)

    def _pause(self, report: CycleReport) -> float:
        if report.more_work:
            return 0.0
        if report.open_transactions:
            # Transactions in flight: look again soon, their receipts free the slots.
            return min(self.poll, IN_FLIGHT_POLL_SECONDS)
        return self.poll


def relayer_worker(services: AppServices) -> Worker:
    """The app's relay loop (registered in ``services.workers``)."""
    return lambda: RelayLoop(services).run()
