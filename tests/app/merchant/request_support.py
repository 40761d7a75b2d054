"""Signing merchants' requests as a client in any stack would: the typed data from the service's
``/signing``, the nonce from ``/nonce``, the calldata from the contract's ABI, the merchant's own
key; then the relayer's cycles, driven by the test."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3.contract import Contract

from app.domain.forward_requests import Domain, ForwardRequest
from app.domain.ids import item_key
from app.domain.vocab import IdScheme
from app.merchant.requests import RequestTargets
from app.outbox.relayer import Relayer
from tests.app.index.actors import Shop, SuiteDriver

REQUESTS = "/v1/merchant/requests"
GAS = 3_000_000


@dataclass(frozen=True)
class Signing:
    chain_id: int
    domain: Domain
    contracts: dict[str, str]


def signing(shop: Shop) -> Signing:
    answer = shop.client.get(f"{REQUESTS}/signing")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    domain = Domain(found["chain_id"], found["domain"]["verifyingContract"])
    return Signing(found["chain_id"], domain, found["contracts"])


def next_nonce(shop: Shop, signer: str) -> int:
    answer = shop.client.get(f"{REQUESTS}/nonce/{signer}")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["nonce"])


def sku_inputs(label: str, count: int) -> list[tuple[Any, ...]]:
    """``registerItems``' argument: ``count`` SKU items, each with a metadata hash and URI."""
    return [
        (item_key(IdScheme.SKU, f"SKU-{label}", f"S{i}"), keccak(text=f"{label} {i}"), "")
        for i in range(count)
    ]


def signed_body(
    shop: Shop,
    key: LocalAccount,
    target: Contract,
    call: Any,
    *,
    nonce: int | None = None,
    deadline: int | None = None,
    gas: int = GAS,
    value: int = 0,
    chain_id: int | None = None,
    signer: LocalAccount | None = None,
    padding: bytes = b"",
) -> dict[str, Any]:
    """The body of ``POST /v1/merchant/requests`` for ``call`` (a web3 contract function call
    of ``target``), signed by ``signer`` (default ``key``, the request's ``from``); ``padding``
    goes after the call's arguments, signed with them."""
    info = signing(shop)
    request = ForwardRequest(
        sender=key.address,
        to=str(target.address),
        value=value,
        gas=gas,
        nonce=next_nonce(shop, key.address) if nonce is None else nonce,
        deadline=_an_hour_away(target) if deadline is None else deadline,
        data=bytes.fromhex(call._encode_transaction_data()[2:]) + padding,
    )
    domain = info.domain if chain_id is None else Domain(chain_id, info.domain.forwarder)
    signature = request.signed_by(signer or key, domain)
    return request.as_json(domain.chain_id, signature)


def _an_hour_away(target: Contract) -> int:
    """An hour after the later of this machine's clock and the chain's (tests move the shared
    chain's clock ahead)."""
    chain_time = int(target.w3.eth.get_block("latest")["timestamp"])
    return max(int(time.time()), chain_time) + 3_600


def post(shop: Shop, body: dict[str, Any]) -> Any:
    return shop.client.post(REQUESTS, json=body)


def status_of(shop: Shop, request_id: str) -> dict[str, Any]:
    answer = shop.client.get(f"{REQUESTS}/{request_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def relay(shop: Shop, cycles: int = 3, relayer: Relayer | None = None) -> Relayer:
    """Runs the relayer's cycles (depth 0: a mined transaction settles in the next cycle): of a
    new relayer, or of ``relayer``, which holds the relay's lease from its first cycle on (a new
    one would then wait for the lease)."""
    relayer = relayer or Relayer.from_services(shop.app.state.services)
    for _ in range(cycles):
        relayer.run_once()
    return relayer


def forwarder_of(shop: Shop, suite: SuiteDriver) -> Contract:
    """The service's forwarder, as a web3 contract on the suite's node."""
    return suite.w3.eth.contract(
        address=suite.w3.to_checksum_address(signing(shop).domain.forwarder),
        abi=shop.app.state.services.state(RequestTargets)
        .of(shop.app.state.index.chain.suite())
        .forwarder.abi,
    )


def request_data(body: dict[str, Any]) -> tuple[Any, ...]:
    """``body``'s signed request as the forwarder's ``ForwardRequestData`` argument."""
    return (
        body["from"], body["to"], int(body["value"]), int(body["gas"]), body["deadline"],
        bytes.fromhex(body["data"][2:]), bytes.fromhex(body["signature"][2:]),
    )  # fmt: skip


def run_directly(shop: Shop, suite: SuiteDriver, body: dict[str, Any]) -> Contract:
    """``body``'s signed request sent to the forwarder's ``execute`` by a stranger, bypassing the
    service (anyone holding a signed request may); the forwarder is returned."""
    forwarder = forwarder_of(shop, suite)
    suite.send(forwarder.functions.execute(request_data(body)), suite.new_account().address)
    return forwarder


def relay_until_settled(shop: Shop, ids: list[str], timeout: float = 120.0) -> list[dict[str, Any]]:
    """The relayer's cycles until every request of ``ids`` is confirmed or failed (a backlog of
    several batches takes a cycle each while the node mines the one before), or ``timeout``
    seconds; the requests' statuses."""
    relayer = relay(shop, cycles=1)
    deadline = time.monotonic() + timeout
    while True:
        statuses = [status_of(shop, request_id) for request_id in ids]
        settled = all(s["status"] in ("confirmed", "failed") for s in statuses)
        if settled or time.monotonic() > deadline:
            return statuses
        relay(shop, cycles=1, relayer=relayer)


def error_code(answer: Any) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]["code"]
