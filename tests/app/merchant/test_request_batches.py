"""How the relay packs merchants' signed requests into ``executeBatch`` transactions: a backlog
whose calls together need more gas than a block holds goes in several batches that fit.

The forwarder gives each request's call exactly the gas it was signed with and, so that a relayer
cannot starve a call, stops the whole transaction with INVALID (not a revert) when a call could
not get it. A batch whose calls outgrow the block cannot even be estimated: the node answers an
EVM error, not a revert that blames one request."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.ids import item_id_of_key
from app.domain.vocab import IdScheme
from app.outbox.models import OutboxRecord
from tests.app.index.actors import Shop, SuiteDriver
from tests.app.index.records import Actor
from tests.app.merchant.request_support import (
    GAS,
    post,
    relay_until_settled,
    signed_body,
    sku_inputs,
)
from tests.app.merchant.test_requests import relay_key, shop_settings  # noqa: F401

# Each request registers this many items (about 1,900,000 gas of its signed 3,000,000): together
# the backlog's calls need more gas than Anvil's block (30,000,000) holds.
ITEMS = 60
REQUESTS = 18


def test_a_backlog_larger_than_a_block_is_relayed_in_batches_that_fit(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    registry = suite.registry
    block_gas = int(suite.w3.eth.get_block("latest")["gasLimit"])
    assert block_gas < REQUESTS * GAS  # what the requests signed for
    ids = []
    for n in range(REQUESTS):
        items = registry.functions.registerItems(sku_inputs(f"backlog-{n}", ITEMS))
        answer = post(shop, signed_body(shop, merchant.account, registry, items))
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])

    statuses = relay_until_settled(shop, ids)

    assert [status["status"] for status in statuses] == ["confirmed"] * REQUESTS, statuses
    transactions = {status["tx_hash"] for status in statuses}
    assert len(transactions) > 1
    for tx_hash in transactions:
        receipt = suite.w3.eth.get_transaction_receipt(tx_hash)
        assert receipt["status"] == 1 and receipt["gasUsed"] < block_gas
    for n in (0, REQUESTS - 1):
        item = item_id_of_key(merchant.address, IdScheme.SKU, f"SKU-backlog-{n}", f"S{ITEMS - 1}")
        assert registry.functions.itemOf(item).call()[0] == merchant.address
    with shop.app.state.services.database.sessions() as session:
        left = session.scalars(select(OutboxRecord).where(OutboxRecord.status != "confirmed"))
        assert list(left) == []
