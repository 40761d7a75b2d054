"""Helpers for the ingestion and relay tests: signed carrier requests (signatures computed here,
independently of the service's code), and merchant-side chain set-up with web3 and Anvil's test
keys (items registered, orders opened), and reading what the chain recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient
from httpx import Client, Response
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from app.chain.contracts import load_abi
from tests.app.conftest import Deployment, SourceSecrets
from tests.support.ape_run import MERCHANT, TEST_PRIVATE_KEYS

ADMIN_KEY = TEST_PRIVATE_KEYS[0]
ORACLE_KEY = TEST_PRIVATE_KEYS[1]
MERCHANT_KEY = TEST_PRIVATE_KEYS[2]
BUYER_KEY = TEST_PRIVATE_KEYS[5]
ORACLE = Account.from_key(ORACLE_KEY).address
EVENTS_PATH = "/v1/logistics/events"
DAY = 86_400
ZERO = "0x0000000000000000000000000000000000000000"


# ---------------------------------------------------------------------------------------- HTTP


def hmac_hex(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def body_of(events: Any) -> bytes:
    return json.dumps(events).encode()


def post_signed(
    client: Client,
    carrier: SourceSecrets,
    events: Any,
    *,
    timestamp: int | None = None,
    secret: str | None = None,
    api_key: str | None = None,
    idempotency_key: str | None = None,
    raw: bytes | None = None,
) -> Response:
    """POSTs events as the carrier does: key header and a fresh Stripe-style signature."""
    body = raw if raw is not None else body_of(events)
    t = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "TrustMall-Api-Key": api_key if api_key is not None else carrier.api_key,
        "TrustMall-Signature": f"t={t},v1={hmac_hex(secret or carrier.hmac_secret, t, body)}",
    }
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return client.post(EVENTS_PATH, content=body, headers=headers)


def event(
    event_id: str | None = None,
    *,
    item_id: str | None = None,
    action: str = "shipped",
    **extra: Any,
) -> dict[str, Any]:
    """A valid carrier event about an item, a minute old."""
    record: dict[str, Any] = {
        "event_id": event_id or f"evt-{secrets.token_hex(6)}",
        "action": action,
        "occurred_at": _iso(int(time.time()) - 60),
        "location": "urn:epc:id:sgln:9506000.13435.0",
        "reference": "AWB 7731-0001",
    }
    if item_id is not None:
        record["item_id"] = item_id
    record.update(extra)
    return record


def _iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def error_codes(response: Response) -> dict[str, str]:
    """field -> code of a 422's details."""
    return {d["field"]: d["code"] for d in response.json()["error"]["details"]}


# ---------------------------------------------------------------------------------------- chain


@dataclass(frozen=True)
class Chain:
    """The suite on a node, as web3 handles."""

    w3: Web3
    registry: Contract
    escrow: Contract

    @classmethod
    def of(cls, rpc_url: str, deployment: Deployment) -> Chain:
        w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}))
        return cls(
            w3,
            _contract(w3, deployment, "ProductRegistry"),
            _contract(w3, deployment, "OrderEscrow"),
        )

    def send(self, key: str, function: Any, value: int = 0) -> TxReceipt:
        account = Account.from_key(key)
        tx = function.build_transaction(
            {
                "from": account.address,
                "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
                "value": value,
            }
        )
        tx_hash = self.w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.02)
        assert receipt["status"] == 1, receipt
        return receipt

    def ensure_merchant(self) -> None:
        if int(self.registry.functions.merchantOf(MERCHANT).call()[0]) == 0:
            self.send(
                ADMIN_KEY,
                self.registry.functions.approveMerchant(MERCHANT, "Relay Test Co", b"\x01" * 32),
            )

    def register_items(self, item_ids: Sequence[bytes]) -> None:
        self.ensure_merchant()
        for start in range(0, len(item_ids), 200):
            chunk = [(item, b"\x02" * 32, "") for item in item_ids[start : start + 200]]
            self.send(MERCHANT_KEY, self.registry.functions.registerItems(chunk))

    def open_order(self, amount: int = 10**15) -> str:
        """An ETH order of one SKU unit from the buyer (TEST::5) to the merchant; its id."""
        buyer = Account.from_key(BUYER_KEY).address
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        terms = (
            buyer,
            MERCHANT,
            buyer,
            ZERO,
            amount,
            now + 3 * DAY,
            now + 10 * DAY,
            2 * DAY,
            int(self.escrow.functions.feeBps().call()),
            keccak(text="relay-test-order"),
            secrets.randbits(64),
            [],
        )
        order_id: bytes = self.escrow.functions.orderIdOf(terms).call()
        self.send(BUYER_KEY, self.escrow.functions.open(terms), value=amount)
        return "0x" + order_id.hex()

    def mine(self, blocks: int = 1) -> None:
        self.w3.provider.make_request("anvil_mine", [hex(blocks)])  # type: ignore[arg-type]

    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def custody_events(self, from_block: int) -> list[tuple[int, str, str]]:
        """(event id, item id, tx hash) of every CustodyRecorded by the oracle since a block."""
        logs = self.registry.events.CustodyRecorded().get_logs(
            from_block=from_block, argument_filters={"submitter": ORACLE}
        )
        return [
            (
                int(log.args.eventId),
                "0x" + bytes(log.args.itemId).hex(),
                log.transactionHash.to_0x_hex(),
            )
            for log in logs
        ]

    def rpc(self, method: str, *params: Any) -> Any:
        answer = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        assert "error" not in answer, answer
        return answer.get("result")


def _contract(w3: Web3, deployment: Deployment, name: str) -> Contract:
    return w3.eth.contract(
        address=Web3.to_checksum_address(deployment.addresses[name]),
        abi=load_abi(Path(deployment.abi_dir), name),
    )


def new_item_ids(count: int, label: str = "relay") -> list[bytes]:
    salt = secrets.token_hex(8)
    return [keccak(encode(["string", "uint256"], [f"{label}-{salt}", i])) for i in range(count)]


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


# ---------------------------------------------------------------------------------------- services


@dataclass
class ServiceHandle:
    """A running app (its lifespan entered) and ways into its relay."""

    client: TestClient

    @property
    def services(self) -> Any:
        return self.client.app.state.services  # type: ignore[attr-defined]

    def records(self) -> list[Any]:
        from sqlalchemy import select

        from app.outbox.models import OutboxRecord

        with self.services.database.sessions() as session:
            return list(session.scalars(select(OutboxRecord).order_by(OutboxRecord.id)))

    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self.records():
            counts[record.status] = counts.get(record.status, 0) + 1
        return counts


def relay_until_settled(
    relayer: Any, handle: ServiceHandle, chain: Chain, timeout: float = 60
) -> int:
    """Runs relay cycles, mining a block whenever a cycle sends nothing, until no record is
    queued or submitted. Returns the number of cycles."""
    deadline = time.monotonic() + timeout
    cycles = 0
    while time.monotonic() < deadline:
        report = relayer.run_once()
        cycles += 1
        statuses = handle.statuses()
        if not statuses.get("queued") and not statuses.get("submitted"):
            return cycles
        if not report.more_work:
            chain.mine(1)
    raise TimeoutError(f"records still open after {timeout} s: {handle.statuses()}")
