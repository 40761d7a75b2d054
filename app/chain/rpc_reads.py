"""JSON-RPC read batches posted with the standard library's HTTP client, one keep-alive
connection per thread: for the reads on a request's path (a merchant's signed request is judged
on one batch of four reads).

web3's provider posts through ``requests``, whose per-call preparation cost three times the
round trip's own CPU (bench/signed_requests.py). Reads only: a batch that finds its connection
closed by the node is posted again on a new one, which only a read may be. A node reached
through a proxy (``HTTP_PROXY``/``HTTPS_PROXY`` naming one for its URL) is posted to through
``requests``, which honours it.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import threading
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import requests

from app.chain.contracts import RPC_TIMEOUT_SECONDS, ca_bundle, rpc_session

# The errors of a connection the node closed while it sat idle, met when reusing it.
STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class Batches(Protocol):
    """What posts a JSON-RPC batch: web3's HTTP provider, or ``JsonRpcReads``."""

    def make_batch_request(self, batch: list[tuple[Any, Any]]) -> Any: ...


class JsonRpcReads:
    """Read batches to the node at ``rpc_url``; answers in the batch's order. Raises ``OSError``
    when the node cannot be reached or answers no HTTP 200, ``ValueError`` on a body that is not
    JSON (both among the service's ``RPC_ERRORS``)."""

    def __init__(self, rpc_url: str, timeout: float = RPC_TIMEOUT_SECONDS) -> None:
        self.url = rpc_url
        self.timeout = timeout
        parts = urlsplit(rpc_url)
        # Made once: a context loads the CA certificates, each new connection shares it.
        https = parts.scheme == "https"
        self._tls = ssl.create_default_context(cafile=ca_bundle()) if https else None
        self._host = parts.hostname or "localhost"
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json"}
        if parts.username is not None:
            login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self._headers["Authorization"] = "Basic " + base64.b64encode(login.encode()).decode()
        proxied = bool(requests.utils.get_environ_proxies(rpc_url))
        self._proxied = rpc_session(rpc_url) if proxied else None
        self._local = threading.local()

    def make_batch_request(self, batch: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
        payload = json.dumps(
            [
                {"jsonrpc": "2.0", "id": index, "method": method, "params": params}
                for index, (method, params) in enumerate(batch)
            ]
        ).encode()
        answers = json.loads(self._post(payload))
        if not isinstance(answers, list):
            raise ValueError(f"the node answered no batch: {str(answers)[:200]}")
        return sorted(answers, key=lambda answer: int(answer.get("id", 0)))

    def _post(self, payload: bytes) -> bytes:
        if self._proxied is not None:
            answer = self._proxied.post(
                self.url, data=payload, headers=self._headers, timeout=self.timeout
            )
            return self._body(answer.status_code, answer.content)
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None:
            try:
                return self._exchange(connection, payload)
            except STALE:
                connection.close()  # closed by the node while idle: post on a new connection
        self._local.connection = self._connect()
        return self._exchange(self._local.connection, payload)

    def _exchange(self, connection: http.client.HTTPConnection, payload: bytes) -> bytes:
        try:
            connection.request("POST", self._path, body=payload, headers=self._headers)
            answer = connection.getresponse()
            return self._body(answer.status, answer.read())
        except STALE:
            raise
        except (http.client.HTTPException, OSError) as error:
            connection.close()
            self._local.connection = None
            if isinstance(error, ConnectionError):
                raise
            raise ConnectionError(f"node at {self._host}: {error}") from error

    def _connect(self) -> http.client.HTTPConnection:
        if self._tls is None:
            return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        return http.client.HTTPSConnection(
            self._host, self._port, timeout=self.timeout, context=self._tls
        )

    def _body(self, status: int, body: bytes) -> bytes:
        if status != 200:
            raise ConnectionError(f"node at {self._host} answered HTTP {status}: {body[:200]!r}")
        return body
