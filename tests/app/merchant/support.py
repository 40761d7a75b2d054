"""What the merchant API tests share: signing in as a merchant would (an EIP-4361 message signed
with its own key), a clock the tests move, and a real HTTP receiver of webhooks that checks each
signature by the documented scheme and dedupes by event id."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient

from tests.app.index.records import Actor

DOMAIN = "127.0.0.1:8000"  # the test settings' public_base_url
ORIGIN = f"http://{DOMAIN}"
CHAIN_ID = 1337


def siwe_text(
    address: str,
    nonce: str,
    *,
    domain: str = DOMAIN,
    uri: str = f"{ORIGIN}/v1/merchant",
    chain_id: int = CHAIN_ID,
    issued_at: datetime | None = None,
    expires_in: timedelta | None = timedelta(hours=1),
) -> str:
    """An EIP-4361 message, written out as a wallet shows it."""
    issued = issued_at or datetime.now(UTC)
    lines = [
        f"{domain} wants you to sign in with your Ethereum account:",
        address,
        "",
        "Sign in to TrustMall's merchant API.",
        "",
        f"URI: {uri}",
        "Version: 1",
        f"Chain ID: {chain_id}",
        f"Nonce: {nonce}",
        f"Issued At: {issued.strftime('%Y-%m-%dT%H:%M:%SZ')}",
    ]
    if expires_in is not None:
        lines.append(f"Expiration Time: {(issued + expires_in).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    return "\n".join(lines)


def personal_sign(actor: Actor, text: str) -> str:
    signed = Account.sign_message(encode_defunct(text=text), actor.account.key)
    return "0x" + bytes(signed.signature).hex()


def nonce(client: TestClient) -> str:
    answer = client.get("/v1/merchant/siwe/nonce")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["nonce"])


def try_sign_in(client: TestClient, actor: Actor, text: str | None = None) -> Any:
    text = text or siwe_text(actor.address, nonce(client))
    body = {"message": text, "signature": personal_sign(actor, text)}
    return client.post("/v1/merchant/siwe/session", json=body)


def sign_in(client: TestClient, actor: Actor) -> dict[str, str]:
    """The Authorization header of a fresh session of ``actor``."""
    answer = try_sign_in(client, actor)
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@dataclass
class Clock:
    """The deliverer's clock: real time at first, then wherever the test moves it."""

    now: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def verify_signature(
    secret: str, header: str, body: bytes, now: float, tolerance: int = 300
) -> bool:
    """What a merchant's receiver does: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>``."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(
        expected.hexdigest(), parts["v1"]
    )


@dataclass
class Receiver:
    """A merchant's webhook endpoint: refuses the first ``fail_first`` requests (HTTP 500), then
    answers 200; handles each event id once."""

    clock: Clock
    fail_first: int = 0
    secret: str = ""
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    handled: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)
    raw: list[tuple[str, bytes]] = field(default_factory=list)  # (signature header, body)
    answered: threading.Event = field(default_factory=threading.Event)  # set at each 200

    def answer(self, headers: Any, body: bytes) -> int:
        self.raw.append((headers["TrustMall-Signature"], body))
        if not verify_signature(self.secret, headers["TrustMall-Signature"], body, self.clock()):
            self.requests.append({"verified": False})
            return 400
        event = json.loads(body)
        assert headers["TrustMall-Event-Id"] == event["id"]
        self.requests.append({"verified": True, "id": event["id"]})
        if len(self.requests) <= self.fail_first:
            return 500
        self.seen[event["id"]] += 1
        self.handled.setdefault(event["id"], event)  # dedupe by id
        self.answered.set()
        return 200


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = receiver.answer(self.headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/trustmall"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
