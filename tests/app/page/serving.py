"""An app served by uvicorn on a free loopback port, in a thread, for a real browser to load."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from harness.nodes import free_port


@contextmanager
def served(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """The app's base URL while uvicorn serves it (lifespan on)."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:  # set once the socket listens; join() waits without sleeping
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not start"
        thread.join(timeout=0.02)
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=20)
