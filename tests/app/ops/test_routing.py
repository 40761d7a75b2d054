"""The features' routes are the app's own (``app.api.routing.add_routes``), with the same
OpenAPI document and answers ``FastAPI.include_router`` would give, and none of its wrappers
(which rebuilt every route's context in each new app and matched each request through them)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

import app.api.routing as routing
from app.api.routing import RouterNotPlain, add_routes
from app.main import create_app
from app.settings import Settings


def _included(app: FastAPI, *routers: APIRouter) -> None:
    for router in routers:
        app.include_router(router)


def test_the_service_documents_the_same_api_as_with_included_routers(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = create_app(settings)
    # Every wiring module that adds routes adds them the include_router way instead.
    for module in list(sys.modules.values()):
        if module.__name__.startswith("app.") and getattr(module, "add_routes", None) is add_routes:
            monkeypatch.setattr(module, "add_routes", _included)
    included = create_app(settings)

    assert direct.openapi() == included.openapi()
    assert len(direct.openapi()["paths"]) > 40
    # Matched directly: no wrapper between the app and a route.
    assert all(isinstance(route, APIRoute | Route) for route in direct.routes)
    assert not all(isinstance(route, APIRoute | Route) for route in included.routes)


def _refuse() -> None:
    raise HTTPException(403, "refused by the router's dependency")


def _router() -> APIRouter:
    router = APIRouter(
        prefix="/things",
        tags=["things"],
        dependencies=[Depends(_refuse)],
        responses={418: {"description": "a teapot"}},
    )

    @router.get("/{number}")
    def thing(number: int) -> dict[str, int]:
        return {"number": number}

    return router


def test_a_router_s_prefix_tags_responses_and_dependencies_come_with_its_routes() -> None:
    router = _router()
    direct, included = FastAPI(), FastAPI()
    add_routes(direct, router)
    included.include_router(router)

    assert direct.openapi() == included.openapi()
    operation: dict[str, Any] = direct.openapi()["paths"]["/things/{number}"]["get"]
    assert operation["tags"] == ["things"] and "418" in operation["responses"]
    for app in (direct, included):
        answer = TestClient(app).get("/things/7")
        assert (answer.status_code, answer.json()) == (
            403,
            {"detail": "refused by the router's dependency"},
        )


@asynccontextmanager
async def _lifespan(_app: Any) -> AsyncIterator[None]:
    yield


@pytest.mark.parametrize(
    "router",
    [
        APIRouter(on_startup=[lambda: None]),
        APIRouter(on_shutdown=[lambda: None]),
        APIRouter(lifespan=_lifespan),
    ],
    ids=["start-up hook", "shut-down hook", "lifespan"],
)
def test_a_router_with_hooks_or_a_lifespan_is_refused(router: APIRouter) -> None:
    with pytest.raises(RouterNotPlain):
        routing.add_routes(FastAPI(), router)
