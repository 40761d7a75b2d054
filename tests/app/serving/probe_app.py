"""An ASGI app answering each request with its process id: which API process answered."""

from __future__ import annotations

import os
from typing import Any


async def probe(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = str(os.getpid()).encode()
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": 200, "headers": [length]})
    await send({"type": "http.response.body", "body": body})


def make_probe() -> Any:
    return probe
