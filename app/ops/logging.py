"""Structured JSON logs (structlog), one line per request, each tagged with its request id.

``X-Request-ID`` is taken from the request when it is a sane token (1-128 characters of letters,
digits and ``._:-``), else a fresh one is made; either way it is bound to every log line written
while the request is handled (threadpool work included: context variables are copied) and sent
back in the response's ``X-Request-ID``.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Probes and scrapes log at debug level: they come every few seconds and say nothing new.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

log = structlog.get_logger("app.requests")


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stdout: ISO time (UTC), level, event, bound context (request id...)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(),  # stdout as it is when a logger is made
        cache_logger_on_first_use=False,
    )


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = str(value.decode("latin-1"))
            if _SANE_ID.fullmatch(candidate):
                return candidate
            break
    return os.urandom(16).hex()  # as random as uuid4's hex, without building a UUID


class RequestLogMiddleware:
    """Pure ASGI middleware: request id in and out, and one log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        header = (b"x-request-id", request_id.encode("latin-1"))
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request_failed", method=scope["method"], path=scope["path"])
            raise
        finally:
            path = scope["path"]
            emit = log.debug if path in QUIET_PATHS else log.info
            emit(
                "request",
                method=scope["method"],
                path=path,
                status=status["code"],
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
            )
            structlog.contextvars.reset_contextvars(**bound)
