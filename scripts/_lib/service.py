"""Talking to a TrustMall service from a script: its base URL, its answers (and refusals, in its
own words), and ``ape run merchant register --via-service URL``, whose chunks of rows are signed
here as ERC-2771 ``ForwardRequest``s (``app.domain.forward_requests``) for the service to relay at
its keeper's cost (docs/scripts.md#via-service). Scripts send the service only what is public or
signed here, never a key; a source's (a bureau's) requests are signed as
``app.domain.source_signature`` says, with a key and secret from the environment."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import click
from pydantic import BaseModel, ValidationError

from app.domain.forward_requests import Domain, ForwardRequest
from app.domain.source_signature import API_KEY_HEADER, SIGNATURE_HEADER, signature_header
from app.merchant.request_schemas import RequestNoncePublic, SignedRequestPublic, SigningPublic
from scripts._lib import chain
from scripts._lib.chain import Run, Stop
from scripts._lib.registry import Row, chunks, naming_the_row

DEFAULT_URL = "http://127.0.0.1:8000"
SERVICE_URL_HELP = f"The TrustMall service (default: $TRUSTMALL_SERVICE_URL or {DEFAULT_URL})."
REQUESTS = "/v1/merchant/requests"
# The service takes 96 KiB of calldata a request at most: 100 items with URIs of ~590 characters.
MAX_ITEMS_PER_REQUEST = 100
# How long a signed request stays valid, from the later of this machine's clock and the chain's.
REQUEST_LIFETIME_SECONDS = 3_600
# On top of the estimate: the state may change between the estimate and the relay.
GAS_MARGIN_PERCENT = 25
# Without an estimate: about twice the ~32,000 gas a SKU item with a 45-character URI took on
# Anvil (each 32 more characters of code, serial or URI cost ~22,000 more), and the call's own.
FALLBACK_GAS_PER_ITEM = 60_000
FALLBACK_GAS_BASE = 50_000
POLL_SECONDS = 0.5
SETTLED = ("confirmed", "failed")
Model = TypeVar("Model", bound=BaseModel)


class ServiceError(Exception):
    """The service could not be reached, or refused the request: the whole story as the message,
    and ``said``, the refusal in the service's words (``code: message``, and any details)."""

    def __init__(self, message: str, said: str | None = None) -> None:
        super().__init__(message)
        self.said = said or message


def service_url(given: str | None) -> str:
    return (given or os.environ.get("TRUSTMALL_SERVICE_URL") or DEFAULT_URL).rstrip("/")


def post_signed(url: str, payload: dict[str, Any], credentials: tuple[str, str]) -> Any:
    """POSTs ``payload`` as the source whose key and secret the variables ``credentials`` hold."""
    key, secret = (os.environ.get(name, "") for name in credentials)  # the caller checks them
    body = json.dumps(payload).encode()
    return fetch(url, body, {API_KEY_HEADER: key, SIGNATURE_HEADER: signature_header(secret, body)})


def fetch(
    url: str,
    payload: Any = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
) -> Any:
    """The JSON answer to a GET of ``url``, or to a POST of ``payload`` (bytes go as they are),
    or to ``method``; anything but a 2xx answer raises ServiceError with the service's code and
    message."""
    if payload is not None and not isinstance(payload, bytes):
        payload = json.dumps(payload).encode()
    kinds = {"Content-Type": "application/json", "Accept": "application/json"}
    request = urllib.request.Request(
        url, data=payload, headers={**kinds, **(headers or {})}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            said = json.loads(raw)
        except ValueError:
            raise ServiceError(f"HTTP {error.code}: {raw[:200]!r}") from None
        said = said.get("error", said) if isinstance(said, dict) else {}
        code, words = said.get("code"), f"{said.get('code', '?')}: {said.get('message', '')}"
        details = f" ({said['details']})" if said.get("details") else ""
        own = words if code == "contract_refused" else words + details
        raise ServiceError(f"HTTP {error.code} {words}{details}", own if code else None) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        raise ServiceError(f"the service at {url} does not answer: {error}") from None
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        raise ServiceError(f"the service at {url} answered no JSON: {raw[:200]!r}") from None


Answer = TypeVar("Answer", bound=BaseModel)


def ask(
    model: type[Model],
    url: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Model:
    """The answer at ``url`` (to a POST of ``body``, else a GET), checked by its schema."""
    answer = fetch(url, body, headers)
    try:
        return model.model_validate(answer)
    except ValidationError as error:
        raise ServiceError(f"the service at {url} answered no {model.__name__}: {error}") from None


@dataclass
class Posted:
    """A request the service accepted: its answer (updated as it settles) and its item count."""

    answer: SignedRequestPublic
    items: int


def register_items(
    run: Run, registry: Any, planned: tuple[list[Row], int], *, url: str, size: int, timeout: float
) -> None:
    """Signs the rows' ``registerItems`` calls, ``size`` items a request, posts them in nonce
    order and waits up to ``timeout`` seconds for each to be confirmed or to fail."""
    if size > MAX_ITEMS_PER_REQUEST:
        raise Stop(f"--chunk-size: at most {MAX_ITEMS_PER_REQUEST} items a request via the service")
    rows, done = planned
    if done:
        click.echo(f"{done} item(s) already registered by you: skipped")
    if not rows:
        click.echo("nothing to register; nothing was posted")
        return
    base = f"{url}{REQUESTS}"
    try:
        signing = ask(SigningPublic, f"{base}/signing")
        domain = checked_domain(run, registry, signing)
        nonce = int(ask(RequestNoncePublic, f"{base}/nonce/{run.me}").nonce)
    except ServiceError as error:
        raise Stop(f"{error}; nothing was posted") from None
    deadline = max(int(time.time()), chain.now()) + REQUEST_LIFETIME_SECONDS
    count = -(-len(rows) // size)
    click.echo(f"{run.me} signs {count} request(s) for {url} to relay (it pays the gas)")
    posted: list[Posted] = []
    refusal = None
    for chunk, what in chunks(rows, size):
        data = bytes(registry.registerItems.encode_input([row for _, _, row in chunk]))
        gas = forwarded_gas(run, domain, registry, data, len(chunk), what, signing.max_gas)
        request = ForwardRequest(run.me, str(registry.address), 0, gas, nonce, deadline, data)
        signed = run.signer.sign_message(request.signable(domain))
        if signed is None:
            refusal = f"{run.me} declined to sign the request of {what}"
            break
        body = request.as_json(domain.chain_id, bytes(signed.encode_rsv()))
        try:
            answer = ask(SignedRequestPublic, base, body)
        except ServiceError as error:
            refusal = naming_the_row(chunk, f"{what}: the service refuses it: {error.said}")
            break
        click.echo(f"request {answer.id} (nonce {nonce}, gas {gas}): {what}, {len(chunk)} item(s)")
        posted.append(Posted(answer, len(chunk)))
        nonce += 1
    settle(base, posted, refusal, timeout)


def checked_domain(run: Run, registry: Any, signing: SigningPublic) -> Domain:
    """The domain of the forwarder the registry trusts on this chain, once the service is shown to
    relay to this registry with it: the key signs for this deployment only."""
    named = signing.contracts.get("ProductRegistry", "")
    if named.lower() != str(registry.address).lower():
        raise ServiceError(
            f"the service relays to the registry {named}, not to {registry.address} (--registry "
            "or the deployment record)"
        )
    domain = Domain(int(run.network.chain_id), str(registry.trustedForwarder()))
    if signing.chain_id != domain.chain_id or signing.domain != domain.as_dict():
        raise ServiceError(
            f"the service signs with the domain {signing.domain}, not with {domain.as_dict()} "
            "(this chain's, of the forwarder the registry trusts)"
        )
    return domain


def forwarded_gas(
    run: Run, domain: Domain, registry: Any, data: bytes, items: int, what: str, max_gas: int
) -> int:
    """The gas a request signs for: the estimate of the call as the forwarder makes it plus a
    margin, at most ``max_gas``; without one (the call reverts, say), a per-item allowance."""
    from ape import chain as node
    from web3.exceptions import Web3Exception
    from web3.types import TxParams

    sender = bytes.fromhex(run.me.removeprefix("0x"))
    call: TxParams = {"from": domain.forwarder, "to": registry.address, "data": data + sender}
    try:
        estimate = int(node.provider.web3.eth.estimate_gas(call))
    except (Web3Exception, ValueError):
        return min(FALLBACK_GAS_BASE + FALLBACK_GAS_PER_ITEM * items, max_gas)
    if estimate > max_gas:
        raise Stop(
            f"{what}: {items} item(s) take ~{estimate} gas; the service relays at most "
            f"{max_gas} a request: pass a smaller --chunk-size"
        )
    return min(estimate * (100 + GAS_MARGIN_PERCENT) // 100, max_gas)


def settle(base: str, posted: list[Posted], refusal: str | None, timeout: float) -> None:
    """Polls each posted request at ``base`` until it is confirmed or failed (saying so as each
    settles), for at most ``timeout`` seconds; then says how many items the confirmed ones
    registered, or stops: exit status 1 once anything was posted, else 2."""
    until = time.monotonic() + timeout
    while pending := [p for p in posted if p.answer.status not in SETTLED]:
        for entry in pending:
            try:
                entry.answer = ask(SignedRequestPublic, f"{base}/{quote(entry.answer.id, safe='')}")
            except ServiceError as error:  # a blip: asked again next round, until the timeout
                click.echo(f"request {entry.answer.id}: {error}", err=True)
            said = entry.answer
            if said.status == "confirmed":
                click.echo(
                    f"request {said.id} confirmed in tx {said.tx_hash} (block {said.block_number})"
                )
            elif said.status == "failed":
                click.echo(f"request {said.id} failed: {said.reason or 'no reason given'}")
        if time.monotonic() >= until:
            break
        time.sleep(POLL_SECONDS)
    confirmed = [p for p in posted if p.answer.status == "confirmed"]
    if confirmed:
        items = sum(p.items for p in confirmed)
        click.echo(f"registered {items} item(s) in {len(confirmed)} relayed request(s)")
    problems = [f"request {p.answer.id} failed" for p in posted if p.answer.status == "failed"]
    if waiting := [p.answer.id for p in posted if p.answer.status not in SETTLED]:
        problems.append(
            f"{len(waiting)} request(s) still on their way after {timeout:g} s (they may yet "
            f"run; ask {base}/ID): {', '.join(waiting)}"
        )
    problems += [refusal] if refusal is not None else []
    if not problems:
        return
    if not posted:
        raise Stop(f"{'; '.join(problems)}; nothing was posted")
    stop = Stop(f"{'; '.join(problems)} ({len(posted)} request(s) were posted; see above)")
    stop.exit_code = 1
    raise stop
