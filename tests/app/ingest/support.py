"""Helpers for the ingestion and relay tests: signed carrier requests (signatures computed here,
independently of the service's code), and merchant-side chain set-up with web3 and Anvil's test
keys (items registered, orders opened and given their carrier), and reading what the chain
recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient
from httpx import Client, Response
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from app.chain.contracts import connect, load_abi
from app.domain.ids import gs1_company_prefixes, item_id_of_key, item_key
from app.domain.vocab import IdScheme
from harness.ape_run import MERCHANT, TEST_PRIVATE_KEYS
from tests.app.conftest import CARRIER_ID, Deployment, SourceSecrets

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
    """The suite on a node, as web3 handles; the terms of the orders it opened, by order id."""

    w3: Web3
    registry: Contract
    escrow: Contract
    terms: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, rpc_url: str, deployment: Deployment) -> Chain:
        w3 = connect(rpc_url, timeout=30)
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
            identity = keccak(text="identity of Relay Test Co")
            self.send(
                ADMIN_KEY,
                self.registry.functions.approveMerchant(MERCHANT, "Relay Test Co", identity),
            )

    def register_skus(self, count: int, label: str = "relay") -> list[bytes]:
        """``count`` new SKU items of the merchant (one SKU, serials 0..count-1); their ids."""
        self.ensure_merchant()
        sku = f"{label}-{secrets.token_hex(6)}"
        keys = [item_key(IdScheme.SKU, sku, str(serial)) for serial in range(count)]
        for start in range(0, count, 200):
            chunk = [(key, b"\x02" * 32, "") for key in keys[start : start + 200]]
            self.send(MERCHANT_KEY, self.registry.functions.registerItems(chunk))
        return [item_id_of_key(MERCHANT, IdScheme.SKU, sku, str(n)) for n in range(count)]

    def register_gs1(self, gtin: str, serial: str) -> bytes:
        """A GS1 item of the merchant, its company prefix granted first (the shortest one)."""
        self.ensure_merchant()
        prefix = gs1_company_prefixes(gtin)[0]
        if self.registry.functions.gs1PrefixHolder(prefix).call() != MERCHANT:
            self.send(ADMIN_KEY, self.registry.functions.grantGs1Prefix(prefix, MERCHANT))
        key = item_key(IdScheme.GS1, gtin, serial)
        self.send(MERCHANT_KEY, self.registry.functions.registerItems([(key, b"\x02" * 32, "")]))
        return item_id_of_key(MERCHANT, IdScheme.GS1, gtin, serial)

    def open_order(self, amount: int = 10**15, carrier: int | None = CARRIER_ID) -> str:
        """An ETH order of one SKU unit from the buyer (TEST::5) to the merchant, with
        ``carrier`` assigned by the merchant (None: no carrier yet); its id."""
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
        order_id = "0x" + bytes(self.escrow.functions.orderIdOf(terms).call()).hex()
        self.send(BUYER_KEY, self.escrow.functions.open(terms), value=amount)
        self.terms[order_id] = terms
        if carrier is not None:
            self.assign_carrier(order_id, carrier)
        return order_id

    def assign_carrier(self, order_id: str, carrier: int) -> None:
        """The merchant names the carrier whose reports count for the order."""
        self.send(MERCHANT_KEY, self.escrow.functions.assignCarrier(self.terms[order_id], carrier))

    def ship(self, order_id: str, carrier: int = CARRIER_ID) -> None:
        """The merchant hands the order to ``carrier`` and marks it shipped itself."""
        tracking = keccak(text=f"tracking {order_id}")
        self.send(MERCHANT_KEY, self.escrow.functions.ship(self.terms[order_id], carrier, tracking))

    def order_status(self, order_id: str) -> int:
        return int(self.escrow.functions.orderOf(bytes.fromhex(order_id[2:])).call()[0])

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
