"""A merchant takes back signed requests the service has not sent: the request and the signer's
later queued nonces go ``failed`` (withdrawn), the nonce is the signer's next again, only the
signer's session may do it, and a relayer that planned a batch with the request meanwhile sends
nothing of that plan."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.chain.journal import ChainTransaction
from app.domain.ids import item_id_of_key
from app.domain.vocab import IdScheme
from app.merchant.request_models import MerchantRequestRow
from app.outbox.kinds.forwarded import WITHDRAWN
from app.outbox.lane import AccountRelayer
from app.outbox.models import OutboxRecord
from tests.app.index.actors import Shop, SuiteDriver
from tests.app.index.records import Actor
from tests.app.merchant.request_support import (
    REQUESTS,
    error_code,
    next_nonce,
    post,
    relay,
    run_directly,
    signed_body,
    sku_inputs,
    status_of,
)
from tests.app.merchant.support import sign_in
from tests.app.merchant.test_requests import (  # noqa: F401
    relay_key,
    shop_settings,
)

# The withdrawal and the relayer's claim are each one conditional update: both backends.
pytestmark = pytest.mark.both_databases


def _register(shop: Shop, suite: SuiteDriver, merchant: Actor, label: str) -> tuple[str, Any]:
    """Posts a signed request registering one item; returns its id and the item's inputs."""
    items = sku_inputs(label, 1)
    registry = suite.registry
    body = signed_body(shop, merchant.account, registry, registry.functions.registerItems(items))
    answer = post(shop, body)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"], items[0][0]


def _owner(suite: SuiteDriver, merchant: Actor, key: Any) -> str:
    item_id = item_id_of_key(merchant.address, IdScheme.SKU, key[1], key[2])
    return str(suite.registry.functions.itemOf(item_id).call()[0])


def test_a_signer_withdraws_a_queued_request_with_its_later_nonces_and_signs_the_nonce_again(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    (first, first_key), (second, second_key), (third, third_key) = (
        _register(shop, suite, merchant, label) for label in ("kept", "mistaken", "after-it")
    )
    assert next_nonce(shop, merchant.address) == 3

    assert error_code(shop.client.delete(f"{REQUESTS}/{second}")) == (401, "session_required")
    rival = sign_in(shop.client, suite.new_merchant("Rival Goods"))
    refused = shop.client.delete(f"{REQUESTS}/{second}", headers=rival)
    assert error_code(refused) == (403, "not_your_request")
    headers = sign_in(shop.client, merchant)
    unknown = shop.client.delete(f"{REQUESTS}/req_{'0' * 32}", headers=headers)
    assert error_code(unknown) == (404, "request_not_found")

    taken = shop.client.delete(f"{REQUESTS}/{second}", headers=headers)

    assert taken.status_code == 200, taken.text
    assert taken.json() == {"withdrawn": [second, third]}  # the third cannot run without it
    for request_id in (second, third):
        assert (status_of(shop, request_id)["status"], status_of(shop, request_id)["reason"]) == (
            "failed",
            WITHDRAWN,
        )
    assert status_of(shop, first)["status"] == "queued"
    assert next_nonce(shop, merchant.address) == 1
    again = shop.client.delete(f"{REQUESTS}/{second}", headers=headers)
    assert error_code(again) == (409, "request_not_queued")

    relayer = relay(shop)
    assert status_of(shop, first)["status"] == "confirmed"
    assert _owner(suite, merchant, first_key) == merchant.address
    for key in (second_key, third_key):
        assert int(_owner(suite, merchant, key), 16) == 0  # never sent
    settled = shop.client.delete(f"{REQUESTS}/{first}", headers=headers)
    assert error_code(settled) == (409, "request_not_queued")

    # The nonce is the signer's next again: a new request of it runs.
    replacement, replacement_key = _register(shop, suite, merchant, "instead")
    relay(shop, relayer=relayer)
    assert status_of(shop, replacement)["status"] == "confirmed"
    assert _owner(suite, merchant, replacement_key) == merchant.address
    # It spent the withdrawn request's nonce, which can no longer run; the third's still could.
    assert status_of(shop, second)["reason"] == (
        f"{WITHDRAWN}; the signer's nonce 1 was used by another request"
    )
    assert status_of(shop, third)["reason"] == WITHDRAWN


def test_a_withdrawn_request_someone_else_relays_shows_confirmed_with_that_transaction(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    """Withdrawing takes a request out of the service's queue, not its signature off the world:
    whoever holds the signed request (the merchant's own script kept it) may still relay it, and
    then the service must not call it withdrawn."""
    items = sku_inputs("relayed-elsewhere", 1)
    registry = suite.registry
    body = signed_body(shop, merchant.account, registry, registry.functions.registerItems(items))
    request_id = post(shop, body).json()["id"]
    taken = shop.client.delete(f"{REQUESTS}/{request_id}", headers=sign_in(shop.client, merchant))
    assert taken.status_code == 200, taken.text
    relayer = relay(shop)
    assert status_of(shop, request_id)["reason"] == WITHDRAWN  # its nonce is still unspent

    forwarder = run_directly(shop, suite, body)
    [ran] = forwarder.events.ExecutedForwardRequest().get_logs(
        from_block=suite.w3.eth.block_number, argument_filters={"signer": merchant.address}
    )
    relay(shop, relayer=relayer)

    status = status_of(shop, request_id)
    assert (status["status"], status["reason"]) == ("confirmed", None)
    assert (status["tx_hash"], status["block_number"]) == (
        ran.transactionHash.to_0x_hex(),
        ran.blockNumber,
    )
    assert _owner(suite, merchant, items[0][0]) == merchant.address


def test_a_batch_planned_with_a_request_withdrawn_before_it_is_written_sends_nothing(
    shop: Shop, suite: SuiteDriver, merchant: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id, key = _register(shop, suite, merchant, "withdrawn-mid-plan")
    headers = sign_in(shop.client, merchant)
    plan = AccountRelayer._plan

    def plan_then_withdraw(lane: AccountRelayer, *args: Any, **kwargs: Any) -> Any:
        planned = plan(lane, *args, **kwargs)
        if planned.send:  # the merchant withdraws while the relayer estimates its batch
            answer = shop.client.delete(f"{REQUESTS}/{request_id}", headers=headers)
            assert answer.status_code == 200, answer.text
        return planned

    monkeypatch.setattr(AccountRelayer, "_plan", plan_then_withdraw)
    relay(shop)

    assert (status_of(shop, request_id)["status"], status_of(shop, request_id)["reason"]) == (
        "failed",
        WITHDRAWN,
    )
    database = shop.app.state.services.database
    with database.sessions() as session:
        assert session.scalar(select(func.count(ChainTransaction.id))) == 0
    assert int(_owner(suite, merchant, key), 16) == 0
    assert next_nonce(shop, merchant.address) == 0


def test_a_request_queued_again_after_a_transaction_carried_it_is_not_withdrawn(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    """Settlement queues a request again after the transaction that carried it reverted (or lost
    its nonce): its signature is on chain then, anyone may relay it, so "withdrawn" would be a
    promise the service cannot keep."""
    request_id, _ = _register(shop, suite, merchant, "carried-once")
    database = shop.app.state.services.database
    with database.transaction() as session:  # as settlement leaves a record it queues again
        outbox_id = session.get_one(MerchantRequestRow, request_id).outbox_id
        session.execute(update(OutboxRecord).where(OutboxRecord.id == outbox_id).values(attempts=1))

    answer = shop.client.delete(f"{REQUESTS}/{request_id}", headers=sign_in(shop.client, merchant))

    assert error_code(answer) == (409, "request_already_broadcast")
    assert answer.json()["error"]["details"] == {"requests": [request_id]}
    assert status_of(shop, request_id)["status"] == "queued"
