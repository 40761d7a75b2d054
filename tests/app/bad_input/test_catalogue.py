"""The bad-input catalogue: every case is a test. Each gets the status its operation
documents in the OpenAPI document, with its machine-readable error code, and leaves no partial
record: the outbox, idempotency records, journal, credit reports and manifests are unchanged.

Signed requests are made with the ingestion tests' helpers (``tests.app.ingest.support``, which
compute signatures independently of the service). A case may need a step before it (the first use
of a replayed signature, the requests that spend a rate limit): that step runs before the tables
are counted."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text

from app.main import create_app
from app.settings import Settings
from harness.nodes import ChainNode
from tests.app.conftest import Deployment, SourceSecrets
from tests.app.ingest.support import (
    EVENTS_PATH,
    Chain,
    body_of,
    event,
    hex32,
    hmac_hex,
    post_signed,
)

pytestmark = pytest.mark.anvil

TABLES = (
    "outbox_records",
    "idempotency_records",
    "chain_transactions",
    "credit_reports",
    "shop_manifests",
    "shop_manifest_items",
)
ROOT = "0x" + "ab" * 32
ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
DEEP = 100_000


@dataclass(frozen=True)
class Ctx:
    """What a case sends with: the carrier and bureau credentials and a registered item."""

    carrier: SourceSecrets
    bureau: SourceSecrets
    item: str


Send = Callable[[TestClient, Ctx], Response]


@dataclass(frozen=True)
class Case:
    name: str
    send: Send
    status: int
    code: str
    detail_code: str | None = None  # a 422's code for the offending field
    before: Send | None = None
    requests_per_minute: int | None = None


@pytest.fixture(scope="module")
def item(anvil: ChainNode, deployment: Deployment) -> str:
    [item_id] = Chain.of(anvil.rpc_url, deployment).register_skus(1, "bad-input")
    return hex32(item_id)


# ------------------------------------------------------------------------------ how to send


def signed(
    body: bytes,
    ctx: Ctx,
    *,
    content_type: str = "application/json",
    skew: int = 0,
    path: str = EVENTS_PATH,
    source: str = "carrier",
    extra: dict[str, Any] | None = None,
) -> Callable[[TestClient], Response]:
    secrets = ctx.carrier if source == "carrier" else ctx.bureau
    t = int(time.time()) + skew
    headers = {
        "Content-Type": content_type,
        "TrustMall-Api-Key": secrets.api_key,
        "TrustMall-Signature": f"t={t},v1={hmac_hex(secrets.hmac_secret, t, body)}",
        **(extra or {}),
    }
    return lambda client: client.post(path, content=body, headers=headers)


def post_event(**fields: Any) -> Send:
    """A signed request of one event with ``fields`` changed (a field set to None is left out)."""

    def send(client: TestClient, ctx: Ctx) -> Response:
        record = event(item_id=ctx.item)
        record.update(fields)
        record = {key: value for key, value in record.items() if value is not None}
        return post_signed(client, ctx.carrier, record)

    return send


def raw(body: bytes | Callable[[Ctx], bytes], path: str = EVENTS_PATH, **options: Any) -> Send:
    return lambda client, ctx: signed(
        body(ctx) if callable(body) else body, ctx, path=path, **options
    )(client)


def get(path: str) -> Send:
    return lambda client, _ctx: client.get(path)


def valid_body(ctx: Ctx) -> bytes:
    return body_of([event(item_id=ctx.item)])


def chunked_oversized(client: TestClient, ctx: Ctx) -> Response:
    """Over the limit without a Content-Length: the service counts what arrives."""
    chunk = b" " * 65_536
    headers = {
        "Content-Type": "application/json",
        "TrustMall-Api-Key": ctx.carrier.api_key,
        "TrustMall-Signature": f"t={int(time.time())},v1=00",
    }
    return client.post(EVENTS_PATH, content=iter([chunk] * 20), headers=headers)


_REPLAYED: dict[str, Callable[[TestClient], Response]] = {}


def replay_first(client: TestClient, ctx: Ctx) -> Response:
    _REPLAYED["request"] = signed(valid_body(ctx), ctx)
    response = _REPLAYED["request"](client)
    assert response.status_code == 202, response.text
    return response


def replay_again(client: TestClient, _ctx: Ctx) -> Response:
    return _REPLAYED["request"](client)


def spend_rate_limit(client: TestClient, ctx: Ctx) -> Response:
    """Three signed requests (refused as invalid bodies, so nothing is kept) spend the three
    requests a minute this case allows."""
    response = None
    for spaces in range(3):
        response = post_signed(client, ctx.carrier, None, raw=b"[" + b" " * spaces + b"]")
        assert response.status_code == 422, response.text
    assert response is not None
    return response


def altered_after_signing(client: TestClient, ctx: Ctx) -> Response:
    body = valid_body(ctx)
    t = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "TrustMall-Api-Key": ctx.carrier.api_key,
        "TrustMall-Signature": f"t={t},v1={hmac_hex(ctx.carrier.hmac_secret, t, body)}",
    }
    return client.post(EVENTS_PATH, content=body.replace(b"shipped", b"delivered"), headers=headers)


def deep_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def future_iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))


CASES = [
    # -- size and shape
    Case("oversized body (declared)", raw(b"[" + b" " * 1_000_001 + b"]"), 413, "body_too_large"),
    Case("oversized body (chunked, undeclared)", chunked_oversized, 413, "body_too_large"),
    Case("deep JSON: events", raw(deep_json(DEEP)), 422, "invalid_json"),
    Case(
        "deep JSON: credit report",
        raw(deep_json(DEEP), path="/v1/credit/reports", source="bureau"),
        422,
        "invalid_json",
    ),
    Case(
        "not UTF-8: batch manifest",
        lambda client, _ctx: client.post(
            f"/v1/batches/{ROOT}/manifest",
            content=b"\xff\xfe{",
            headers={"Content-Type": "application/json"},
        ),
        422,
        "invalid_json",
    ),
    Case("not JSON: events", raw(b"{event_id: 1"), 422, "invalid_json"),
    Case("neither object nor array", raw(b'"shipped"'), 422, "invalid_body"),
    Case(
        "too many events",
        raw(lambda ctx: body_of([event(item_id=ctx.item)] * 1_001)),
        422,
        "validation_failed",
        "too_many_events",
    ),
    # -- content types
    Case(
        "text/plain events",
        raw(valid_body, content_type="text/plain"),
        415,
        "unsupported_media_type",
    ),
    Case(
        "form-encoded events",
        raw(b"event_id=1&action=shipped", content_type="application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
    ),
    Case(
        "text/plain credit report",
        raw(b"{}", path="/v1/credit/reports", source="bureau", content_type="text/plain"),
        415,
        "unsupported_media_type",
    ),
    # -- addresses and ids
    Case(
        "item id too short", post_event(item_id="0x1234"), 422, "validation_failed", "invalid_hex32"
    ),
    Case(
        "order id not hex",
        post_event(item_id=None, order_id="0x" + "zz" * 32, action="shipped"),
        422,
        "validation_failed",
        "invalid_hex32",
    ),
    Case("item path id malformed", get("/v1/items/0xnothex"), 422, "invalid_item_id"),
    Case("order path id malformed", get("/v1/orders/12345"), 422, "invalid_order_id"),
    Case("merchant address malformed", get("/v1/merchants/0x12"), 422, "invalid_address"),
    Case(
        "merchant address bad checksum",
        get("/v1/merchants/0x70997970c51812dc3a010c7d01b50e0d17dc79C8"),
        422,
        "invalid_address",
    ),
    Case("stats merchant malformed", get("/v1/stats?merchant=nobody"), 422, "invalid_address"),
    Case("stats window empty", get("/v1/stats?days=0"), 422, "validation_failed"),
    Case("dashboard merchant malformed", get("/dashboard/merchants/0x12"), 422, "invalid_address"),
    Case("dashboard window too long", get("/dashboard?days=367"), 422, "validation_failed"),
    Case("stats series unknown", get("/v1/stats/series/revenue.csv"), 422, "validation_failed"),
    Case(
        "stats series of a merchant not approved",
        get(f"/v1/stats/merchants/{ADDRESS}/series/items.json"),
        404,
        "merchant_unknown",
    ),
    Case("orders of no party", get("/v1/orders"), 422, "one_party_required", "one_party_required"),
    Case(
        "orders of two parties",
        get(f"/v1/orders?buyer={ADDRESS}&merchant={ADDRESS}"),
        422,
        "one_party_required",
        "one_party_required",
    ),
    Case("orders buyer malformed", get("/v1/orders?buyer=0x12"), 422, "invalid_address"),
    Case(
        "orders cursor not one given",
        get(f"/v1/orders?buyer={ADDRESS}&cursor=0xfeed"),
        422,
        "validation_failed",
        "string_pattern_mismatch",
    ),
    # -- numbers out of range
    Case(
        "item index past 31",
        post_event(item_id=None, order_id=ROOT, action="delivered", items=[32]),
        422,
        "validation_failed",
        "less_than_equal",
    ),
    Case(
        "occurred before 1970",
        post_event(occurred_at="1969-12-31T23:59:59Z"),
        422,
        "validation_failed",
        "occurred_out_of_range",
    ),
    Case(
        "occurred in the future",
        post_event(occurred_at=future_iso(3_600)),
        422,
        "validation_failed",
        "occurred_in_future",
    ),
    Case("disputes limit huge", get("/v1/disputes?limit=1000000000"), 422, "validation_failed"),
    Case("disputes offset negative", get("/v1/disputes?offset=-1"), 422, "validation_failed"),
    Case("stats days zero", get("/v1/stats?days=0"), 422, "validation_failed"),
    # An integer is decimal digits alone (pydantic would read each of these as a number).
    Case(
        "limit with an underscore",
        get("/v1/disputes?limit=1_0"),
        422,
        "validation_failed",
        "value_error",
    ),
    Case(
        "limit with a plus", get("/v1/keeper?limit=%2B1"), 422, "validation_failed", "value_error"
    ),
    Case("limit with a fraction", get("/v1/keeper?limit=1.5"), 422, "validation_failed"),
    Case(
        "limit with an exponent",
        get("/v1/keeper?limit=1e1"),
        422,
        "validation_failed",
        "value_error",
    ),
    Case(
        "offset with a space",
        get("/v1/disputes?offset=%201"),
        422,
        "validation_failed",
        "value_error",
    ),
    Case(
        "stats days as a fraction",
        get("/v1/stats?days=30.5"),
        422,
        "validation_failed",
        "value_error",
    ),
    # A framework would read the last value: the fuzzer's find, `limit` sent as an array.
    Case(
        "repeated query parameter",
        get("/v1/keeper?limit=x&limit=1"),
        422,
        "repeated_parameter",
    ),
    # -- unicode in codes
    Case(
        "unicode event id",
        post_event(event_id="évt-1"),
        422,
        "validation_failed",
        "string_pattern_mismatch",
    ),
    Case(
        "unicode GTIN digits",
        post_event(item_id=None, gtin="٠٩٥٠٦٠٠٠١٣٤٣٥٢", serial="A1"),
        422,
        "validation_failed",
        "invalid_gtin",
    ),
    Case(
        "fullwidth serial",
        post_event(item_id=None, gtin="09506000134352", serial="\uff21\uff221"),
        422,
        "validation_failed",
        "invalid_serial",
    ),
    Case("homoglyph action", post_event(action="\u0455hipped"), 422, "validation_failed", "enum"),
    Case(
        "non-ASCII idempotency key",
        raw(valid_body, extra={"Idempotency-Key": "clé".encode("latin-1")}),
        422,
        "validation_failed",
        "invalid_idempotency_key",
    ),
    # -- signatures: clock skew, replay, forgery
    # Half a minute past the 300 s window, so a slow machine's second cannot bring it back in
    # (the exact edge is tests.app.ingest.test_signatures', on a fixed clock).
    Case("signature 330 s old", raw(valid_body, skew=-330), 401, "signature_expired"),
    Case("signature 330 s ahead", raw(valid_body, skew=330), 401, "signature_from_future"),
    Case("replayed webhook", replay_again, 401, "signature_replayed", before=replay_first),
    Case(
        "forged signature (another secret)",
        lambda client, ctx: post_signed(
            client, ctx.carrier, [event(item_id=ctx.item)], secret="not-the-secret"
        ),
        401,
        "invalid_signature",
    ),
    Case("body altered after signing", altered_after_signing, 401, "invalid_signature"),
    Case(
        "non-ASCII signature",
        raw(valid_body, extra={"TrustMall-Signature": "t=1,v1=\u00e9ab".encode("latin-1")}),
        401,
        "malformed_signature",
    ),
    Case(
        "unknown API key",
        lambda client, ctx: post_signed(
            client, ctx.carrier, [event(item_id=ctx.item)], api_key="guessed"
        ),
        401,
        "invalid_api_key",
    ),
    Case(
        "bureau key on carrier endpoint",
        lambda client, ctx: post_signed(client, ctx.bureau, [event(item_id=ctx.item)]),
        403,
        "source_not_allowed",
    ),
    # -- flood
    Case(
        "flood past the rate limit",
        lambda client, ctx: post_signed(client, ctx.carrier, [event(item_id=ctx.item)]),
        429,
        "rate_limited",
        before=spend_rate_limit,
        requests_per_minute=3,
    ),
]


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Callable[[int | None], TestClient]]:
    clients: list[TestClient] = []

    def make(requests_per_minute: int | None) -> TestClient:
        changed = settings
        if requests_per_minute is not None:
            sources = {
                name: source.model_copy(update={"requests_per_minute": requests_per_minute})
                for name, source in settings.sources.items()
            }
            changed = settings.model_copy(update={"sources": sources})
        client = TestClient(create_app(changed))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def counts(client: TestClient) -> dict[str, int]:
    database = client.app.state.services.database  # type: ignore[attr-defined]
    with database.sessions() as session:
        return {
            table: int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in TABLES
        }


@pytest.fixture(scope="module")
def openapi_paths() -> dict[str, Any]:
    """The OpenAPI document's paths, filled from the first app that answers: every app of the
    module documents the same operations, and making the document costs a second."""
    return {}


def documented(client: TestClient, response: Response, paths: dict[str, Any]) -> set[int]:
    """The statuses the OpenAPI document lists for the operation that answered."""
    path = response.request.url.path
    method = response.request.method.lower()
    if not paths:
        paths.update(client.app.openapi()["paths"])  # type: ignore[attr-defined]
    for template, operations in paths.items():
        pattern = (
            "^"
            + "/".join("[^/]+" if part.startswith("{") else part for part in template.split("/"))
            + "$"
        )
        if re.match(pattern, path) and method in operations:
            return {int(status) for status in operations[method]["responses"]}
    raise AssertionError(f"no documented operation for {method} {path}")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_its_documented_4xx_and_leaves_no_record(
    case: Case,
    make_client: Callable[[int | None], TestClient],
    carrier_secrets: SourceSecrets,
    bureau_secrets: SourceSecrets,
    item: str,
    openapi_paths: dict[str, Any],
) -> None:
    client = make_client(case.requests_per_minute)
    ctx = Ctx(carrier_secrets, bureau_secrets, item)
    if case.before is not None:
        case.before(client, ctx)
    before = counts(client)
    response = case.send(client, ctx)
    assert response.status_code == case.status, response.text
    assert response.status_code in documented(client, response, openapi_paths)
    error = response.json()["error"]
    assert error["code"] == case.code, error
    if case.detail_code is not None:
        assert case.detail_code in json.dumps(error["details"]), error
    if case.status == 429:
        assert int(response.headers["Retry-After"]) >= 1
    assert counts(client) == before
