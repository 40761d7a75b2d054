"""Request counts and latencies on ``/metrics``, by handler, method and status class.

A pure ASGI middleware recording on the app's own registry. The handler is the route template the
request matched, as prometheus-fastapi-instrumentator names it (``/v1/items/{item_id}``; ``none``
when no route did), found once per route: the instrumentator's own middleware matched each request
against every route of the app again, and with its per-request Request and Response objects took
a sixth of an item read's time in the app.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LABELS = ("handler", "method", "status")
# Scrapes are not counted.
EXCLUDED_HANDLERS = frozenset({"/metrics"})
UNMATCHED = "none"


class HttpMetrics:
    """The two metric families, made once per app (a registry refuses a name twice)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests_total",
            "Total number of requests by method, status and handler.",
            LABELS,
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Duration of HTTP requests in seconds",
            LABELS,
            registry=registry,
        )


class HttpMetricsMiddleware:
    """Counts each HTTP request and observes its duration, once the app has answered it."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics
        # id of a route (as the router put it in the scope; routes are not hashable) -> the
        # route, held so that its id is not reused, and its template.
        self._handlers: dict[int, tuple[Any, str]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path, root_path = scope["path"], scope.get("root_path", "")
        status = 500  # unless the app answers: an exception escaped it

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            handler = self._handler(scope, path, root_path)
            if handler not in EXCLUDED_HANDLERS:
                labels = (handler, scope["method"], f"{str(status)[0]}xx")
                self.metrics.requests.labels(*labels).inc()
                self.metrics.latency.labels(*labels).observe(time.perf_counter() - started)

    def _handler(self, scope: Scope, path: str, root_path: str) -> str:
        route = scope.get("route")
        if route is None:
            # No route matched (a 404, a trailing-slash redirect): one label, whatever the path,
            # so that strangers' paths cannot grow the label set without bound.
            return UNMATCHED
        known = self._handlers.get(id(route))
        if known is not None:
            return known[1]
        # The router may have changed the scope's paths: the request as it came is named.
        request = HTTPConnection({**scope, "path": path, "root_path": root_path})
        name = get_route_name(request, should_include_root_path=False) or UNMATCHED
        self._handlers[id(route)] = (route, name)
        return name
