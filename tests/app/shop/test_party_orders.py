"""``GET /v1/orders?buyer=`` and ``?merchant=``: a party's orders, newest first, each with its
amount in its token's units, the deadlines of its status as the escrow stores them and the moves
open to each party now, changing as the order moves; the pages; a stranger's view (nothing but
what the chain says); the refusals. The time-driven moves (anyone's refunds, releases, default
rulings) are in ``tests/app/keeper/test_moves_shown.py``, on the keeper's chain whose clock jumps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web3.logs import DISCARD

from app.domain.vocab import LogisticsKind
from app.main import create_app
from app.settings import Settings
from harness.nodes import free_port
from tests.app.index.actors import DAY, Actor, Shop, SuiteDriver
from tests.app.index.records import Order

# IOrderEscrow.Order's fields, in order.
SHIP_BY, DELIVERED_AT, DISPUTE_DEADLINE = 5, 6, 7
WINDOW = 2 * DAY  # the driver's orders' dispute window
SUMMARY_KEYS = {
    "order_id", "buyer", "merchant", "payer", "token", "amount", "amount_text", "ship_by",
    "deliver_by", "dispute_window_seconds", "fee_bps", "order_ref", "salt", "item_ids", "status",
    "delivered_items", "released_items", "refunded_items", "carrier", "opened", "deadlines",
    "next_actions",
}  # fmt: skip


def _orders(shop: Shop, **params: Any) -> dict[str, Any]:
    response = shop.client.get("/v1/orders", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _one(shop: Shop, buyer: Actor, order: Order) -> dict[str, Any]:
    shop.index()
    body = _orders(shop, buyer=buyer.address)
    [found] = [o for o in body["orders"] if o["order_id"] == order.hex]
    return found


def _moves(order: dict[str, Any]) -> set[tuple[str, str]]:
    return {(move["party"], move["action"]) for move in order["next_actions"]}


def _deadlines(order: dict[str, Any]) -> dict[str, int]:
    return {d["name"]: _unix(d["at"]) for d in order["deadlines"]}


def _unix(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _state(suite: SuiteDriver, order: Order) -> tuple[Any, ...]:
    return tuple(suite.escrow.functions.orderOf(order.order_id).call())


OFFERS = {("buyer", "offer_settlement"), ("merchant", "offer_settlement")}


def test_the_next_moves_and_deadlines_follow_the_order_from_funded_to_released(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    order = suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    ship_by, deliver_by = order.terms[5], order.terms[6]

    funded = _one(shop, buyer, order)
    assert (funded["status"], funded["amount"], funded["amount_text"]) == (
        "funded",
        str(10**15),
        "0.001 ETH",
    )
    assert _moves(funded) == OFFERS | {
        ("buyer", "cancel"),
        ("buyer", "confirm_receipt"),
        ("merchant", "cancel"),
        ("merchant", "ship"),
        ("merchant", "assign_carrier"),
    }  # anyone's refund opens only after ship-by
    assert _deadlines(funded) == {"ship_by": _state(suite, order)[SHIP_BY]}
    ship = next(m for m in funded["next_actions"] if m["action"] == "ship")
    assert (ship["function"], _unix(ship["closes_at"])) == ("ship", ship_by + 1)
    # Counted down to the chain's latest block time.
    body = _orders(shop, buyer=buyer.address)
    assert body["clock"] == "chain" and _unix(body["now"]) == suite.block_time()
    [deadline] = next(o for o in body["orders"] if o["order_id"] == order.hex)["deadlines"]
    assert deadline["seconds_left"] == ship_by - suite.block_time()

    suite.assign_carrier(merchant, order)  # handed over: the buyer may no longer cancel
    handed = _one(shop, buyer, order)
    assert ("buyer", "cancel") not in _moves(handed)
    assert ("merchant", "assign_carrier") not in _moves(handed)
    assert _deadlines(handed) == {"ship_by": ship_by, "deliver_by": deliver_by}

    suite.ship(merchant, order)
    shipped = _one(shop, buyer, order)
    assert shipped["status"] == "shipped"
    assert _moves(shipped) == OFFERS | {
        ("buyer", "confirm_receipt"),
        ("buyer", "dispute"),
        ("merchant", "cancel"),
    }
    # Not reported delivered: the window runs from deliver-by.
    assert _deadlines(shipped) == {
        "deliver_by": deliver_by,
        "dispute_window_closes": deliver_by + WINDOW,
    }

    suite.report(order, LogisticsKind.DELIVERED)
    delivered = _one(shop, buyer, order)
    closes = _state(suite, order)[DELIVERED_AT] + WINDOW
    assert delivered["status"] == "delivered" and delivered["delivered_items"] == 1
    assert _deadlines(delivered) == {"dispute_window_closes": closes}
    dispute = next(m for m in delivered["next_actions"] if m["action"] == "dispute")
    assert (dispute["party"], _unix(dispute["closes_at"])) == ("buyer", closes)

    suite.confirm_receipt(buyer, order)
    released = _one(shop, buyer, order)
    assert (released["status"], released["next_actions"], released["deadlines"]) == (
        "released",
        [],
        [],
    )


def test_a_disputed_order_shows_the_arbitration_deadline_and_a_pending_offer_to_accept(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    order = suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    suite.ship(merchant, order)
    suite.dispute(buyer, order)

    disputed = _one(shop, buyer, order)
    deadline = _state(suite, order)[DISPUTE_DEADLINE]
    assert disputed["status"] == "disputed"
    assert _moves(disputed) == OFFERS | {
        ("buyer", "submit_evidence"),
        ("merchant", "submit_evidence"),
        ("merchant", "cancel"),
        ("arbiter", "resolve_dispute"),
    }  # the default ruling is anyone's only after the deadline
    assert _deadlines(disputed) == {"arbitration_deadline": deadline}

    expires = suite.block_time() + DAY
    suite.offer(merchant, order, 6_000, expires)
    offered = _one(shop, buyer, order)
    accept = next(m for m in offered["next_actions"] if m["action"] == "accept_settlement")
    assert (accept["party"], accept["buyer_bps"], _unix(accept["closes_at"])) == (
        "buyer",
        6_000,
        expires,
    )
    assert ("merchant", "withdraw_offer") in _moves(offered)
    assert _deadlines(offered) == {"arbitration_deadline": deadline, "offer_expires": expires}

    suite.withdraw_offer(merchant, order)
    assert _moves(_one(shop, buyer, order)) == _moves(disputed)


def test_a_buyer_and_a_merchant_each_see_their_own_orders_only(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    other_buyer, other_merchant = suite.new_account(), suite.new_merchant()
    mine = suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    theirs = suite.open_order(other_buyer, merchant, [suite.register_item(merchant).item_id])
    elsewhere = suite.open_order(
        buyer, other_merchant, [suite.register_item(other_merchant).item_id]
    )
    shop.index()

    def ids(**params: str) -> list[str]:
        return [o["order_id"] for o in _orders(shop, **params)["orders"]]

    assert ids(buyer=buyer.address) == [elsewhere.hex, mine.hex]  # newest first
    assert ids(buyer=other_buyer.address.lower()) == [theirs.hex]
    assert ids(merchant=merchant.address) == [theirs.hex, mine.hex]
    assert ids(merchant=other_merchant.address) == [elsewhere.hex]
    body = _orders(shop, merchant=merchant.address.lower())
    assert (body["merchant"], body["buyer"]) == (merchant.address, None)
    assert {o["merchant"] for o in body["orders"]} == {merchant.address}


def test_a_stranger_sees_only_what_the_chain_says_and_nobody_s_orders_are_empty(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor, shopper: Actor
) -> None:
    """The list is open to anyone, as the chain is: each order is its ``OrderOpened`` terms and
    the escrow's state, nothing the service keeps of its own; a cursor made for one party's
    list does not reach another's orders."""
    order = suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    suite.ship(merchant, order)
    other = suite.open_order(suite.new_account(), merchant, [suite.register_item(merchant).item_id])
    shop.index()

    [seen] = _orders(shop, buyer=buyer.address)["orders"]  # asked by nobody in particular

    assert set(seen) == SUMMARY_KEYS
    [opened] = suite.escrow.events.OrderOpened().process_receipt(order.receipt, errors=DISCARD)
    terms = opened["args"]["terms"]
    assert (seen["buyer"], seen["merchant"], seen["payer"], seen["token"]) == (
        terms["buyer"],
        terms["merchant"],
        terms["payer"],
        terms["token"],
    )
    assert (seen["amount"], seen["salt"], seen["order_ref"]) == (
        str(terms["amount"]),
        str(terms["salt"]),
        "0x" + bytes(terms["orderRef"]).hex(),
    )
    assert seen["item_ids"] == ["0x" + bytes(item).hex() for item in terms["itemIds"]]
    assert (_unix(seen["ship_by"]), _unix(seen["deliver_by"])) == (
        terms["shipBy"],
        terms["deliverBy"],
    )
    state = _state(suite, order)
    assert (seen["status"], seen["carrier"]) == ("shipped", state[4])
    assert seen["opened"]["tx_hash"] == "0x" + bytes(order.receipt["transactionHash"]).hex()

    # A cursor from the merchant's list (two orders) reaches no other buyer's orders.
    page = _orders(shop, merchant=merchant.address, limit=1)
    assert [o["order_id"] for o in page["orders"]] == [other.hex]
    assert _orders(shop, buyer=buyer.address, cursor=page["next_cursor"])["orders"] == [seen]
    assert _orders(shop, buyer=shopper.address, cursor=page["next_cursor"])["orders"] == []

    nobody = _orders(shop, buyer=shopper.address)
    assert (nobody["orders"], nobody["next_cursor"]) == ([], None)
    assert _orders(shop, merchant=shopper.address)["orders"] == []


def test_pages_follow_each_other_and_an_order_opened_meanwhile_shifts_none(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    orders = [suite.open_order(buyer, merchant, [], amount=10**15 + i) for i in range(3)]
    shop.index()

    first = _orders(shop, buyer=buyer.address, limit=2)
    suite.open_order(buyer, merchant, [])  # newer: on no page after the first
    shop.index()
    second = _orders(shop, buyer=buyer.address, limit=2, cursor=first["next_cursor"])

    newest_first = [o.hex for o in reversed(orders)]
    assert [o["order_id"] for o in first["orders"]] == newest_first[:2]
    assert [o["order_id"] for o in second["orders"]] == newest_first[2:]
    assert first["limit"] == 2 and second["next_cursor"] is None
    assert len(_orders(shop, buyer=buyer.address)["orders"]) == 4  # the default limit: 20


ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@pytest.mark.parametrize(
    ("query", "code", "fields"),
    [
        ("", "one_party_required", {"query.buyer", "query.merchant"}),
        (f"buyer={ADDRESS}&merchant={ADDRESS}", "one_party_required", None),
        ("buyer=0x1234", "invalid_address", {"query.buyer"}),
        (f"merchant={ADDRESS[:-1]}c", "invalid_address", {"query.merchant"}),  # checksum broken
        (f"buyer={ADDRESS[2:]}", "invalid_address", {"query.buyer"}),  # no 0x
        (f"buyer={ADDRESS}&limit=0", "validation_failed", {"query.limit"}),
        (f"buyer={ADDRESS}&limit=101", "validation_failed", {"query.limit"}),
        (f"buyer={ADDRESS}&cursor=12-3", "validation_failed", {"query.cursor"}),
        (f"buyer={ADDRESS}&cursor={'9' * 19}.0", "validation_failed", {"query.cursor"}),
    ],
)
def test_bad_queries_answer_422_with_their_codes(
    shop: Shop, query: str, code: str, fields: set[str] | None
) -> None:
    response = shop.client.get(f"/v1/orders?{query}")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code
    if fields is not None:
        assert {detail["field"] for detail in error["details"]} == fields


def test_an_order_by_id_shows_the_same_summary_with_its_events(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    order = suite.open_order(buyer, merchant, [])
    suite.ship(merchant, order)
    listed = _one(shop, buyer, order)

    alone = shop.client.get(f"/v1/orders/{order.hex}").json()

    assert {k: alone[k] for k in SUMMARY_KEYS} == listed
    assert [e["kind"] for e in alone["events"]] == ["carrier_assigned", "shipped"]
    assert (alone["clock"], _unix(alone["now"])) == ("chain", suite.block_time())


def test_while_the_node_is_away_the_clock_is_the_index_s_latest_block(
    shop: Shop, shop_settings: Settings, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    order = suite.open_order(buyer, merchant, [])
    shop.index()
    indexed_at = suite.block_time()
    # Another process of the service on the same database, its node gone.
    away = shop_settings.model_copy(update={"rpc_url": f"http://127.0.0.1:{free_port()}"})

    with TestClient(create_app(away)) as client:
        body = client.get("/v1/orders", params={"buyer": buyer.address}).json()

    assert (body["clock"], _unix(body["now"])) == ("index", indexed_at)
    [listed] = body["orders"]
    assert (listed["order_id"], listed["amount_text"]) == (order.hex, "0.001 ETH")
    assert listed["deadlines"][0]["seconds_left"] == order.terms[5] - indexed_at
