"""``GET /v1/keeper``: what the keeper has to do and has done.

Like ``GET /v1/relay/{id}`` it answers nothing the chain does not show anyway (order ids, hashes,
the contract's own refusals), so it needs no key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import ServicesDep, SessionDep
from app.api.errors import ErrorPublic
from app.api.params import DECIMAL_DIGITS
from app.keeper.overview import keeper_overview
from app.keeper.schemas import KeeperPublic

router = APIRouter(prefix="/v1/keeper", tags=["keeper"])


@router.get(
    "",
    response_model=KeeperPublic,
    responses={422: {"model": ErrorPublic, "description": "A query parameter is out of range."}},
)
def get_keeper(
    services: ServicesDep,
    session: SessionDep,
    limit: Annotated[
        int, Query(ge=1, le=1_000, description="Duties shown per state"), DECIMAL_DIGITS
    ] = 100,
) -> KeeperPublic:
    """Duties due now (by the index's latest block) and not queued yet; queued and submitted
    duties; done ones with their transaction and block; failed ones with the contract's reason
    (the order moved on: a party acted first)."""
    account = services.keys.keeper_account
    return keeper_overview(
        session, services.settings, None if account is None else account.address, limit
    )
