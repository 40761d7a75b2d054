"""Numbers the stats endpoint shows but other parts of the service own, fed in by them.

The relayer (app/outbox) feeds its lag with ``provide_relay_lag(app, source)`` in ``create_app``;
until something does, ``GET /v1/stats`` leaves ``relay`` out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session


class RelayLagPublic(BaseModel):
    """How far the relay is behind what the service accepted."""

    queued: int = Field(description="Records accepted and not yet sent on chain")
    in_flight: int = Field(description="Records sent and not yet confirmed")
    failed: int = Field(default=0, description="Records that failed for good")
    oldest_unconfirmed_seconds: float | None = Field(
        default=None, description="Age of the oldest record accepted and not yet confirmed"
    )


RelayLagSource = Callable[[Session], RelayLagPublic]


@dataclass
class StatsSources:
    """One per app, on ``app.state.stats_sources``."""

    relay_lag: RelayLagSource | None = None


def provide_relay_lag(app: FastAPI, source: RelayLagSource) -> None:
    """Lets ``GET /v1/stats`` report the relay's lag, read by ``source`` from the database."""
    sources: StatsSources = app.state.stats_sources
    sources.relay_lag = source


async def get_stats_sources(request: Request) -> StatsSources:
    sources: StatsSources = request.app.state.stats_sources
    return sources


StatsSourcesDep = Annotated[StatsSources, Depends(get_stats_sources)]
