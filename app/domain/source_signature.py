"""How a source (a carrier, a bureau) signs its requests to the service: its API key, and an
HMAC-SHA256 signature in Stripe's scheme over the timestamp and the raw body::

    TrustMall-Api-Key: <the source's API key>
    TrustMall-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "{t}.{raw body}")>

The service checks it (``app.ingest.auth``); the bureau's script and the test tools sign with it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

API_KEY_HEADER = "TrustMall-Api-Key"
SIGNATURE_HEADER = "TrustMall-Signature"
SIGNATURE_SCHEME = "v1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"{timestamp}.{body}"`` under ``secret``."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``TrustMall-Signature`` value a source sends with ``body``."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},{SIGNATURE_SCHEME}={sign(secret, t, body)}"
