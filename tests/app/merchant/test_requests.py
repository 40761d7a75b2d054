"""Merchants' signed requests with the real parts: the session's Anvil and suite (its forwarder
included), the app's own database, the relayer's cycles driven by the test, the merchant's key
only on the client's side."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from app.domain.ids import item_id_of_key
from app.domain.vocab import IdScheme
from app.main import create_app
from app.outbox.models import OutboxRecord
from app.settings import Settings
from tests.app.index.actors import Shop, SuiteDriver
from tests.app.index.records import Actor
from tests.app.merchant.request_support import (
    GAS,
    error_code,
    next_nonce,
    post,
    relay,
    run_directly,
    signed_body,
    sku_inputs,
    status_of,
)
from tests.app.merchant.support import Clock, Receiver, sign_in
from tests.app.merchant.test_webhooks import DAY, deliverer, subscribe


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
    metrics = shop.client.get("/metrics").text
    assert 'trustmall_merchant_requests{status="confirmed"} 1.0' in metrics
    assert 'trustmall_merchant_requests{status="queued"} 0.0' in metrics


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


def test_a_request_the_chain_refuses_after_acceptance_fails_with_the_contracts_reason_alone(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    """Accepted (it simulated fine), then the merchant registered the same item directly before
    the relay: the forwarder runs it, it reverts, its nonce is used, and the next request runs."""
    items = sku_inputs("raced", 1)
    registry = suite.registry
    doomed = post(
        shop, signed_body(shop, merchant.account, registry, registry.functions.registerItems(items))
    )
    assert doomed.status_code == 202, doomed.text
    later = post(
        shop,
        signed_body(
            shop,
            merchant.account,
            registry,
            registry.functions.registerItems(sku_inputs("after-race", 1)),
        ),
    )
    assert later.status_code == 202, later.text
    suite.send(registry.functions.registerItems(items), merchant.address)

    relay(shop)

    failed = status_of(shop, doomed.json()["id"])
    assert failed["status"] == "failed"
    assert failed["reason"].startswith("RegistryItemAlreadyRegistered"), failed
    assert status_of(shop, later.json()["id"])["status"] == "confirmed"
    assert suite.w3.eth.get_transaction_count(merchant.address) == 1  # its own direct call only


def test_a_signed_request_someone_else_relays_first_is_confirmed_once_from_the_forwarders_log(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    """Anyone may hand a signed request to the forwarder: the service's copy is then settled
    from that execution, and nothing runs twice."""
    body = signed_body(
        shop,
        merchant.account,
        suite.registry,
        suite.registry.functions.registerItems(sku_inputs("front-run", 2)),
    )
    accepted = post(shop, body)
    assert accepted.status_code == 202, accepted.text
    forwarder = run_directly(shop, suite, body)

    relay(shop)

    settled = status_of(shop, accepted.json()["id"])
    assert settled["status"] == "confirmed", settled
    executed = forwarder.events.ExecutedForwardRequest().get_logs(
        argument_filters={"signer": merchant.address}, from_block=0
    )
    assert [(e.args.nonce, e.args.success) for e in executed] == [(0, True)]


def test_a_request_that_expires_unsent_fails_and_so_does_the_next_nonce_after_it(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    registry = suite.registry
    soon = suite.block_time() + 90
    first = post(
        shop,
        signed_body(
            shop,
            merchant.account,
            registry,
            registry.functions.registerItems(sku_inputs("expiring", 1)),
            deadline=soon,
        ),
    )
    assert first.status_code == 202, first.text
    second = post(
        shop,
        signed_body(
            shop,
            merchant.account,
            registry,
            registry.functions.registerItems(sku_inputs("stranded", 1)),
        ),
    )
    assert second.status_code == 202, second.text
    suite.rpc("evm_increaseTime", 120)
    suite.mine()

    relay(shop)

    assert status_of(shop, first.json()["id"])["status"] == "failed"
    stranded = status_of(shop, second.json()["id"])
    assert (stranded["status"], "never used" in stranded["reason"]) == ("failed", True)
    assert next_nonce(shop, merchant.address) == 0  # sign again from the unused nonce


def test_a_nonce_whose_requests_failed_unsent_is_signed_again_and_runs(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    """A relay too slow for a request's deadline does not lock its signer out: each failed
    request of a nonce leaves the nonce the signer's next, and the next request of it runs."""
    registry = suite.registry
    relayer = None
    for attempt in range(2):
        expiring = post(
            shop,
            signed_body(
                shop,
                merchant.account,
                registry,
                registry.functions.registerItems(sku_inputs(f"too-slow-{attempt}", 1)),
                deadline=suite.block_time() + 90,
            ),
        )
        assert expiring.status_code == 202, expiring.text
        suite.rpc("evm_increaseTime", 120)
        suite.mine()
        relayer = relay(shop, relayer=relayer)
        assert status_of(shop, expiring.json()["id"])["status"] == "failed"
        assert next_nonce(shop, merchant.address) == 0

    items = sku_inputs("signed-again", 1)
    again = post(
        shop, signed_body(shop, merchant.account, registry, registry.functions.registerItems(items))
    )
    assert again.status_code == 202, again.text
    relay(shop, relayer=relayer)

    assert status_of(shop, again.json()["id"])["status"] == "confirmed"
    assert next_nonce(shop, merchant.address) == 1
    key = items[0][0]
    item_id = item_id_of_key(merchant.address, IdScheme.SKU, key[1], key[2])
    assert registry.functions.itemOf(item_id).call()[0] == merchant.address


def test_a_merchant_is_told_of_each_requests_outcome_by_webhook_once_per_outcome(
    shop: Shop, suite: SuiteDriver, merchant: Actor, receiver: Receiver, clock: Clock
) -> None:
    headers = sign_in(shop.client, merchant)
    subscribe(shop, headers, receiver, event_types=["request.confirmed", "request.failed"])
    receiver.fail_first = 5
    registry = suite.registry
    items = sku_inputs("told", 1)
    raced = post(
        shop, signed_body(shop, merchant.account, registry, registry.functions.registerItems(items))
    ).json()
    fine = post(
        shop,
        signed_body(
            shop, merchant.account, registry, registry.functions.registerItems(sku_inputs("ok", 2))
        ),
    ).json()
    suite.send(registry.functions.registerItems(items), merchant.address)
    relay(shop)
    sender = deliverer(shop, clock)

    for _ in range(4):  # 5 refusals across the two deliveries, then both answered
        sender.run_once()
        clock.advance(DAY)
    sender.run_once()
    assert sender.run_once().delivered == []  # nothing is written or sent twice

    told = {event["type"]: event["data"] for event in receiver.handled.values()}
    assert told["request.failed"]["request"] == raced["id"]
    assert told["request.failed"]["reason"].startswith("RegistryItemAlreadyRegistered")
    assert told["request.confirmed"] == {
        "request": fine["id"], "status": "confirmed", "function": "registerItems",
        "target": registry.address, "nonce": "1", "reason": None,
    }  # fmt: skip
    assert sorted(receiver.seen.values()) == [1, 1]
    assert all(event["merchant"] == merchant.address for event in receiver.handled.values())


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        ({"merchant_requests_per_day": 1}, "request_quota_exceeded"),
        # One request's signed gas and its calldata's fit; two requests' do not.
        ({"merchant_request_gas_per_day": 2 * GAS}, "gas_quota_exceeded"),
        ({"request_gas_budget_per_day": 2 * GAS}, "gas_budget_exhausted"),
    ],
)
def test_daily_quotas_refuse_a_merchants_next_request_until_the_next_utc_day(
    shop_settings: Settings,
    start_block: int,
    suite: SuiteDriver,
    merchant: Actor,
    limits: dict[str, int],
    code: str,
) -> None:
    app = create_app(shop_settings.model_copy(update=limits))
    with TestClient(app) as client:
        quota_shop = Shop(client, app)
        registry = suite.registry
        first = signed_body(
            quota_shop, merchant.account, registry,
            registry.functions.registerItems(sku_inputs(f"quota-{code}", 1)),
        )  # fmt: skip
        assert post(quota_shop, first).status_code == 202
        second = signed_body(
            quota_shop, merchant.account, registry,
            registry.functions.registerItems(sku_inputs(f"quota-{code}-2", 1)),
        )  # fmt: skip

        refused = post(quota_shop, second)

    assert error_code(refused) == (429, code)
    assert 0 < int(refused.headers["Retry-After"]) <= 86_401


def test_a_deadline_the_chains_clock_has_passed_is_refused_though_ours_has_not(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    """The forwarder reads the block's time: a chain whose clock runs ahead would expire it."""
    suite.rpc("evm_increaseTime", 7_200)
    suite.mine()
    registry = suite.registry
    wall_clock_hour = int(time.time()) + 3_600
    body = signed_body(
        shop, merchant.account, registry,
        registry.functions.registerItems(sku_inputs("ahead", 1)), deadline=wall_clock_hour,
    )  # fmt: skip

    assert error_code(post(shop, body)) == (422, "request_expired")
