"""Merchants' signed requests in the fault campaign (``harness.faults``).

The set-up approves ``plan.merchants`` fresh merchants and signs each one's share of the requests
ahead (``harness.merchant_requests``: ``registerItems`` of new items, nonces 0, 1, ... in order).
During the stream each merchant posts its requests in nonce order, as a merchant's client must
(the service takes a signer's next nonce only), all merchants at once, at a steady overall pace.
A client keeps at each request until it is answered: a refused connection, a 5xx, or a
``nonce_mismatch`` while the service's view of the signer's earlier request settles after a
fault, is sent again, the same signed body. A resend answered ``request_replayed`` was accepted
by a service killed before it could answer (the row was durable, the 202 never left).

A service fault strikes, after the fault's other waits, once some requests are *in flight*:
journalled and sent in an ``executeBatch`` by the keeper's key, not settled (``submitted``).

The verdict is the chain's: the forwarder's ``ExecutedForwardRequest`` log of each accepted
(signer, nonce), the registry's ``ItemRegistered`` log of each item; then the service's outbox and
each request's ``GET /v1/merchant/requests/{id}``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from harness.fault_report import FaultPlan, MerchantRequestsReport
from harness.fault_service import MERCHANT_REQUEST_KIND, Service, wait_for_service
from harness.merchant_requests import REQUESTS_PATH, MerchantDriver, SignedRequest

# A nonce_mismatch is sent again after this long (the service's view of the signer's earlier
# request catches up within a relayer cycle or two).
NONCE_RETRY_SECONDS = 0.1
IN_FLIGHT_POLL_SECONDS = 0.005
ALONG_POLL_SECONDS = 0.01


class MerchantClients:
    """The merchants' clients: one lane per merchant, its requests in nonce order."""

    def __init__(
        self,
        service: Service,
        lanes: list[list[SignedRequest]],
        deadline: float,
        requests_per_second: float,
    ) -> None:
        self.service = service
        self.lanes = lanes
        self.deadline = deadline
        self.gap = 1.0 / requests_per_second
        self.accepted: dict[str, SignedRequest] = {}
        self.answered_after_restart = 0
        self.posts = 0
        self.retried = 0
        self._lock = threading.Lock()
        self._client = httpx.Client(
            timeout=60, limits=httpx.Limits(max_connections=max(10, len(lanes)))
        )

    @property
    def planned(self) -> int:
        return sum(len(lane) for lane in self.lanes)

    @property
    def progress(self) -> float:
        """The fraction of the requests accepted so far."""
        return len(self.accepted) / self.planned

    def close(self) -> None:
        self._client.close()

    def stream(
        self, began: float, stop: threading.Event, along: Callable[[], float] | None = None
    ) -> None:
        """Every lane at once. Request k of lane j leaves no earlier than (k * lanes + j) gaps
        after ``began``: a steady stream, the merchants in turn; with ``along`` (how far
        through the requests, 0 to 1, may go now), also not before it reaches the request's
        place, so the requests keep pace with whatever ``along`` follows on a machine slower
        than the plan's pace."""

        def lane(index: int) -> None:
            for request in self.lanes[index]:
                position = request.nonce * len(self.lanes) + index
                slot = began + position * self.gap
                stop.wait(max(0.0, slot - time.monotonic()))
                while along is not None and along() < position / self.planned:
                    if stop.wait(ALONG_POLL_SECONDS):
                        break
                self._post(request)

        with ThreadPoolExecutor(len(self.lanes)) as pool:
            list(pool.map(lane, range(len(self.lanes))))

    def _post(self, request: SignedRequest) -> None:
        attempt = 0
        while time.monotonic() < self.deadline:
            attempt += 1
            with self._lock:
                self.posts += 1
                self.retried += attempt > 1
            try:
                answer = self._client.post(f"{self.service.url}{REQUESTS_PATH}", json=request.body)
            except httpx.TransportError:
                wait_for_service(self._client, self.service.url, self.deadline)
                continue
            code = _error_code(answer)
            if answer.status_code == 202 or (attempt > 1 and code == "request_replayed"):
                found = answer.json()
                known = (
                    found["id"] if answer.status_code == 202 else found["error"]["details"]["id"]
                )
                if known != request.id:
                    raise RuntimeError(f"{request.id} answered as {known}")
                with self._lock:
                    self.accepted[request.id] = request
                    self.answered_after_restart += answer.status_code == 409
                return
            if answer.status_code >= 500:
                wait_for_service(self._client, self.service.url, self.deadline)
                continue
            if code == "nonce_mismatch":
                time.sleep(NONCE_RETRY_SECONDS)
                continue
            raise RuntimeError(
                f"request {request.id} (nonce {request.nonce}) refused: {answer.status_code} "
                f"{answer.text[:300]}"
            )
        raise TimeoutError(f"request {request.id} was not answered before the deadline")


@dataclass
class MerchantRequests:
    """The campaign's merchants: their chain, their signed requests, their clients."""

    driver: MerchantDriver
    lanes: list[list[SignedRequest]]
    # Blocks from this one on may hold the requests' items (none was registered before).
    first_block: int

    @classmethod
    def set_up(cls, driver: MerchantDriver, plan: FaultPlan) -> MerchantRequests:
        merchants = driver.approve(plan.merchants, "Fault Merchant")
        lanes = driver.sign(merchants, plan.requests_per_merchant, plan.request_items, "fault")
        return cls(driver, lanes, int(driver.w3.eth.block_number))

    @property
    def signers(self) -> list[str]:
        return [lane[0].merchant for lane in self.lanes if lane]

    def executed_blocks(self) -> list[int]:
        """The blocks of every request these merchants ran on chain so far."""
        found = self.driver.executed(self.signers)
        return [run.block for runs in found.values() for run in runs]

    def verdict(self, service: Service, clients: MerchantClients) -> MerchantRequestsReport:
        executed = self.driver.executed(self.signers)
        accepted = list(clients.accepted.values())
        runs = [executed.get((r.merchant.lower(), r.nonce), []) for r in accepted]
        keys = {(r.merchant.lower(), r.nonce) for r in accepted}
        registered = self.driver.registered(self.first_block)
        owners = [
            (registered.get(item, []), request.merchant.lower())
            for request in accepted
            for item in request.item_ids
        ]
        outbox = service.outbox_of(MERCHANT_REQUEST_KIND)
        return MerchantRequestsReport(
            planned=clients.planned,
            accepted=len(accepted),
            answered_after_restart=clients.answered_after_restart,
            retried_posts=clients.retried,
            executed=sum(1 for found in runs if len(found) == 1 and found[0].success),
            lost=sum(1 for found in runs if not found),
            twice=sum(1 for found in runs if len(found) > 1),
            reverted=sum(1 for found in runs if any(not run.success for run in found)),
            unexpected=sum(len(found) for key, found in executed.items() if key not in keys),
            items=len(owners),
            items_registered=sum(1 for found, owner in owners if found == [owner]),
            items_missing=sum(1 for found, _owner in owners if not found),
            items_twice=sum(1 for found, _owner in owners if len(found) > 1),
            items_wrong_merchant=sum(
                1 for found, owner in owners if any(by != owner for by in found)
            ),
            outbox_open=outbox.get("queued", 0) + outbox.get("submitted", 0),
            outbox_failed=outbox.get("failed", 0),
            outbox_confirmed=outbox.get("confirmed", 0),
            status_confirmed=_statuses(service, accepted).get("confirmed", 0),
            transactions=len({run.tx_hash for found in runs for run in found}),
        )


def wait_in_flight(service: Service, until: float) -> tuple[int, int]:
    """Polls until some merchant requests are in flight (or ``until``); how many, in how many
    transactions, at the last look."""
    while True:
        found = service.in_flight(MERCHANT_REQUEST_KIND)
        if found[0] or time.monotonic() >= until:
            return found
        time.sleep(IN_FLIGHT_POLL_SECONDS)


def _statuses(service: Service, requests: list[SignedRequest]) -> dict[str, int]:
    """What ``GET /v1/merchant/requests/{id}`` says of each request, counted by status."""
    found: dict[str, int] = {}
    with httpx.Client(timeout=30) as client:
        for request in requests:
            answer = client.get(f"{service.url}{REQUESTS_PATH}/{request.id}")
            status = str(answer.json()["status"]) if answer.status_code == 200 else "missing"
            found[status] = found.get(status, 0) + 1
    return found


def _error_code(answer: httpx.Response) -> str | None:
    if answer.status_code < 400:
        return None
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None
