"""``ape run merchant register --via-service URL``: a file's items registered through the
TrustMall service's relay instead of transactions of the merchant's own (docs/scripts.md#via-
service). The merchant's account signs each chunk here as an ERC-2771 ``ForwardRequest``
(``app.domain.forward_requests``); the service gets the signed request, never the key, and its
keeper key sends it through the suite's forwarder and pays the gas.

The chain is still read here: which items are registered already (skipped, as on the direct
path), the registry and the forwarder it trusts (the service's signing domain must name them, so
the key signs for this deployment only), the chain time deadlines are measured against, and each
chunk's gas (``eth_estimateGas`` of the call as the forwarder makes it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import click
from pydantic import BaseModel, ValidationError

from app.domain.forward_requests import DOMAIN_NAME, DOMAIN_VERSION, Domain, ForwardRequest
from app.merchant.request_schemas import RequestNoncePublic, SignedRequestPublic, SigningPublic
from scripts._lib import chain
from scripts._lib.chain import Run, Stop
from scripts._lib.journal import Row, chunk_label, naming_the_row
from scripts._lib.service import ServiceError, get_json, post_json

REQUESTS = "/v1/merchant/requests"
# The service's request body holds at most 128 KiB of calldata: 100 items with long URIs fit.
MAX_ITEMS_PER_REQUEST = 100
# How long a signed request stays valid, from the later of this machine's clock and the chain's
# (a local chain's clock may run ahead): requests still queued then fail, never run late.
REQUEST_LIFETIME_SECONDS = 3_600
# On top of the estimate: the state may change between the estimate and the relay.
GAS_MARGIN_PERCENT = 25
# Without an estimate (a node that refuses calls from a contract's address): an allowance per
# item, about twice the ~32,000 gas a SKU item with a 45-character URI took on Anvil (each 32 more
# characters of code, serial or URI cost ~22,000 more), and the call's own overhead.
FALLBACK_GAS_PER_ITEM = 60_000
FALLBACK_GAS_BASE = 50_000
POLL_SECONDS = 0.5
SETTLED = ("confirmed", "failed")
Answer = TypeVar("Answer", bound=BaseModel)


@dataclass(frozen=True)
class Relay:
    """The service's signed-request endpoints at ``base``, answers checked by their schemas."""

    base: str

    def signing(self) -> SigningPublic:
        return self._read(SigningPublic, get_json(f"{self.base}{REQUESTS}/signing").body)

    def next_nonce(self, signer: str) -> int:
        url = f"{self.base}{REQUESTS}/nonce/{signer}"
        return int(self._read(RequestNoncePublic, get_json(url).body).nonce)

    def post(self, body: dict[str, Any]) -> SignedRequestPublic:
        return self._read(SignedRequestPublic, post_json(f"{self.base}{REQUESTS}", body).body)

    def status(self, request_id: str) -> SignedRequestPublic:
        url = f"{self.base}{REQUESTS}/{quote(request_id, safe='')}"
        return self._read(SignedRequestPublic, get_json(url).body)

    def _read(self, model: type[Answer], body: Any) -> Answer:
        try:
            return model.model_validate(body)
        except ValidationError as error:
            raise ServiceError(
                f"the service at {self.base} answered no {model.__name__}: {error}"
            ) from None


@dataclass
class Posted:
    """A request the service accepted: its answer (updated as it settles) and its rows."""

    answer: SignedRequestPublic
    rows: list[Row] = field(default_factory=list)


def register_items(
    run: Run, registry: Any, planned: tuple[list[Row], int], *, url: str, size: int, timeout: float
) -> None:
    """Signs the rows' ``registerItems`` calls, ``size`` items a request, posts them in nonce
    order and waits up to ``timeout`` seconds for each to be confirmed or to fail. Stops (exit 1
    once something was posted) on a refusal, a failure or the timeout, in the service's words."""
    if size > MAX_ITEMS_PER_REQUEST:
        raise Stop(f"--chunk-size: at most {MAX_ITEMS_PER_REQUEST} items a request via the service")
    rows, done = planned
    if done:
        click.echo(f"{done} item(s) already registered by you: skipped")
    if not rows:
        click.echo("nothing to register; nothing was posted")
        return
    relay = Relay(url)
    try:
        signing = relay.signing()
        domain = checked_domain(run, registry, signing)
        nonce = relay.next_nonce(run.me)
    except ServiceError as error:
        raise Stop(f"{error}; nothing was posted") from None
    deadline = max(int(time.time()), chain.now()) + REQUEST_LIFETIME_SECONDS
    count = -(-len(rows) // size)
    click.echo(f"{run.me} signs {count} request(s) for {url} to relay (it pays the gas)")
    posted: list[Posted] = []
    refusal = None
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        what = chunk_label(chunk, start)
        data = bytes(registry.registerItems.encode_input([row for _, _, row in chunk]))
        gas = forwarded_gas(run, signing, data, len(chunk), what)
        request = ForwardRequest(run.me, str(registry.address), 0, gas, nonce, deadline, data)
        signed = run.signer.sign_message(request.signable(domain))
        if signed is None:
            refusal = f"{run.me} declined to sign the request of {what}"
            break
        try:
            answer = relay.post(request.as_json(domain.chain_id, bytes(signed.encode_rsv())))
        except ServiceError as error:
            refusal = naming_the_row(chunk, f"{what}: the service refuses it: {_said(error)}")
            break
        click.echo(f"request {answer.id} (nonce {nonce}, gas {gas}): {what}, {len(chunk)} item(s)")
        posted.append(Posted(answer, chunk))
        nonce += 1
    settled = wait(relay, posted, timeout)
    report(posted, settled, refusal, url, timeout)


def checked_domain(run: Run, registry: Any, signing: SigningPublic) -> Domain:
    """The forwarder's domain the service signs with, once it is shown to name this chain, this
    registry and the forwarder the registry trusts: else the key would sign for another."""
    chain_id = int(run.network.chain_id)
    forwarder = str(signing.domain.get("verifyingContract", ""))
    named = signing.contracts.get("ProductRegistry", "")
    if signing.chain_id != chain_id or signing.domain.get("chainId") != chain_id:
        raise ServiceError(f"the service relays on chain {signing.chain_id}, not on {chain_id}")
    if named.lower() != str(registry.address).lower():
        raise ServiceError(
            f"the service relays to the registry {named}, not to {registry.address} (--registry "
            "or the deployment record)"
        )
    if forwarder.lower() != str(registry.trustedForwarder()).lower():
        raise ServiceError(f"the service's forwarder {forwarder} is not the registry's")
    if (signing.domain.get("name"), signing.domain.get("version")) != (DOMAIN_NAME, DOMAIN_VERSION):
        raise ServiceError(f"the service signs with another domain: {signing.domain}")
    return Domain(chain_id, forwarder)


def forwarded_gas(run: Run, signing: SigningPublic, data: bytes, items: int, what: str) -> int:
    """The gas a request signs for: the call's estimate as the forwarder makes it (the signer's
    address after the calldata) plus a margin, at most the service's ``max_gas``. A call the node
    will not estimate (it reverts, say) gets the per-item allowance: the service simulates every
    request before accepting it, and its refusal says why in the contract's words."""
    from ape import chain as node
    from web3.exceptions import Web3Exception
    from web3.types import TxParams

    call: TxParams = {
        "from": signing.domain["verifyingContract"],
        "to": signing.contracts["ProductRegistry"],
        "data": data + bytes.fromhex(run.me.removeprefix("0x")),
    }
    try:
        estimate = int(node.provider.web3.eth.estimate_gas(call))
    except (Web3Exception, ValueError):
        return min(FALLBACK_GAS_BASE + FALLBACK_GAS_PER_ITEM * items, signing.max_gas)
    if estimate > signing.max_gas:
        raise Stop(
            f"{what}: {items} item(s) take ~{estimate} gas; the service relays at most "
            f"{signing.max_gas} a request: pass a smaller --chunk-size"
        )
    return min(estimate * (100 + GAS_MARGIN_PERCENT) // 100, signing.max_gas)


def wait(relay: Relay, posted: list[Posted], timeout: float) -> bool:
    """Polls each posted request until it is confirmed or failed, saying so as each settles;
    False when ``timeout`` seconds passed first."""
    until = time.monotonic() + timeout
    pending = [p for p in posted if p.answer.status not in SETTLED]
    while pending:
        for entry in list(pending):
            try:
                entry.answer = relay.status(entry.answer.id)
            except ServiceError as error:  # a blip: asked again next round, until the timeout
                click.echo(f"request {entry.answer.id}: {error}", err=True)
                continue
            if entry.answer.status in SETTLED:
                pending.remove(entry)
                click.echo(outcome(entry))
        if pending and time.monotonic() >= until:
            return False
        if pending:
            time.sleep(POLL_SECONDS)
    return True


def outcome(entry: Posted) -> str:
    answer = entry.answer
    if answer.status == "confirmed":
        return f"request {answer.id} confirmed in tx {answer.tx_hash} (block {answer.block_number})"
    return f"request {answer.id} failed: {answer.reason or 'no reason given'}"


def report(
    posted: list[Posted], settled: bool, refusal: str | None, url: str, timeout: float
) -> None:
    """The run's end: how many items the confirmed requests registered, or the stop (exit 1 once
    anything was posted, else 2)."""
    confirmed = [p for p in posted if p.answer.status == "confirmed"]
    items = sum(len(p.rows) for p in confirmed)
    if confirmed:
        click.echo(f"registered {items} item(s) in {len(confirmed)} relayed request(s)")
    problems = [f"request {p.answer.id} failed" for p in posted if p.answer.status == "failed"]
    if not settled:
        waiting = [p.answer.id for p in posted if p.answer.status not in SETTLED]
        problems.append(
            f"{len(waiting)} request(s) still on their way after {timeout:g} s (they may yet "
            f"run; ask {url}{REQUESTS}/ID): {', '.join(waiting)}"
        )
    if refusal is not None:
        problems.append(refusal)
    if not problems:
        return
    stop = Stop("; ".join(problems))
    if posted:
        stop.message += f" ({len(posted)} request(s) were posted; see above)"
        stop.exit_code = 1
    else:
        stop.message += "; nothing was posted"
    raise stop


def _said(error: ServiceError) -> str:
    """A refusal in the service's words: its code and message, and the contract's error name
    when the message does not say it."""
    if error.code is None:
        return str(error)
    said = f"{error.code}: {error.reason}"
    details = error.details if isinstance(error.details, dict) else {}
    if error.code == "contract_refused" and details.get("error"):
        name = str(details["error"])
        return said if name in said else f"{said} ({name})"
    return f"{said} ({details})" if details else said
