"""How a feature's routes go into the app: as the app's own routes, not as an included router.

``FastAPI.include_router`` (FastAPI 0.165) puts a wrapper for each router into the app. On an
app's first request the wrappers build a context for every route (about 200 ms of CPU for the
service's routes, in every process and in every test's app), and every request is then matched
through them (about 0.4 ms more a request, measured in process, on the shopper's page too). Our
routers say everything in their routes when the routes are made (prefix, tags, responses) and
nothing at inclusion, so their routes can be the app's as they are: the OpenAPI document and the
answers are the same (tests.app.ops.test_routing).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from app.api.errors import refuse_repeated_parameters


class RouterNotPlain(ValueError):
    """A router that needs what only ``include_router`` gives it (its own start-up hooks or
    lifespan, which the app would otherwise never run)."""


def add_routes(app: FastAPI, *routers: APIRouter) -> None:
    """Appends each router's routes to the app's, in order (route order is matching order), each
    refusing a query parameter it reads given more than once (``app.api.errors``)."""
    # A router made without a lifespan holds Starlette's default one (a private type).
    default_lifespan = type(APIRouter().lifespan_context)
    for router in routers:
        if (
            router.on_startup
            or router.on_shutdown
            or type(router.lifespan_context) is not default_lifespan
        ):
            raise RouterNotPlain(
                f"a router with start-up or shut-down hooks or a lifespan ({router.tags}) must "
                "be included"
            )
        for route in router.routes:
            if isinstance(route, APIRoute):
                refuse_repeated_parameters(route)
        app.router.routes.extend(router.routes)
