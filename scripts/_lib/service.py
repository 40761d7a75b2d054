"""Talking to a TrustMall service from a script: its base URL, and its answers as messages. Scripts
send it only what is public or signed here, never a key; a source's (a bureau's) requests are
signed as ``app.domain.source_signature`` says, with a key and secret from the environment."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any, NamedTuple

from app.domain.source_signature import API_KEY_HEADER, SIGNATURE_HEADER, signature_header

DEFAULT_URL = "http://127.0.0.1:8000"
SERVICE_URL_HELP = f"The TrustMall service (default: $TRUSTMALL_SERVICE_URL or {DEFAULT_URL})."


class ServiceError(Exception):
    """The service could not be reached, or refused the request: the whole story as the message;
    the service's own ``code``, ``reason`` (its message) and ``details`` when it gave them."""

    def __init__(
        self, message: str, code: str | None = None, reason: str = "", details: Any = None
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.details = code, reason, details


class Answer(NamedTuple):
    status: int
    body: dict[str, Any]


def service_url(given: str | None) -> str:
    return (given or os.environ.get("TRUSTMALL_SERVICE_URL") or DEFAULT_URL).rstrip("/")


def source_credentials(names: tuple[str, str]) -> tuple[str, str]:
    """A source's API key and HMAC secret from the environment variables ``names``."""
    key, secret = (os.environ.get(name, "") for name in names)
    if not key or not secret:
        raise ServiceError(f"set {names[0]} and {names[1]}: the source's credentials")
    return key, secret


def post_signed(url: str, payload: dict[str, Any], credentials: tuple[str, str]) -> Answer:
    """POSTs ``payload`` as the source whose key and secret the variables ``credentials`` hold."""
    key, secret = source_credentials(credentials)
    body = json.dumps(payload).encode()
    headers = {API_KEY_HEADER: key, SIGNATURE_HEADER: signature_header(secret, body)}
    return post_json(url, body, headers)


def post_json(
    url: str, payload: dict[str, Any] | bytes, headers: dict[str, str] | None = None
) -> Answer:
    """POSTs ``payload`` (bytes go as they are); a 2xx answer is returned, anything else raises
    ServiceError with the service's code and message."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    kinds = {"Content-Type": "application/json", "Accept": "application/json"}
    return _exchange(urllib.request.Request(url, data=data, headers={**kinds, **(headers or {})}))


def get_json(url: str) -> Answer:
    """GETs ``url``; a 2xx answer is returned, anything else raises ServiceError."""
    return _exchange(urllib.request.Request(url, headers={"Accept": "application/json"}))


def _exchange(request: urllib.request.Request) -> Answer:
    url = request.full_url
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            said = json.loads(raw)
        except ValueError:
            raise ServiceError(f"HTTP {error.code}: {raw[:200]!r}") from None
        said = said.get("error", said) if isinstance(said, dict) else {}
        code, reason = said.get("code"), str(said.get("message", ""))
        details = f" ({said['details']})" if said.get("details") else ""
        message = f"HTTP {error.code} {code or '?'}: {reason}{details}"
        raise ServiceError(message, code, reason, said.get("details")) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise ServiceError(f"the service at {url} does not answer: {error}") from None
    try:
        return Answer(status, json.loads(raw or b"{}"))
    except ValueError:
        raise ServiceError(f"the service at {url} answered no JSON: {raw[:200]!r}") from None
