"""The service as merchants' own clients meet it: a uvicorn process on a real port (as `make api`
runs it) with its indexer, relayer and webhook deliverer on, relaying signed requests with a
keeper key of its own; and a merchant's HTTP session (SIWE) and webhook endpoint on it.

For the clients that only speak HTTP: `ape run merchant register --via-service` and the examples'
Node and Python clients."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
from cryptography.fernet import Fernet
from eth_account import Account
from eth_account.messages import encode_defunct

from harness.ape_run import TEST_PRIVATE_KEYS
from harness.nodes import free_port, rpc
from harness.service import ServiceProcess, service_environment
from tests.app.merchant.support import siwe_text

WAIT_SECONDS = 60.0
Found = TypeVar("Found")


@contextmanager
def relaying_service(
    rpc_url: str, deployments_dir: Path, abi_dir: Path, base: Path
) -> Iterator[ServiceProcess]:
    """The service for the suite recorded in ``deployments_dir``, its database and log under
    ``base`` (``relay_environment``), one process with its background workers on."""
    port = free_port()
    env = relay_environment(rpc_url, deployments_dir, abi_dir, base, port)
    with ServiceProcess(env, port, base / "service.log") as service:
        yield service


def relay_environment(
    rpc_url: str, deployments_dir: Path, abi_dir: Path, base: Path, port: int
) -> dict[str, str]:
    """The service's settings for the suite recorded in ``deployments_dir``, its database under
    ``base``, answering on ``port``. Its keeper key is fresh and funded (no other sender shares
    its nonces); the keeper has no duties, so that only merchants' requests go out with it (the
    scripts' tests share their chain with escrow orders the keeper could otherwise settle).
    Polls fast, depth 0."""
    keeper = Account.create()
    rpc(rpc_url, "anvil_setBalance", [keeper.address, hex(10 * 10**18)])
    return service_environment(
        rpc_url=rpc_url,
        deployments_dir=deployments_dir,
        abi_dir=abi_dir,
        database=base / "service.db",
        oracle_key=TEST_PRIVATE_KEYS[1],
        sources={},
        environment="test",
        public_base_url=f"http://127.0.0.1:{port}",
        confirmation_depth=0,
        keeper_private_key="0x" + bytes(keeper.key).hex(),
        keeper_duties="[]",
        webhook_encryption_key=Fernet.generate_key().decode(),
        relay_poll_seconds=0.1,
        index_poll_seconds=0.1,
        webhook_poll_seconds=0.1,
        webhook_first_retry_seconds=0.5,
    )


def eventually(check: Callable[[], Found | None], what: str) -> Found:
    """Polls ``check`` until it returns something truthy: the service relays and delivers in
    the background, so a test waits on the outcome, with a deadline, never a fixed time."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {WAIT_SECONDS:.0f} s")


def signed_in(url: str, private_key: str) -> httpx.Client:
    """A client of the service at ``url`` with a merchant session of ``private_key`` (SIWE)."""
    client = httpx.Client(base_url=url, timeout=10)
    asked = client.get("/v1/merchant/siwe/nonce")
    assert asked.status_code == 200, asked.text
    found = asked.json()
    address = Account.from_key(private_key).address
    text = siwe_text(
        address,
        found["nonce"],
        domain=found["domain"],
        uri=f"{found['uri']}/v1/merchant",
        chain_id=found["chain_id"],
    )
    signature = Account.sign_message(encode_defunct(text=text), private_key).signature
    opened = client.post(
        "/v1/merchant/siwe/session",
        json={"message": text, "signature": "0x" + bytes(signature).hex()},
    )
    assert opened.status_code == 201, opened.text
    client.headers["Authorization"] = f"Bearer {opened.json()['token']}"
    return client


def subscribe(client: httpx.Client, url: str) -> dict[str, Any]:
    """An endpoint at ``url`` for the merchant's requests' outcomes: its id and secret."""
    body = {"url": url, "event_types": ["request.confirmed", "request.failed"]}
    created = client.post("/v1/merchant/webhooks", json=body)
    assert created.status_code == 201, created.text
    found: dict[str, Any] = created.json()
    return found


def replay_delivered(client: httpx.Client, endpoint: str, event_id: str) -> None:
    """Sends ``event_id`` to ``endpoint`` again, once its delivery is done (a replay is refused
    while one is pending)."""

    def delivered() -> int | None:
        listed = client.get(f"/v1/merchant/webhooks/{endpoint}/deliveries")
        assert listed.status_code == 200, listed.text
        done = [
            d["id"]
            for d in listed.json()["deliveries"]
            if d["event_id"] == event_id and d["status"] == "delivered"
        ]
        return done[0] if done else None

    delivery = eventually(delivered, f"the delivery of {event_id} marked delivered")
    replayed = client.post(f"/v1/merchant/webhooks/{endpoint}/deliveries/{delivery}/replay")
    assert replayed.status_code == 202, replayed.text
