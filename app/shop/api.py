"""The shopper JSON API: items (verdicts), merchants, orders, disputes, batch manifests."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.api.deps import SessionDep
from app.api.errors import ApiError, ErrorPublic
from app.api.params import (
    DECIMAL_DIGITS,
    ITEM_ID,
    BatchRoot,
    ItemId,
    MerchantAddress,
    Offset,
    OrderId,
    checked,
    openapi_parameter,
)
from app.index.chain import ChainUnavailable
from app.index.runtime import IndexDep, IndexRuntime
from app.shop.manifests import publish_manifest
from app.shop.order_context import OrderContextDep
from app.shop.party_orders import (
    CURSOR_PATTERN,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    OrderCursor,
    party_orders,
)
from app.shop.reads import disputes_public, merchant_public, order_public
from app.shop.schemas import (
    DisputeListPublic,
    ItemVerdictPublic,
    ManifestCreate,
    ManifestPublishedPublic,
    MerchantPublic,
    OrderListPublic,
    OrderPublic,
)
from app.shop.verdicts import MetadataFetchNeeded, indexed_verdict_fast, item_verdict

router = APIRouter(prefix="/v1", tags=["shop"])
_VERDICT_JSON = ItemVerdictPublic.__pydantic_serializer__

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "Not known to the index"},
    422: {"model": ErrorPublic, "description": "A malformed id or body"},
    503: {"model": ErrorPublic, "description": "The chain node does not answer"},
}


def _chain_unavailable(error: ChainUnavailable) -> ApiError:
    return ApiError(
        503, "chain_unavailable", "the chain node does not answer", {"error": str(error)}
    )


_ITEM_PARAMETERS = [
    openapi_parameter("item_id", "path", ItemId, "The item's id: 0x followed by 64 hex digits"),
    {
        "name": "fresh",
        "in": "query",
        "required": False,
        "description": "Answer from the chain's views and logs, not the index",
        "schema": {"type": "boolean", "default": False},
    },
]
_TRUE = frozenset({"1", "true", "on", "yes", "t", "y"})
_FALSE = frozenset({"0", "false", "off", "no", "f", "n"})


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name)
    if value is None or value.lower() in _FALSE:
        return False
    if value.lower() in _TRUE:
        return True
    raise ApiError(
        422,
        "validation_failed",
        "the request is not valid",
        [{"field": f"query.{name}", "code": "bool_parsing", "message": "not a boolean"}],
    )


@router.get(
    "/items/{item_id}",
    response_model=ItemVerdictPublic,
    responses=ERRORS,
    openapi_extra={"parameters": _ITEM_PARAMETERS},
)
async def get_item(request: Request) -> Response:
    """Whether an item is authentic and why, with its merchant, metadata check, custody trail,
    batch proof and sale record."""
    # The shopper's hot path: parameters are read here rather than by FastAPI's dependency
    # machinery (a quarter of a request's framework cost), and documented in openapi_extra.
    index: IndexRuntime = request.app.state.index
    key = checked(ITEM_ID, request.path_params["item_id"], "path", "item_id")
    fresh = _flag(request, "fresh")
    try:
        if fresh:
            verdict = await run_in_threadpool(_verdict_in_session, index, key, True)
        else:
            try:
                # The hot path: a few indexed queries, quick enough for the event loop.
                verdict = indexed_verdict_fast(index, key)
            except MetadataFetchNeeded:
                verdict = await run_in_threadpool(_verdict_in_session, index, key, False)
    except ChainUnavailable as error:
        raise _chain_unavailable(error) from error
    if not verdict.known:
        raise ApiError(
            404,
            "item_unknown",
            "no merchant registered this item and no published batch lists it",
            {"item_id": key, "verdict": verdict.verdict.value, "as_of_block": verdict.as_of_block},
        )
    return Response(_VERDICT_JSON.to_json(verdict), media_type="application/json")


def _verdict_in_session(index: IndexRuntime, item_id: str, fresh: bool) -> ItemVerdictPublic:
    with index.database.sessions() as session:
        return item_verdict(index, session, item_id, fresh=fresh)


@router.get("/merchants/{address}", responses=ERRORS)
def get_merchant(address: MerchantAddress, session: SessionDep) -> MerchantPublic:
    """A merchant's record, status history, items and seller record."""
    merchant = merchant_public(session, address)
    if merchant is None:
        raise ApiError(404, "merchant_unknown", "no merchant with this address was approved")
    return merchant


@router.get("/orders/{order_id}", responses=ERRORS)
def get_order(order_id: OrderId, session: SessionDep, context: OrderContextDep) -> OrderPublic:
    """An escrow order: terms, status, deadlines, the moves open to each party now, every
    event, and its dispute if any."""
    order = order_public(session, order_id, context)
    if order is None:
        raise ApiError(404, "order_unknown", "no order with this id was opened")
    return order


@router.get("/orders", responses=ERRORS)
def list_orders(
    session: SessionDep,
    context: OrderContextDep,
    buyer: Annotated[MerchantAddress | None, Query(description="The buyer's orders")] = None,
    merchant: Annotated[MerchantAddress | None, Query(description="The merchant's orders")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT), DECIMAL_DIGITS] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            description="next_cursor of the page before; omitted: the newest orders",
            pattern=CURSOR_PATTERN,
        ),
    ] = None,
) -> OrderListPublic:
    """A buyer's or a merchant's escrow orders (exactly one of ``buyer`` and ``merchant``),
    newest first: each with its status, amount, items, the deadlines of its status and the moves
    open to each party now. All of it is public on chain; nothing here is more than the chain
    says."""
    if (buyer is None) == (merchant is None):
        message = "neither was given" if buyer is None else "both were given"
        raise ApiError(
            422,
            "one_party_required",
            "give exactly one of buyer and merchant",
            [
                {"field": f"query.{name}", "code": "one_party_required", "message": message}
                for name in ("buyer", "merchant")
            ],
        )
    return party_orders(
        session,
        buyer=buyer,
        merchant=merchant,
        limit=limit,
        cursor=None if cursor is None else OrderCursor.parse(cursor),
        context=context,
    )


@router.get("/disputes", responses=ERRORS)
def list_disputes(
    session: SessionDep,
    open: Annotated[
        bool | None, Query(description="true: still disputed; false: closed; omitted: all")
    ] = None,
    merchant: Annotated[
        MerchantAddress | None, Query(description="Only this merchant's disputes")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500), DECIMAL_DIGITS] = 50,
    offset: Offset = 0,
) -> DisputeListPublic:
    """Disputes, newest first."""
    return disputes_public(
        session,
        open_only=open,
        merchant=merchant,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/batches/{root}/manifest",
    status_code=201,
    responses={
        **ERRORS,
        200: {"model": ManifestPublishedPublic, "description": "Published before, same content"},
        403: {"model": ErrorPublic, "description": "Not signed by the batch's merchant"},
        409: {"model": ErrorPublic, "description": "Another manifest was published for the root"},
    },
)
def post_manifest(
    root: BatchRoot,
    body: ManifestCreate,
    index: IndexDep,
    session: SessionDep,
    response: Response,
) -> ManifestPublishedPublic:
    """Publishes a batch's manifest signed by its merchant; each item's proof is then served."""
    try:
        published = publish_manifest(index, session, root, body)
    except ChainUnavailable as error:
        raise _chain_unavailable(error) from error
    if not published.created:
        response.status_code = 200
    return published
