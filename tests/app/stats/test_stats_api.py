"""``GET /v1/stats``: items registered, orders and value by day, dispute rate, credit decisions by
tier and the relay's lag once the relayer feeds it."""

from __future__ import annotations

from datetime import UTC, datetime

from eth_utils.crypto import keccak
from sqlalchemy.orm import Session

from app.index.credit_events import CREDIT_LINES, register_credit
from app.index.handlers import ChainLog, HandlerTable
from app.stats.sources import RelayLagPublic, provide_relay_lag
from tests.app.index.actors import Actor, Shop, SuiteDriver

ETH = "0x0000000000000000000000000000000000000000"


def test_stats_of_a_merchant_count_items_orders_by_day_and_disputes(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    items = [suite.register_item(merchant) for _ in range(2)]
    batch = suite.register_batch(merchant, count=3)
    suite.activate(batch, batch.item_ids[0], buyer.address)
    calm = suite.open_order(buyer, merchant, [items[0].item_id], amount=10**15)
    disputed = suite.open_order(buyer, merchant, [items[1].item_id], amount=4 * 10**15)
    suite.ship(merchant, disputed)
    suite.dispute(buyer, disputed)
    shop.index()

    response = shop.client.get("/v1/stats", params={"merchant": merchant.address})

    assert response.status_code == 200
    body = response.json()
    assert body["merchant"] == merchant.address
    assert body["items"] == {
        "registered": 5,
        "single": 2,
        "batches": 1,
        "batch_items_declared": 3,
        "batch_items_activated": 1,
    }
    day = datetime.fromtimestamp(suite.block_time(), UTC).date().isoformat()
    opened_days = {
        datetime.fromtimestamp(suite.w3.eth.get_block(o.receipt["blockNumber"])["timestamp"], UTC)
        .date()
        .isoformat()
        for o in (calm, disputed)
    }
    assert opened_days == {day}  # both orders opened on the index's last day
    assert body["orders_by_day"] == [
        {"day": day, "orders": 2, "value": [{"token": ETH, "amount": str(5 * 10**15)}]}
    ]
    assert body["disputes"] == {"orders": 2, "disputes": 1, "rate": 0.5}
    assert body["as_of_block"] == suite.head()


def test_stats_show_the_relay_lag_once_the_relayer_feeds_it(shop: Shop) -> None:
    shop.index()
    shop.app.state.stats_sources.relay_lag = None
    assert "relay" not in shop.client.get("/v1/stats").json()

    def relay_lag(_session: Session) -> RelayLagPublic:
        return RelayLagPublic(queued=7, in_flight=2, oldest_unconfirmed_seconds=1.5)

    provide_relay_lag(shop.app, relay_lag)
    body = shop.client.get("/v1/stats").json()

    assert body["relay"] == {
        "queued": 7,
        "in_flight": 2,
        "failed": 0,
        "oldest_unconfirmed_seconds": 1.5,
    }


def test_stats_count_credit_decisions_by_tier(shop: Shop) -> None:
    shop.index()
    table = HandlerTable()
    register_credit(table)
    decisions = [
        ("CreditApproved", 2, {}),
        ("CreditApproved", 2, {}),
        ("CreditDenied", 2, {"reasons": 0b100}),
        ("CreditDenied", 0, {"reasons": 0b1}),
        ("CreditApproved", 4, {}),
    ]
    # The service tests' deployment has no credit part: the handlers get the events they would
    # decode, in the shape web3 decodes them.
    with shop.app.state.services.database.transaction() as session:
        for index, (event, band, extra) in enumerate(decisions):
            handler = table.get(CREDIT_LINES, event)
            assert handler is not None
            handler(
                session,
                ChainLog(
                    contract=CREDIT_LINES,
                    event=event,
                    args={
                        "borrower": "0x" + keccak(text=f"borrower {index}")[12:].hex(),
                        "policyVersion": 1,
                        "attestation": {
                            "band": band,
                            "modelId": bytes(32),
                            "reportHash": bytes(32),
                            "nonce": index,
                            "issuedAt": 0,
                            "expiresAt": 0,
                        },
                        **extra,
                    },
                    address=ETH,
                    block_number=1,
                    block_hash="0x" + "00" * 32,
                    block_time=0,
                    tx_hash="0x" + keccak(text=f"tx {index}").hex(),
                    log_index=index,
                ),
            )
        # As the indexer does in the transaction that writes a range's rows.
        shop.app.state.index.indexer.derived.follow_range(session, 1, 1)

    body = shop.client.get("/v1/stats").json()

    assert body["credit"] == {
        "by_tier": [
            {"tier": 0, "approved": 0, "denied": 1},
            {"tier": 2, "approved": 2, "denied": 1},
            {"tier": 4, "approved": 1, "denied": 0},
        ]
    }


def test_stats_refuse_a_malformed_merchant_and_window(shop: Shop) -> None:
    bad_merchant = shop.client.get("/v1/stats", params={"merchant": "0x12"})
    bad_days = shop.client.get("/v1/stats", params={"days": 0})

    assert (bad_merchant.status_code, bad_merchant.json()["error"]["code"]) == (
        422,
        "invalid_address",
    )
    assert (bad_days.status_code, bad_days.json()["error"]["code"]) == (422, "validation_failed")
