"""Running the service: ``/readyz`` with its reasons, Prometheus ``/metrics``, JSON logs with a
request id taken from ``X-Request-ID`` or made up and sent back, OpenAPI docs."""

from __future__ import annotations

import prometheus_client
import structlog
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.index.actors import Actor, Shop, SuiteDriver


def _error(response: object) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]  # type: ignore[attr-defined]


def test_readyz_is_ready_once_the_index_is_within_its_bound_of_the_head(
    shop: Shop, suite: SuiteDriver
) -> None:
    assert _error(shop.client.get("/readyz")) == (503, "index_not_started")

    shop.index()
    ready = shop.client.get("/readyz")

    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "chain_head": suite.head(),
        "index_last_block": suite.head(),
        "index_lag_blocks": 0,
        "max_index_lag_blocks": 20,
        "confirmation_depth": 0,
    }


def test_readyz_answers_503_when_the_index_lags_beyond_its_bound(
    shop_settings: Settings, start_block: int, suite: SuiteDriver
) -> None:
    app = create_app(shop_settings.model_copy(update={"max_index_lag_blocks": 1}))
    app.state.index.indexer.from_block = start_block
    with TestClient(app) as client:
        app.state.index.indexer.run_once()
        suite.mine(2)

        response = client.get("/readyz")

    assert _error(response) == (503, "index_lagging")
    assert response.json()["error"]["details"]["index_lag_blocks"] == 2


def test_readyz_answers_503_when_the_chain_is_away(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"rpc_url": "http://127.0.0.1:9"}))) as c:
        assert _error(c.get("/readyz")) == (503, "chain_unavailable")


def test_readyz_answers_503_when_the_chain_has_no_deployment(
    settings: Settings, tmp_path: object
) -> None:
    elsewhere = settings.model_copy(update={"deployments_dir": settings.deployments_dir / "none"})
    with TestClient(create_app(elsewhere)) as client:
        assert _error(client.get("/readyz")) == (503, "deployment_missing")


def test_request_id_is_taken_from_the_request_or_made_and_always_logged(shop: Shop) -> None:
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        given = shop.client.get("/v1/stats", headers={"X-Request-ID": "carrier-42.retry:1"})
        made = shop.client.get("/v1/stats")
        hostile = shop.client.get("/v1/stats", headers={"X-Request-ID": "bad id\twith spaces"})

    assert given.headers["X-Request-ID"] == "carrier-42.retry:1"
    made_id = made.headers["X-Request-ID"]
    assert len(made_id) == 32 and made_id != given.headers["X-Request-ID"]
    assert hostile.headers["X-Request-ID"] != "bad id\twith spaces"
    requests = [entry for entry in logs if entry["event"] == "request"]
    assert [(r["request_id"], r["path"], r["status"]) for r in requests] == [
        ("carrier-42.retry:1", "/v1/stats", 200),
        (made_id, "/v1/stats", 200),
        (hostile.headers["X-Request-ID"], "/v1/stats", 200),
    ]
    assert all(r["log_level"] == "info" and r["duration_ms"] >= 0 for r in requests)


def test_metrics_expose_http_requests_and_the_index_progress(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    shop.index()
    shop.client.get(f"/v1/items/{item.hex}")

    text = shop.client.get("/metrics").text

    assert (
        'http_requests_total{handler="/v1/items/{item_id}",method="GET",status="2xx"} 1.0' in text
    )
    assert f"trustmall_index_last_block {float(suite.head())}" in text
    assert "trustmall_index_lag_blocks 0.0" in text
    assert "trustmall_index_logs_total 2.0" in text
    assert "trustmall_index_healthy 1.0" in text


def test_http_metrics_are_counted_on_the_apps_own_registry(shop: Shop) -> None:
    """The registry /metrics serves, whichever app of the process this is; nothing lands in
    prometheus_client's global registry, which no endpoint serves."""
    shop.client.get("/healthz")

    own = {metric.name for metric in shop.app.state.metrics.collect()}
    shared = {metric.name for metric in prometheus_client.REGISTRY.collect()}

    assert {"http_requests", "http_request_duration_seconds"} <= own
    assert not {name for name in shared if name.startswith("http_")}
    assert (
        'http_request_duration_seconds_count{handler="/healthz",method="GET",status="2xx"} 1.0'
        in shop.client.get("/metrics").text
    )


def test_requests_no_route_matched_share_one_handler_label(shop: Shop) -> None:
    """A stranger's paths (404s, trailing-slash redirects) must not each become a label value:
    the label set would grow without bound."""
    for path in ("/no/such/page", "/another/unknown/path", "/v1/stats/"):
        shop.client.get(path, follow_redirects=False)

    text = shop.client.get("/metrics").text

    assert 'http_requests_total{handler="none",method="GET",status="4xx"} 2.0' in text
    assert 'http_requests_total{handler="none",method="GET",status="3xx"} 1.0' in text
    assert "/no/such/page" not in text and "/v1/stats/" not in text


def test_openapi_documents_the_shopper_and_ops_endpoints(shop: Shop) -> None:
    docs = shop.client.get("/docs")
    schema = shop.client.get("/openapi.json").json()

    assert docs.status_code == 200
    for path in (
        "/v1/items/{item_id}",
        "/v1/merchants/{address}",
        "/v1/orders/{order_id}",
        "/v1/disputes",
        "/v1/batches/{root}/manifest",
        "/v1/stats",
        "/readyz",
    ):
        assert path in schema["paths"], path
    assert "ItemVerdictPublic" in schema["components"]["schemas"]
    item = schema["paths"]["/v1/items/{item_id}"]["get"]
    assert [(p["name"], p["in"]) for p in item["parameters"]] == [
        ("item_id", "path"),
        ("fresh", "query"),
    ]
    assert item["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemVerdictPublic"
    }
