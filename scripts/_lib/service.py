"""Talking to a TrustMall service from a script: its base URL, and answers turned into messages.

Scripts send the service only what is public or signed by the user locally; no key goes there.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

DEFAULT_SERVICE_URL = "http://127.0.0.1:8000"
SERVICE_URL_HELP = "The TrustMall service (default: $TRUSTMALL_SERVICE_URL or " + (
    DEFAULT_SERVICE_URL + ")."
)
TIMEOUT_SECONDS = 30.0


class ServiceError(Exception):
    """The service could not be reached, or refused the request (its code and message)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def service_url(given: str | None) -> str:
    return (given or os.environ.get("TRUSTMALL_SERVICE_URL") or DEFAULT_SERVICE_URL).rstrip("/")


def post_json(url: str, payload: dict[str, Any]) -> Answer:
    """POSTs ``payload``; a 2xx answer is returned, anything else raises ServiceError."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return Answer(response.status, json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as error:
        raise ServiceError(_refusal(error.code, error.read())) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise ServiceError(f"the service at {url} does not answer: {error}") from None


def _refusal(status: int, raw: bytes) -> str:
    try:
        body = json.loads(raw)
    except ValueError:
        return f"HTTP {status}: {raw[:200]!r}"
    error = body.get("error", body) if isinstance(body, dict) else {}
    code, message = error.get("code", "?"), error.get("message", "")
    details = error.get("details")
    return f"HTTP {status} {code}: {message}" + (f" ({details})" if details else "")
