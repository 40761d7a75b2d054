"""Merchants' signed requests with the real parts: the session's Anvil and suite (its forwarder
included), the app's own database, the relayer's cycles driven by the test, the merchant's key
only on the client's side."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from pydantic import SecretStr
from sqlalchemy import select

from app.domain.ids import item_id_of_key
from app.domain.vocab import IdScheme
from app.outbox.models import OutboxRecord
from app.settings import Settings
from tests.app.index.actors import Shop, SuiteDriver
from tests.app.index.records import Actor
from tests.app.merchant.request_support import (
    error_code,
    next_nonce,
    post,
    relay,
    signed_body,
    sku_inputs,
    status_of,
)


@pytest.fixture
def relay_key(suite: SuiteDriver) -> str:
    """The keeper's key (the service's gas payer for calls anyone may make): funded, no role."""
    account = Account.create()
    suite.rpc("anvil_setBalance", account.address, hex(10 * 10**18))
    return "0x" + bytes(account.key).hex()


@pytest.fixture
def shop_settings(settings: Settings, relay_key: str) -> Settings:
    return settings.model_copy(
        update={"confirmation_depth": 0, "keeper_private_key": SecretStr(relay_key)}
    )


@pytest.fixture
def broke_merchant(suite: SuiteDriver) -> Iterator[Actor]:
    """An approved merchant holding no ETH at all."""
    merchant = suite.new_merchant()
    suite.rpc("anvil_setBalance", merchant.address, "0x0")
    yield merchant


def outbox(shop: Shop) -> list[OutboxRecord]:
    with shop.app.state.services.database.sessions() as session:
        return list(session.scalars(select(OutboxRecord)))


def test_a_merchant_with_no_eth_registers_items_in_one_signed_request_and_the_service_pays(
    shop: Shop, suite: SuiteDriver, broke_merchant: Actor
) -> None:
    items = sku_inputs("no-eth", 3)
    body = signed_body(
        shop, broke_merchant.account, suite.registry, suite.registry.functions.registerItems(items)
    )

    accepted = post(shop, body)

    assert accepted.status_code == 202, accepted.text
    request = accepted.json()
    assert (request["status"], request["function"], request["signer"]) == (
        "queued",
        "registerItems",
        broke_merchant.address,
    )
    assert accepted.headers["Location"] == f"/v1/merchant/requests/{request['id']}"
    relay(shop)
    settled = status_of(shop, request["id"])
    assert settled["status"] == "confirmed", settled
    for key, _hash, _uri in items:
        item_id = item_id_of_key(broke_merchant.address, IdScheme.SKU, key[1], key[2])
        assert suite.registry.functions.itemOf(item_id).call()[0] == broke_merchant.address
    assert suite.w3.eth.get_balance(broke_merchant.address) == 0
    assert next_nonce(shop, broke_merchant.address) == 1


def test_refused_requests_are_answered_with_their_codes_and_nothing_is_relayed(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    registry = suite.registry
    register = registry.functions.registerItems(sku_inputs("refused", 1))
    stranger, suspended = suite.new_account(), suite.new_merchant()
    suite.suspend(suspended)
    cases: dict[str, Any] = {
        "wrong chain": signed_body(shop, merchant.account, registry, register, chain_id=1),
        "expired": signed_body(shop, merchant.account, registry, register, deadline=1_000),
        "another key": signed_body(
            shop, merchant.account, registry, register, signer=stranger.account
        ),
        "not relayed": signed_body(
            shop,
            merchant.account,
            registry,
            registry.functions.approveMerchant(merchant.address, "x", bytes(32)),
        ),
        "with value": signed_body(shop, merchant.account, registry, register, value=1),
        "too much gas": signed_body(shop, merchant.account, registry, register, gas=10**9),
        "non-merchant": signed_body(shop, stranger.account, registry, register),
        "suspended": signed_body(shop, suspended.account, registry, register),
        "nonce ahead": signed_body(shop, merchant.account, registry, register, nonce=5),
        "another's item": signed_body(
            shop,
            merchant.account,
            registry,
            registry.functions.recallItem(
                suite.register_item(stranger_merchant(suite)).item_id, bytes(32)
            ),
        ),
    }

    answers = {name: error_code(post(shop, body)) for name, body in cases.items()}

    assert answers == {
        "wrong chain": (422, "wrong_chain"),
        "expired": (422, "request_expired"),
        "another key": (422, "signature_invalid"),
        "not relayed": (422, "function_not_relayed"),
        "with value": (422, "value_not_allowed"),
        "too much gas": (422, "gas_too_high"),
        "non-merchant": (403, "not_an_active_merchant"),
        "suspended": (403, "not_an_active_merchant"),
        "nonce ahead": (409, "nonce_mismatch"),
        "another's item": (422, "contract_refused"),
    }
    assert outbox(shop) == []
    assert relay(shop, cycles=1).run_once().sent_records == 0


def stranger_merchant(suite: SuiteDriver) -> Actor:
    return suite.new_merchant("Rival Goods")


def test_a_request_replayed_is_refused_and_one_whose_nonce_ran_is_refused_as_used(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    body = signed_body(
        shop,
        merchant.account,
        suite.registry,
        suite.registry.functions.registerItems(sku_inputs("replay", 1)),
    )
    first = post(shop, body)
    assert first.status_code == 202, first.text

    again = post(shop, body)

    assert error_code(again) == (409, "request_replayed")
    assert again.json()["error"]["details"] == {"id": first.json()["id"]}
    relay(shop)
    assert status_of(shop, first.json()["id"])["status"] == "confirmed"
    stale = signed_body(
        shop,
        merchant.account,
        suite.registry,
        suite.registry.functions.registerItems(sku_inputs("replay-2", 1)),
        nonce=0,
    )
    assert error_code(post(shop, stale)) == (409, "nonce_used")
    assert len(outbox(shop)) == 1


def test_the_contract_refusal_names_the_registrys_own_error(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    again = [((0, "SHOE-01", item.metadata["serial"]), item.metadata_hash, "")]
    body = signed_body(
        shop, merchant.account, suite.registry, suite.registry.functions.registerItems(again)
    )

    refused = post(shop, body)

    assert error_code(refused) == (422, "contract_refused")
    assert refused.json()["error"]["details"]["error"] == "RegistryItemAlreadyRegistered"
