"""A reorg takes back the webhook events of the blocks it removed, with their deliveries, as it
takes back the index rows they came from; on an Anvil of this module's own (a fork of the
session's, so that ``evm_revert`` reverts nobody else's state)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.chain.contracts import connect
from app.main import create_app
from app.merchant.models import WebhookDeliveryRow, WebhookEventRow
from app.settings import Settings
from harness.nodes import ChainNode
from tests.app.conftest import Deployment
from tests.app.index.actors import Shop, SuiteDriver
from tests.app.merchant.support import Receiver, sign_in


@pytest.fixture(scope="module")
def chain(fork: ChainNode, deployment: Deployment) -> SuiteDriver:
    return SuiteDriver(connect(fork.rpc_url), deployment)


@pytest.fixture
def shop_on_fork(settings: Settings, fork: ChainNode, chain: SuiteDriver) -> Iterator[Shop]:
    app = create_app(settings.model_copy(update={"rpc_url": fork.rpc_url, "confirmation_depth": 0}))
    app.state.index.indexer.from_block = chain.head() + 1
    with TestClient(app) as client:
        yield Shop(client, app)


def _events(shop: Shop) -> tuple[list[str], int]:
    with shop.app.state.services.database.sessions() as session:
        types = list(session.scalars(select(WebhookEventRow.type).order_by(WebhookEventRow.type)))
        deliveries = len(session.scalars(select(WebhookDeliveryRow.id)).all())
    return types, deliveries


def test_a_reorg_takes_back_the_events_of_removed_blocks_and_their_deliveries(
    shop_on_fork: Shop, chain: SuiteDriver, receiver: Receiver
) -> None:
    shop = shop_on_fork
    merchant, buyer = chain.new_merchant(), chain.new_account()
    answer = shop.client.post(
        "/v1/merchant/webhooks", headers=sign_in(shop.client, merchant), json={"url": receiver.url}
    )
    assert answer.status_code == 201, answer.text
    kept = chain.open_order(buyer, merchant, [chain.register_item(merchant).item_id])
    shop.index()
    snapshot = chain.rpc("evm_snapshot")
    chain.ship(merchant, kept)
    chain.open_order(buyer, merchant, [chain.register_item(merchant).item_id])
    shop.index()
    assert _events(shop) == (["order.funded", "order.funded", "order.shipped"], 3)

    assert chain.rpc("evm_revert", snapshot) is True
    chain.mine(3)
    assert shop.index().rolled_back_to is not None
    assert _events(shop) == (["order.funded"], 1)
