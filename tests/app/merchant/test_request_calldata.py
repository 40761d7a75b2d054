"""What a signed request's calldata costs the service, and how big a batch of them may grow.

A target decodes the arguments it needs and ignores any bytes after them, so a merchant could sign
a cheap call padded with junk: accepted at its signed gas, it would make the relayer pay the junk's
calldata gas, and a batch of such requests could outgrow what a node's pool takes (128 KiB on
geth and its kin), refused there while every later transaction of the keeper's key waited behind
its nonce. The service takes only the standard encoding of the arguments, counts calldata gas in
the quotas, and keeps each batch's bytes under the pool's limit."""

from __future__ import annotations

from eth_utils.crypto import keccak
from sqlalchemy import select

from app.domain.forward_requests import MAX_BATCH_DATA, calldata_gas
from app.domain.ids import item_key
from app.domain.vocab import IdScheme
from app.merchant.request_models import RequestUsage
from tests.app.index.actors import Shop, SuiteDriver
from tests.app.index.records import Actor
from tests.app.merchant.request_support import (
    GAS,
    error_code,
    post,
    relay_until_settled,
    signed_body,
    sku_inputs,
)
from tests.app.merchant.test_requests import outbox, relay_key, shop_settings  # noqa: F401

POOL_LIMIT = 128 * 1024  # the largest transaction geth's pool takes


def _usage(shop: Shop, signer: str) -> list[tuple[int, int]]:
    with shop.app.state.services.database.sessions() as session:
        rows = session.scalars(select(RequestUsage).where(RequestUsage.signer == signer))
        return [(row.requests, row.gas) for row in rows]


def test_calldata_padded_past_its_arguments_is_refused_and_charges_nothing(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    registry = suite.registry
    call = registry.functions.registerItems(sku_inputs("padded", 1))
    paddings = {
        "a word of zeros": bytes(32),
        "junk": b"\x01" * 4_000,
        "one stray byte": b"\x00",
    }

    answers = {
        name: error_code(post(shop, signed_body(shop, merchant.account, registry, call, padding=p)))
        for name, p in paddings.items()
    }

    assert set(answers.values()) == {(422, "calldata_not_canonical")}
    assert outbox(shop) == []
    assert _usage(shop, merchant.address) == []
    # The same call unpadded is the merchant's to make.
    assert post(shop, signed_body(shop, merchant.account, registry, call)).status_code == 202


def test_the_quotas_count_the_calldata_gas_the_relayer_pays(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    registry = suite.registry
    items = [(item_key(IdScheme.SKU, "COST", "1"), keccak(text="m"), "ipfs://" + "b" * 500)]
    body = signed_body(shop, merchant.account, registry, registry.functions.registerItems(items))

    assert post(shop, body).status_code == 202

    data = bytes.fromhex(body["data"][2:])
    assert calldata_gas(data) > 8_000
    assert _usage(shop, merchant.address) == [(1, GAS + calldata_gas(data))]


def test_a_backlog_of_large_requests_goes_in_batches_a_nodes_pool_takes(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    """Four requests of ~45 KB each: their gas fits one block, their bytes not one transaction."""
    registry = suite.registry
    uri = "ipfs://" + "c" * 1_100
    ids, sizes = [], []
    for n in range(4):
        items = [
            (item_key(IdScheme.SKU, f"BIG-{n}", f"S{i}"), keccak(text=f"{n} {i}"), uri)
            for i in range(38)
        ]
        call = registry.functions.registerItems(items)
        body = signed_body(shop, merchant.account, registry, call)
        answer = post(shop, body)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
        sizes.append(len(body["data"]) // 2)
    assert sum(sizes) > MAX_BATCH_DATA

    statuses = relay_until_settled(shop, ids)

    assert [status["status"] for status in statuses] == ["confirmed"] * 4, statuses
    transactions = {status["tx_hash"] for status in statuses}
    assert len(transactions) > 1
    for tx_hash in transactions:
        assert len(suite.w3.eth.get_transaction(tx_hash)["input"]) < POOL_LIMIT
