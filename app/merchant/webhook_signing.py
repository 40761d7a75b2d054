"""Webhook signing secrets: made here, shown to the merchant once, kept encrypted (Fernet under
``webhook_encryption_key``, since each delivery is signed with the secret itself), and the
signature every delivery carries, in the scheme sources use to sign to us
(``app.domain.source_signature``)::

    TrustMall-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "{t}.{raw body}")>
"""

from __future__ import annotations

import secrets

from cryptography.fernet import Fernet

from app.domain.errors import TrustMallError
from app.domain.source_signature import SIGNATURE_HEADER, signature_header
from app.settings import Settings

SECRET_PREFIX = "whsec_"
EVENT_ID_HEADER = "TrustMall-Event-Id"
EVENT_TYPE_HEADER = "TrustMall-Event-Type"
USER_AGENT = "TrustMall-Webhooks/1"


class WebhookKeyUnavailable(TrustMallError, RuntimeError):
    """No usable ``webhook_encryption_key`` is set: webhooks are off."""


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class SecretBox:
    """Encrypts and decrypts endpoints' signing secrets."""

    def __init__(self, settings: Settings) -> None:
        key = settings.webhook_encryption_key
        if key is None:
            raise WebhookKeyUnavailable("no webhook encryption key is set")
        try:
            self._fernet = Fernet(key.get_secret_value().encode())
        except ValueError:
            raise WebhookKeyUnavailable("the webhook encryption key is malformed") from None

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, ciphertext: str) -> str:
        return self._fernet.decrypt(ciphertext.encode()).decode()


def delivery_headers(
    secret: str, body: bytes, event_id: str, event_type: str, now: int
) -> dict[str, str]:
    """What a delivery sends besides its body."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(secret, body, now),
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
    }
