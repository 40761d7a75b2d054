"""The fault campaign's service and carriers (``harness.faults``): the service as ``make api``
runs it on one database, killed with SIGKILL and restarted at will, its outbox read straight from
its SQLite file; and the carriers' client, which keeps at each request until it is answered."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path

import httpx
from eth_utils.crypto import keccak

from app.domain.source_signature import API_KEY_HEADER, SIGNATURE_HEADER, signature_header
from harness.fault_node import Node
from harness.suite import CarrierService

CARRIER = "fault-carrier"
EVENTS_PATH = "/v1/logistics/events"
CONFIRMATION_DEPTH = 2
KEEPER_INTERVAL_SECONDS = 1.0
# Relay kinds as the service's outbox names them (app.outbox.models.RelayKind), not imported: that
# module would add the outbox's tables to the metadata of a process that makes only the index's.
CUSTODY_KIND = "custody"
KEEPER_KIND = "keeper_duty"
MERCHANT_REQUEST_KIND = "merchant_request"
RELAY_LEASE_SECONDS = 5.0


class Service(CarrierService):
    """The service as ``make api`` runs it, on one database; killed and restarted at will (on the
    same port and database)."""

    def __init__(self, base: Path, node: Node, keeper_key: str) -> None:
        super().__init__(
            node.url,
            base,
            base,
            carrier=CARRIER,
            requests_per_minute=60_000,
            environment="test",
            confirmation_depth=CONFIRMATION_DEPTH,
            keeper_private_key=keeper_key,
            keeper_interval_seconds=KEEPER_INTERVAL_SECONDS,
            # A killed service's successor takes its key over once the lease runs out.
            relay_lease_seconds=RELAY_LEASE_SECONDS,
        )

    def outbox_of(self, kind: str) -> dict[str, int]:
        """Records of one relay kind by status."""
        rows = self.query(
            "SELECT status, count(*) FROM outbox_records WHERE kind = ? GROUP BY status", (kind,)
        )
        return {str(status): int(count) for status, count in rows}

    def keeper_records(self, order_ids: list[str]) -> dict[str, int]:
        """The keeper's records of these orders by status."""
        found: dict[str, int] = {}
        for start in range(0, len(order_ids), 500):
            chunk = order_ids[start : start + 500]
            rows = self.query(
                "SELECT status, count(*) FROM outbox_records WHERE kind = ? AND subject IN "
                f"({','.join('?' * len(chunk))}) GROUP BY status",
                (KEEPER_KIND, *chunk),
            )
            for status, count in rows:
                found[str(status)] = found.get(str(status), 0) + int(count)
        return found

    def in_flight(self, kind: str) -> tuple[int, int]:
        """Records of ``kind`` journalled and sent, not settled (``submitted``), and how many
        transactions hold them."""
        rows = self.query(
            "SELECT count(*), count(DISTINCT transaction_id) FROM outbox_records "
            "WHERE kind = ? AND status = 'submitted'",
            (kind,),
        )
        return int(rows[0][0]), int(rows[0][1])

    def newest_confirmed_block(self) -> int:
        rows = self.query("SELECT max(block_number) FROM outbox_records WHERE status = 'confirmed'")
        return -1 if rows[0][0] is None else int(rows[0][0])

    def confirmed_above(self, block: int) -> int:
        rows = self.query(
            "SELECT count(*) FROM outbox_records WHERE status = 'confirmed' AND block_number > ?",
            (block,),
        )
        return int(rows[0][0])


# ---------------------------------------------------------------------------------------- carrier


def reference_of(event_id: str) -> str:
    """Each event's unique waybill reference: its context hash on chain names it."""
    return f"AWB {event_id}"


def event_bodies(items: list[str], label: str, count: int, per_request: int) -> list[bytes]:
    occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 120))
    actions = ("shipped", "in_transit", "delivered")
    events = [
        {
            "event_id": f"{label}-{i}",
            "item_id": items[i % len(items)],
            "action": actions[i % 3],
            "occurred_at": occurred,
            "location": f"urn:epc:id:sgln:9506000.{i % 97:05d}.0",
            "reference": reference_of(f"{label}-{i}"),
        }
        for i in range(count)
    ]
    return [
        json.dumps(events[start : start + per_request]).encode()
        for start in range(0, count, per_request)
    ]


class Carrier:
    """Posts signed requests and keeps at each until it is answered, as a carrier should."""

    def __init__(self, service: Service, deadline: float) -> None:
        self.service = service
        self.deadline = deadline
        self.accepted: set[str] = set()
        self.requests = 0
        self.retried = 0
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=60)

    def close(self) -> None:
        self._client.close()

    def post(self, body: bytes) -> None:
        key = keccak(body).hex()
        last_timestamp = 0
        attempt = 0
        while time.monotonic() < self.deadline:
            # A new signature each time (a signature is accepted once), never in the same second.
            timestamp = max(int(time.time()), last_timestamp + 1)
            last_timestamp = timestamp
            headers = {
                "Content-Type": "application/json",
                API_KEY_HEADER: self.service.api_key,
                SIGNATURE_HEADER: signature_header(self.service.secret, body, timestamp),
                "Idempotency-Key": key,
            }
            attempt += 1
            with self._lock:
                self.requests += 1
                self.retried += attempt > 1
            try:
                answer = self._client.post(
                    f"{self.service.url}{EVENTS_PATH}", content=body, headers=headers
                )
            except httpx.TransportError:
                self._wait_for_service()
                continue
            if answer.status_code == 202:
                accepted = {entry["event_id"] for entry in answer.json()["accepted"]}
                with self._lock:
                    self.accepted |= accepted
                return
            if answer.status_code >= 500 or answer.status_code == 401:
                # 503 while the node is away; 401 signature_replayed when the service kept the
                # signature and died before answering: send again, signed anew.
                self._wait_for_service()
                continue
            raise RuntimeError(f"request refused: {answer.status_code} {answer.text[:300]}")
        raise TimeoutError("a request was not answered before the deadline")

    def _wait_for_service(self) -> None:
        wait_for_service(self._client, self.service.url, self.deadline)


def wait_for_service(client: httpx.Client, url: str, deadline: float) -> None:
    """Until the service at ``url`` answers its health check again (or ``deadline`` passes)."""
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if client.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.05)
