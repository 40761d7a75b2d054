"""Whose items a carrier may add custody events to (``app.ingest.custody_scope``): every carrier's
events go on chain under the one custody-oracle key, so the service is what keeps a carrier off
trails it has no part in. acme-carrier (carrier 1) moves test account 2's goods; rival-carrier
(carrier 2) moves nobody's. The merchants here are fresh: neither carrier moves their goods."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from app.ingest.custody_scope import NOT_CARRIED
from app.main import create_app
from app.outbox.models import OutboxRecord
from app.settings import Settings
from tests.app.conftest import CARRIER_MERCHANT, RIVAL_CARRIER, RIVAL_CARRIER_ID, SourceSecrets
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.ingest.support import MERCHANT, Chain, event, hex32, post_signed

pytestmark = pytest.mark.anvil


def _answer(shop: Shop, carrier: SourceSecrets, item_id: bytes, event_id: str) -> dict[str, Any]:
    response = post_signed(shop.client, carrier, [event(event_id, item_id=hex32(item_id))])
    assert response.status_code in (202, 422), response.text
    body: dict[str, Any] = response.json()
    return body


def _rejected_code(body: dict[str, Any]) -> str | None:
    if "error" in body:
        return str(body["error"]["details"][0]["code"])
    return str(body["rejected"][0]["code"]) if body["rejected"] else None


def _queued(shop: Shop) -> set[str]:
    with shop.app.state.services.database.sessions() as session:
        return set(session.scalars(select(OutboxRecord.source_event_id)))


def test_a_carrier_adds_to_the_trail_of_an_item_only_once_an_order_of_it_is_assigned_to_it(
    shop: Shop,
    suite: SuiteDriver,
    merchant: Actor,
    buyer: Actor,
    carrier_secrets: SourceSecrets,
    rival_carrier_secrets: SourceSecrets,
) -> None:
    item = suite.register_item(merchant)
    shop.index()

    # Nobody's shipment yet, and neither carrier moves this merchant's goods.
    before = _answer(shop, carrier_secrets, item.item_id, "scope-before")
    assert _rejected_code(before) == NOT_CARRIED

    order = suite.open_order(buyer, merchant, [item.item_id])
    suite.assign_carrier(merchant, order)  # carrier 1: acme-carrier
    shop.index()
    carried = _answer(shop, carrier_secrets, item.item_id, "scope-carried")
    assert _rejected_code(carried) is None and len(carried["accepted"]) == 1
    rival = _answer(shop, rival_carrier_secrets, item.item_id, "scope-rival")
    assert _rejected_code(rival) == NOT_CARRIED

    # The merchant hands the order to the rival instead: the shipment, and the trail, are its.
    suite.assign_carrier(merchant, order, RIVAL_CARRIER_ID)
    shop.index()
    assert (
        _rejected_code(_answer(shop, rival_carrier_secrets, item.item_id, "scope-rival-2")) is None
    )
    assert _rejected_code(_answer(shop, carrier_secrets, item.item_id, "scope-late")) == NOT_CARRIED

    assert _queued(shop) == {"scope-carried", "scope-rival-2"}


def test_a_carrier_loses_the_trail_once_the_order_it_carried_is_closed(
    shop: Shop,
    suite: SuiteDriver,
    merchant: Actor,
    buyer: Actor,
    carrier_secrets: SourceSecrets,
) -> None:
    """The reach lasts while the order is open: the merchant cancels it (the buyer is refunded)
    and the carrier's next event on the item is refused."""
    item = suite.register_item(merchant)
    order = suite.open_order(buyer, merchant, [item.item_id])
    suite.assign_carrier(merchant, order)
    shop.index()
    assert _rejected_code(_answer(shop, carrier_secrets, item.item_id, "closed-open")) is None

    suite.cancel(merchant, order)
    shop.index()
    closed = _answer(shop, carrier_secrets, item.item_id, "closed-after")
    assert _rejected_code(closed) == NOT_CARRIED
    assert _queued(shop) == {"closed-open"}


def test_a_carrier_moves_the_goods_of_the_merchants_it_serves_before_any_order(
    shop: Shop,
    chain: Chain,
    carrier_secrets: SourceSecrets,
    rival_carrier_secrets: SourceSecrets,
) -> None:
    """acme-carrier serves test account 2: that merchant's item, registered moments ago and not
    indexed yet (the registry names its merchant), takes acme's event and refuses the rival's."""
    assert CARRIER_MERCHANT == MERCHANT
    [item_id] = chain.register_skus(1, "scope-served")

    served = _answer(shop, carrier_secrets, item_id, "serve-acme")
    assert _rejected_code(served) is None
    assert _rejected_code(_answer(shop, rival_carrier_secrets, item_id, "serve-rival")) == (
        NOT_CARRIED
    )
    shop.index()  # the same answers once the index holds the item
    assert _rejected_code(_answer(shop, carrier_secrets, item_id, "serve-acme-2")) is None
    assert _rejected_code(_answer(shop, rival_carrier_secrets, item_id, "serve-rival-2")) == (
        NOT_CARRIED
    )
    assert _queued(shop) == {"serve-acme", "serve-acme-2"}


def test_an_item_moved_to_another_merchant_leaves_its_old_merchants_carrier(
    shop: Shop,
    chain: Chain,
    suite: SuiteDriver,
    merchant: Actor,
    carrier_secrets: SourceSecrets,
) -> None:
    """A verifier reassigns account 2's item to a fresh merchant: acme, which serves account 2
    only, no longer writes on its trail (the index reads the reassignment)."""
    [item_id] = chain.register_skus(1, "scope-moved")
    shop.index()
    assert _rejected_code(_answer(shop, carrier_secrets, item_id, "moved-before")) is None
    suite.reassign(item_id, merchant.address)
    shop.index()
    assert _rejected_code(_answer(shop, carrier_secrets, item_id, "moved-after")) == NOT_CARRIED


def test_a_carrier_listed_with_no_merchants_is_named_at_start(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator upgrading sees which carriers lost their moves before a sale: rival-carrier
    lists no merchant, acme-carrier lists one. The app logs JSON lines on stdout."""
    capsys.readouterr()
    create_app(settings)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line[:1] == "{"]
    named = [line["source"] for line in lines if line["event"] == WARNING]
    assert named == [RIVAL_CARRIER]


WARNING = "carrier_moves_no_merchants_goods"
