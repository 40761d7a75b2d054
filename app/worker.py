"""``python -m app.worker`` (``make worker``): the service's background workers in a process of
their own, serving no HTTP: the relayer (carriers' events, bureaus' applications, keeper duties
and merchants' signed requests), the indexer, the keeper and the webhook deliverer.

Beside it, any number of API processes on the same database (``python -m app.serve --workers N``
with ``TRUSTMALL_RUN_BACKGROUND_TASKS=false``) only answer requests: what they accept waits in the
outbox, and this process sends it. One process runs the workers, this one or an API process left
with its background tasks on (the default of ``make api``), not both: the relayer's and the
deliverer's leases keep a second one from sending twice, but two indexers would both write the
index. Settings are the service's (``TRUSTMALL_*``); SIGTERM or SIGINT stops the workers cleanly,
as an API process's lifespan does.
"""

from __future__ import annotations

import asyncio
import signal

import structlog
from fastapi import FastAPI

from app.main import create_app
from app.settings import Settings

log = structlog.get_logger(__name__)


async def run_workers(app: FastAPI) -> None:
    """Runs ``app``'s background workers until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stopping in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stopping, stop.set)
    async with app.router.lifespan_context(app):
        log.info("workers_started", workers=sorted(app.state.services.workers))
        await stop.wait()
    log.info("workers_stopped")


def main() -> None:
    settings = Settings().model_copy(update={"run_background_tasks": True})
    asyncio.run(run_workers(create_app(settings)))


if __name__ == "__main__":
    main()
