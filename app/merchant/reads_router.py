"""``GET /v1/merchant/me``, ``/items``, ``/batches``, ``/orders``, ``/reports``: what the index
holds of the signed-in merchant, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import SessionDep, SettingsDep
from app.api.errors import ApiError
from app.api.params import DECIMAL_DIGITS, Offset
from app.merchant.auth import MerchantDep, errors
from app.merchant.reads import merchant_batches, merchant_items, merchant_orders, merchant_reports
from app.merchant.schemas import (
    MerchantBatchListPublic,
    MerchantItemListPublic,
    MerchantOrderListPublic,
    MerchantReportListPublic,
)
from app.shop.order_context import OrderContextDep
from app.shop.reads import merchant_public
from app.shop.schemas import MerchantPublic

router = APIRouter(prefix="/v1/merchant", tags=["merchant"])
Limit = Annotated[int, Query(ge=1, le=100), DECIMAL_DIGITS]


@router.get("/me", response_model=MerchantPublic, responses=errors(401, 404))
def get_me(merchant: MerchantDep, session: SessionDep) -> MerchantPublic:
    """The merchant's record, status history and seller record, as the index has them."""
    found = merchant_public(session, merchant)
    if found is None:
        raise ApiError(
            404, "merchant_not_indexed", "the index has not seen this merchant's approval"
        )
    return found


@router.get("/items", response_model=MerchantItemListPublic, responses=errors(401, 422))
def list_items(
    merchant: MerchantDep,
    session: SessionDep,
    settings: SettingsDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> MerchantItemListPublic:
    """Items with a record of their own (registered, or batch items activated)."""
    return merchant_items(session, settings, merchant, limit, offset)


@router.get("/batches", response_model=MerchantBatchListPublic, responses=errors(401, 422))
def list_batches(
    merchant: MerchantDep, session: SessionDep, limit: Limit = 50, offset: Offset = 0
) -> MerchantBatchListPublic:
    """Merkle batches the merchant registered, and whether each was recalled."""
    return merchant_batches(session, merchant, limit, offset)


@router.get("/orders", response_model=MerchantOrderListPublic, responses=errors(401, 422))
def list_orders(
    merchant: MerchantDep,
    session: SessionDep,
    context: OrderContextDep,
    limit: Limit = 20,
    offset: Offset = 0,
) -> MerchantOrderListPublic:
    """Orders of the merchant's items, each as ``GET /v1/orders/{id}`` shows it."""
    return merchant_orders(session, merchant, limit, offset, context)


@router.get("/reports", response_model=MerchantReportListPublic, responses=errors(401, 422))
def list_reports(
    merchant: MerchantDep, session: SessionDep, limit: Limit = 50, offset: Offset = 0
) -> MerchantReportListPublic:
    """Reports filed on the merchant's items, open or decided."""
    return merchant_reports(session, merchant, limit, offset)
