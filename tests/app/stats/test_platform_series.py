"""The platform's own series: the credit pool's size and utilisation from the vault's cash flows,
credit decisions by band, and answers kept until the counters change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.index.credit_events import CREDIT_LINES, CREDIT_VAULT
from app.index.handlers import ChainLog, default_handlers
from app.main import create_app
from app.settings import Settings
from app.stats.sources import RelayLagPublic, provide_relay_lag
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.stats.story import counters_and_recount, totals
from tests.app.stats.test_dashboard import _chart, _csv, _values

LINE = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
LENDER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"


def _attestation(band: int, nonce: int) -> dict[str, Any]:
    return {
        "band": band, "modelId": bytes(32), "reportHash": bytes(32), "nonce": nonce,
        "issuedAt": 0, "expiresAt": 0,
    }  # fmt: skip


def _handle(shop: Shop, events: list[tuple[str, str, dict[str, Any]]]) -> None:
    """The credit part's events as the indexer would hand them over (the service tests'
    deployment has none), with the counters following their range in the same transaction."""
    handlers = default_handlers()
    session: Session
    with shop.app.state.services.database.transaction() as session:
        for index, (contract, event, args) in enumerate(events):
            handler = handlers.get(contract, event)
            assert handler is not None, event
            handler(
                session,
                ChainLog(
                    contract=contract, event=event, args=args, address=LINE, block_number=1,
                    block_hash="0x" + "00" * 32, block_time=0,
                    tx_hash="0x" + f"{index:064x}", log_index=index,
                ),
            )  # fmt: skip
        shop.app.state.index.indexer.derived.follow_range(session, 1, 1)


def test_the_pool_follows_deposits_loans_and_repayments(shop: Shop, suite: SuiteDriver) -> None:
    suite.mine()
    shop.index()  # a block indexed: the window's last day
    _handle(
        shop,
        [
            (CREDIT_VAULT, "Deposit", {
                "sender": LENDER, "owner": LENDER, "assets": 1_000, "shares": 1}),
            (CREDIT_VAULT, "LiquidityLent", {"line": LINE, "to": LINE, "amount": 400}),
            (CREDIT_VAULT, "RepaymentReceived", {"line": LINE, "principal": 100, "income": 10}),
            (CREDIT_VAULT, "Withdraw", {
                "sender": LENDER, "receiver": LENDER, "owner": LENDER, "assets": 50, "shares": 1}),
            (CREDIT_LINES, "CreditApproved", {
                "borrower": LENDER, "policyVersion": 1, "attestation": _attestation(3, 1)}),
            (CREDIT_LINES, "CreditDenied", {
                "borrower": LINE, "policyVersion": 1, "attestation": _attestation(1, 2),
                "reasons": 1}),
        ],
    )  # fmt: skip

    with shop.app.state.services.database.sessions() as session:
        stored, recounted = counters_and_recount(session)
    assert stored == recounted
    assert totals(stored, "")[("credit", "3:approved")] == 1
    pool = _csv(shop, "/v1/stats/series/pool.csv?days=3")
    # cash 1000 - 400 + 100 + 10 - 50 = 660, lent 400 - 100 = 300: 960 in the pool
    assert [(r["pool_size"], r["lent_out"], r["utilisation"]) for r in pool] == [
        ("960", "300", "0.3125")
    ] * 3
    page = shop.client.get("/dashboard", params={"days": 3}).text
    sizes = _values(_chart(page, "chart-pool"), "circle")
    assert [(series, value) for series, _, value in sizes] == [("Pool", "960")] * 3 + [
        ("Lent out", "300")
    ] * 3
    bands = _values(_chart(page, "chart-credit_bands"), "rect")
    assert bands == [
        ("Approved", "1", "0"), ("Denied", "1", "1"), ("Approved", "3", "1"), ("Denied", "3", "0"),
    ]  # fmt: skip
    assert "31.2 %" in page


@pytest.fixture
def slow_shop(shop_settings: Settings, start_block: int) -> Iterator[Shop]:
    app = create_app(shop_settings.model_copy(update={"stats_refresh_seconds": 3600}))
    app.state.index.indexer.from_block = start_block
    with TestClient(app) as client:
        yield Shop(client, app)


def test_answers_are_kept_until_the_clock_looks_again(
    slow_shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    slow_shop.index()
    before = slow_shop.client.get("/v1/stats", params={"merchant": merchant.address}).content
    page = slow_shop.client.get(f"/dashboard/merchants/{merchant.address}").content
    suite.register_item(merchant)
    slow_shop.index()

    # Within stats_refresh_seconds the kept answers stand; a new query is rendered afresh.
    assert (
        slow_shop.client.get("/v1/stats", params={"merchant": merchant.address}).content == before
    )
    assert slow_shop.client.get(f"/dashboard/merchants/{merchant.address}").content == page
    fresh = slow_shop.client.get("/v1/stats", params={"merchant": merchant.address, "days": 2})
    assert fresh.json()["items"]["single"] == 1


def test_the_relay_lag_is_drawn_as_the_relayer_reports_it(shop: Shop) -> None:
    shop.index()

    def relay_lag(_session: Session) -> RelayLagPublic:
        return RelayLagPublic(queued=4, in_flight=2, failed=1, oldest_unconfirmed_seconds=12.7)

    provide_relay_lag(shop.app, relay_lag)

    rows = _csv(shop, "/v1/stats/series/relay_lag.csv")
    assert rows == [
        {"state": "queued", "records": "4", "oldest_unconfirmed_seconds": "12"},
        {"state": "in_flight", "records": "2", "oldest_unconfirmed_seconds": "12"},
        {"state": "failed", "records": "1", "oldest_unconfirmed_seconds": "12"},
    ]
    page = shop.client.get("/dashboard", params={"lang": "zh-CN"}).text
    bars = _values(_chart(page, "chart-relay_lag"), "rect")
    assert [(label, value) for _, label, value in bars] == [
        ("排队中", "4"),
        ("已发送未确认", "2"),
        ("失败", "1"),
    ]
    assert "12 秒" in page
