"""Every failure answers JSON ``{"error": {"code", "message", "details"}}`` with a stable code; a
browser outside the JSON API gets the same status as an HTML page (``app.api.html_pages``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, params
from fastapi.dependencies.utils import get_flat_params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from app.api.error_pages import error_page, status_words
from app.api.html_pages import wants_html_error
from app.api.params import repeated_query_parameters
from app.domain.abi_types import CODE_CONTEXT

# Marks a route's handler that already refuses repeated query parameters.
_REFUSES_REPEATS = "refuses_repeated_query_parameters"
# What FastAPI's HTTPException says when a request body cannot be decoded.
BODY_NOT_PARSED = "There was an error parsing the body"


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | dict[str, Any] | None = None


class ErrorPublic(BaseModel):
    """The body of every error answer."""

    error: ErrorBody


class ApiError(Exception):
    """An error the API answers on purpose, with its HTTP status and machine-readable code."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorPublic(error=ErrorBody(code=code, message=message, details=details))
    return JSONResponse(body.model_dump(), status_code=status_code, headers=headers)


def _validation_details(error: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": ".".join(str(part) for part in item.get("loc", ())),
            "code": item.get("type", "invalid"),
            "message": item.get("msg", ""),
        }
        for item in error.errors()
    ]


def _parameter_refusal(error: RequestValidationError) -> tuple[str, str] | None:
    """The code and message of a request refused for one path or query parameter alone, by its
    type's own code (``app.api.params``: ``invalid_item_id``, ``invalid_address``...)."""
    errors = error.errors()
    if len(errors) != 1:
        return None
    loc, context = tuple(errors[0].get("loc", ())), errors[0].get("ctx") or {}
    if len(loc) != 2 or loc[0] not in ("path", "query") or CODE_CONTEXT not in context:
        return None
    return str(context[CODE_CONTEXT]), f"{loc[1]} {errors[0].get('msg', '')}"


def _answer(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    *,
    page: bool = False,
) -> Response:
    """The refusal as a page when ``page`` (an operation that answers only pages) or when a
    browser asked outside the JSON API, else as JSON."""
    if page or wants_html_error(request):
        return error_page(
            request, status_code, *status_words(status_code), message, headers=headers
        )
    return error_response(status_code, code, message, details, headers)


def _refusal(request: Request, error: RequestValidationError, *, page: bool = False) -> Response:
    code, message = _parameter_refusal(error) or ("validation_failed", "the request is not valid")
    return _answer(request, 422, code, message, _validation_details(error), page=page)


def refuse_repeated_parameters(route: APIRoute) -> None:
    """Has ``route`` refuse a request that gives one of its query parameters more than once
    (``app.api.params.repeated_query_parameters``), as its other refusals are answered: a page
    for a page (always HTML, as its document says), else JSON or a page by what was asked for.
    A parameter it does not read may repeat: nothing reads one value of several then. A route
    is a feature's, shared by every app made in the process: it is wrapped once."""
    if getattr(route.app, _REFUSES_REPEATS, False):
        return
    names = frozenset(
        {
            field.alias
            for field in get_flat_params(route.dependant)
            if isinstance(field.field_info, params.Query)
        }
        | {
            parameter["name"]
            for parameter in (route.openapi_extra or {}).get("parameters", [])
            if parameter.get("in") == "query"
        }
    )
    if not names:
        return
    # A page whose document names only HTML for a refusal answers every reader with a page.
    page = set(route.responses.get(422, {}).get("content", {})) == {"text/html"}
    handle = route.app

    async def refusing(scope: Scope, receive: Receive, send: Send) -> None:
        # One parameter needs no "&": most requests are passed on without parsing.
        if b"&" in scope["query_string"]:
            error = repeated_query_parameters(scope["query_string"], names)
            if error is not None:
                await _refusal(Request(scope), error, page=page)(scope, receive, send)
                return
        await handle(scope, receive, send)

    setattr(refusing, _REFUSES_REPEATS, True)
    route.app = refusing


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> Response:
        return _answer(
            request, error.status_code, error.code, error.message, error.details, error.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> Response:
        return _refusal(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 400 and error.detail == BODY_NOT_PARSED:
            # FastAPI's answer to a body it cannot decode (not UTF-8, say): the same 422 as a
            # body that is not JSON, which every operation with a body documents.
            return _answer(request, 422, "invalid_json", "the body is not JSON (UTF-8)")
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        if wants_html_error(request):
            # Starlette's detail is the bare status phrase: the status's own words say more.
            return error_page(request, error.status_code, *status_words(error.status_code))
        return error_response(error.status_code, code, str(error.detail))
