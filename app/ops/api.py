"""``/readyz``: the chain answers, the deployment is known and the index is close to the head."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from app.api.deps import SessionDep
from app.api.errors import ApiError, ErrorPublic
from app.index.chain import ChainUnavailable
from app.index.queries import index_position
from app.index.runtime import IndexDep

router = APIRouter(tags=["ops"])


class ReadinessPublic(BaseModel):
    status: str
    chain_head: int
    index_last_block: int
    index_lag_blocks: int
    max_index_lag_blocks: int
    confirmation_depth: int


@router.get(
    "/readyz",
    responses={503: {"model": ErrorPublic, "description": "Not ready, with the reason's code"}},
)
async def readyz(index: IndexDep, session: SessionDep) -> ReadinessPublic:
    """Ready when the chain answers, its deployment is known and the index lags the confirmed
    head by at most ``max_index_lag_blocks``."""
    settings = index.settings
    try:
        head = await run_in_threadpool(index.chain.head)
    except ChainUnavailable as error:
        raise ApiError(
            503, "chain_unavailable", "the chain node does not answer", {"error": str(error)}
        ) from error
    try:
        await run_in_threadpool(index.chain.suite)
    except ChainUnavailable as error:
        raise ApiError(
            503, "deployment_missing", "the chain has no known deployment", {"error": str(error)}
        ) from error
    position = index_position(session)
    if position is None:
        raise ApiError(503, "index_not_started", "the index has not run yet", {"chain_head": head})
    lag = max(0, head - settings.confirmation_depth - position.last_block)
    details = {
        "chain_head": head,
        "index_last_block": position.last_block,
        "index_lag_blocks": lag,
        "max_index_lag_blocks": settings.max_index_lag_blocks,
    }
    if lag > settings.max_index_lag_blocks:
        raise ApiError(503, "index_lagging", "the index is too far behind the chain", details)
    return ReadinessPublic(
        status="ready",
        chain_head=head,
        index_last_block=position.last_block,
        index_lag_blocks=lag,
        max_index_lag_blocks=settings.max_index_lag_blocks,
        confirmation_depth=settings.confirmation_depth,
    )
