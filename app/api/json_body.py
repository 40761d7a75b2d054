"""JSON bodies with a bound on nesting: ``json.loads`` recurses once per level, and a body of a
megabyte of ``[`` overflows the C stack (a crash of the whole process) wherever the interpreter's
recursion limit was raised above what the stack holds. Depth is checked first, in one pass over
the body's brackets, quotes and backslashes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import Request

from app.api.errors import ApiError

MAX_DEPTH = 32
_TOKENS = re.compile(rb'[\[\]{}"\\]')
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")


class JsonTooDeep(ValueError):
    """A body nested deeper than the limit."""


def loads_bounded(body: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads(body)``, refusing (``JsonTooDeep``) nesting deeper than ``max_depth``."""
    check_depth(body, max_depth)
    return json.loads(body)


def check_depth(body: bytes, max_depth: int = MAX_DEPTH) -> None:
    """Refuses (``JsonTooDeep``) JSON text nested deeper than ``max_depth``, before any parser
    recurses into it."""
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _TOKENS.finditer(body):
        position = match.start()
        if position == escaped_at:
            continue
        token = body[position]
        if in_string:
            if token == ord("\\"):
                escaped_at = position + 1
            elif token == ord('"'):
                in_string = False
        elif token == ord('"'):
            in_string = True
        elif token in _OPEN:
            depth += 1
            if depth > max_depth:
                raise JsonTooDeep(f"JSON nested deeper than {max_depth} levels")
        elif token in _CLOSE:
            depth -= 1


async def read_bounded(
    request: Request, limit: int, too_large: Callable[[int], Exception]
) -> bytes:
    """The raw body, refused with ``too_large(limit)`` beyond ``limit`` bytes (declared or
    actually sent): nothing bigger is ever held in memory."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def check_json_content_type(request: Request) -> None:
    """A JSON body is sent as JSON: a declared content type other than ``application/json`` (any
    parameters) is refused with 415; none declared is taken as JSON."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ("", "application/json"):
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the body as application/json",
            details={"content_type": media_type},
        )
