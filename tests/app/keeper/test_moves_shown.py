"""What ``GET /v1/orders`` shows anyone may do once time has passed (refund after a missed
ship-by, release after the dispute window, the default ruling after the arbitration deadline) is
what ``GET /v1/keeper`` lists due and what the keeper, whose simulation the contract judges,
queues: one rule (``app.domain.escrow_moves``) behind both. On the keeper's own chain, whose clock
jumps."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.vocab import LogisticsKind
from tests.app.index.actors import SuiteDriver
from tests.app.index.records import Actor, Order
from tests.app.keeper.conftest import DAY, ServiceFactory

pytestmark = pytest.mark.anvil


def _delivered(driver: SuiteDriver, buyer: Actor, merchant: Actor) -> Order:
    order = driver.open_order(buyer, merchant, [])
    driver.ship(merchant, order)
    driver.report(order, LogisticsKind.DELIVERED)
    return order


def _jump(driver: SuiteDriver, seconds: int) -> None:
    driver.rpc("evm_increaseTime", seconds)
    driver.mine()


def test_anyone_s_moves_appear_when_their_deadline_passes_as_the_keeper_s_duties(
    keeper_service: ServiceFactory, driver: SuiteDriver
) -> None:
    merchant, buyer = driver.new_merchant(), driver.new_account()
    unshipped = driver.open_order(buyer, merchant, [])  # ship-by in 5 days
    delivered = _delivered(driver, buyer, merchant)  # the window closes in 2 days
    disputed = _delivered(driver, buyer, merchant)
    driver.dispute(buyer, disputed)  # the arbitration deadline in 14 days
    service = keeper_service()

    def listed() -> dict[str, list[dict[str, Any]]]:
        service.index()
        body = service.client.get("/v1/orders", params={"buyer": buyer.address}).json()
        assert body["clock"] == "chain"
        return {order["order_id"]: order["next_actions"] for order in body["orders"]}

    def anyone() -> dict[str, list[str]]:
        return {
            order: [move["action"] for move in moves if move["party"] == "anyone"]
            for order, moves in listed().items()
        }

    assert anyone() == {unshipped.hex: [], delivered.hex: [], disputed.hex: []}
    dispute = next(m for m in listed()[delivered.hex] if m["action"] == "dispute")
    assert 0 < dispute["seconds_left"] <= 2 * DAY

    _jump(driver, 15 * DAY)
    moves = listed()

    assert anyone() == {
        unshipped.hex: ["refund"],
        delivered.hex: ["release"],
        disputed.hex: ["resolve_expired_dispute"],
    }
    # The parties' moves that had a deadline are gone with it.
    assert "ship" not in [m["action"] for m in moves[unshipped.hex]]
    assert "dispute" not in [m["action"] for m in moves[delivered.hex]]
    assert "resolve_dispute" not in [m["action"] for m in moves[disputed.hex]]
    due = service.client.get("/v1/keeper").json()["due"]
    expected = {
        (unshipped.hex, "refund"),
        (delivered.hex, "release"),
        (disputed.hex, "default_ruling"),
    }
    assert {(d["order_id"], d["duty"]) for d in due} == expected
    queued = service.keeper.run_once().queued  # the contract accepts each
    assert sorted(queued) == sorted(f"{duty}:{order}" for order, duty in expected)
