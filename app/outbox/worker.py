"""The relayer as a background task of the app: cycles in a worker thread, backs off while the
node is away, and stops between steps when cancelled (a step in progress finishes first, so a
cancelled relayer never leaves a half-written step behind)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import structlog

from app.chain.keys import SigningKeyUnavailable
from app.outbox.relayer import Relayer
from app.services import AppServices, Worker

log = structlog.get_logger(__name__)

MAX_BACKOFF_SECONDS = 30.0
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


def relayer_worker(services: AppServices) -> Worker:
    """The app's relay loop: one cycle after another while there is work, else one per
    ``relay_poll_seconds``; with growing pauses while the chain cannot be reached."""
    settings = services.settings

    async def run() -> None:
        relayer: Relayer | None = None
        backoff = settings.relay_poll_seconds
        while True:
            try:
                if relayer is None:
                    relayer = await in_thread(lambda: Relayer.from_services(services))
                report = await in_thread(relayer.run_once)
                backoff = settings.relay_poll_seconds
                delay = 0.0 if report.more_work else settings.relay_poll_seconds
            except SigningKeyUnavailable as error:
                log.error("relayer_disabled", reason=str(error))
                return
            except Exception as error:
                # The node away or refusing, the database busy: the same cycle is safe to repeat.
                log.warning(
                    "relay_cycle_failed",
                    error_type=type(error).__name__,
                    error=str(error)[:300],
                    retry_in_seconds=backoff,
                )
                delay = backoff
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            await asyncio.sleep(delay)

    return run
