"""The threat model's attacks on provenance (SECURITY.md 4.3-4.5), through the merchant API: a
signed request is the signer's own call, so each is refused with the contract's own error, and the
service relays none of them. A merchant's signature cannot be made to speak for another. And
what the service does relay lands as the merchant's own call."""

from __future__ import annotations

from typing import Any

from eth_utils.crypto import keccak

from app.domain.ids import item_id_of_key, item_key
from app.domain.orders import ZERO_ADDRESS
from app.domain.vocab import CustodyAction, IdScheme
from tests.app.index.actors import Shop, SuiteDriver
from tests.app.index.records import Actor, random_gtin
from tests.app.merchant.request_support import (
    error_code,
    post,
    relay,
    run_directly,
    signed_body,
    sku_inputs,
    status_of,
)
from tests.app.merchant.test_requests import (  # noqa: F401
    outbox,
    relay_key,
    shop_settings,
)


def refusal(shop: Shop, body: dict[str, object]) -> tuple[int, str, str]:
    answer = post(shop, body)
    status, code = error_code(answer)
    return status, code, (answer.json()["error"]["details"] or {}).get("error", "")


def test_provenance_attacks_through_the_api_are_refused_with_the_contracts_own_errors(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    registry, escrow = suite.registry, suite.escrow
    brand = suite.new_merchant("Brand Owner")
    gtin, prefix = random_gtin()
    genuine = suite.register_gs1(brand, gtin, prefix, "ORIG-1")
    brand_order = suite.open_order(buyer, brand, [genuine.item_id])
    custody = (
        genuine.item_id,
        1,
        int(CustodyAction.SOLD),
        suite.block_time(),
        bytes(32),
        bytes(32),
    )
    attacks = {
        # 4.4: the brand's GTIN under its prefix, registered by another merchant.
        "squat a GS1 key": registry.functions.registerItems(
            [(item_key(IdScheme.GS1, gtin, "FAKE-1"), keccak(text="fake"), "")]
        ),
        # 4.3: a sale or hand-over in another merchant's item's trail.
        "forge a trail": registry.functions.recordCustody([custody]),
        # Another merchant's item recalled, and its order shipped.
        "recall a rival's item": registry.functions.recallItem(genuine.item_id, bytes(32)),
        "ship a rival's order": escrow.functions.ship(brand_order.terms, 1, keccak(text="1Z")),
    }

    refused = {
        name: refusal(
            shop, signed_body(shop, merchant.account, call.address and _target(suite, call), call)
        )
        for name, call in attacks.items()
    }

    assert refused == {
        "squat a GS1 key": (422, "contract_refused", "RegistryGs1PrefixNotGranted"),
        "forge a trail": (422, "contract_refused", "RegistryNotItemCustodian"),
        "recall a rival's item": (422, "contract_refused", "RegistryNotItemCustodian"),
        "ship a rival's order": (422, "contract_refused", "EscrowNotMerchant"),
    }
    assert outbox(shop) == []
    assert relay(shop, cycles=1).run_once().sent_records == 0


def _target(suite: SuiteDriver, call: Any) -> Any:
    return suite.registry if call.address == suite.registry.address else suite.escrow


def test_a_merchants_signature_cannot_be_reused_for_another_call_or_another_signer(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    registry = suite.registry
    rival = suite.new_merchant("Rival")
    body = signed_body(
        shop,
        merchant.account,
        registry,
        registry.functions.registerItems([(item_key(IdScheme.SKU, "MINE", "1"), bytes(32), "")]),
    )
    recall = registry.functions.recallItem(bytes(32), bytes(32))._encode_transaction_data()

    tampered = {
        "other calldata": {**body, "data": recall},
        "claimed by a rival": {**body, "from": rival.address},
        "more gas": {**body, "gas": str(int(body["gas"]) + 1)},
        "another target": {**body, "to": suite.escrow.address},
    }

    answers = {name: error_code(post(shop, forged)) for name, forged in tampered.items()}
    assert answers == {
        "other calldata": (422, "signature_invalid"),
        "claimed by a rival": (422, "signature_invalid"),
        "more gas": (422, "signature_invalid"),
        "another target": (422, "function_not_relayed"),
    }
    assert outbox(shop) == []


def test_each_relayed_kind_of_work_lands_as_the_merchants_own_call(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    """A batch root, a custody event, a recall and a shipment, each a signed request: on chain
    each names the merchant, as its direct call would."""
    registry, escrow = suite.registry, suite.escrow
    item, shipped = suite.register_item(merchant), suite.register_item(merchant)
    order = suite.open_order(buyer, merchant, [shipped.item_id])
    root = keccak(text=f"batch of {merchant.address}")
    custody = (
        item.item_id,
        7,
        int(CustodyAction.SHIPPED),
        suite.block_time(),
        bytes(32),
        bytes(32),
    )
    calls = [
        (registry, registry.functions.registerBatch(root, 10, keccak(text="manifest"), "")),
        (registry, registry.functions.recordCustody([custody])),
        (registry, registry.functions.recallItem(item.item_id, keccak(text="recall"))),
        (escrow, escrow.functions.ship(order.terms, 1, keccak(text="1Z999"))),
    ]
    ids = []
    for target, call in calls:  # one at a time: each signs the next nonce
        accepted = post(shop, signed_body(shop, merchant.account, target, call))
        assert accepted.status_code == 202, accepted.text
        ids.append(accepted.json()["id"])

    relay(shop)

    assert [status_of(shop, i)["status"] for i in ids] == ["confirmed"] * 4
    head = suite.head()
    batch = registry.events.BatchRegistered().get_logs(from_block=head - 3, to_block=head)
    recalled = registry.events.ItemRecalled().get_logs(from_block=head - 3, to_block=head)
    custodian = registry.events.CustodyRecorded().get_logs(from_block=head - 3, to_block=head)
    shipment = escrow.events.OrderShipped().get_logs(from_block=head - 3, to_block=head)
    assert batch[0].args.merchant == merchant.address
    assert recalled[0].args.merchant == merchant.address
    assert custodian[0].args.submitter == merchant.address
    assert shipment[0].args.by == merchant.address


def test_the_buyers_and_borrowers_attacks_have_no_door_through_the_api(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    """Attacks 4.1 (a decoy refund) and 4.2 (credit cashed out) need a buyer's or a borrower's
    call: the service relays none (those parties sign their own transactions), whoever signs."""
    escrow = suite.escrow
    item = suite.register_item(merchant)
    order = suite.open_order(buyer, merchant, [item.item_id])
    calls = {
        "open": escrow.functions.open(order.terms),
        "confirm receipt": escrow.functions.confirmReceipt(order.terms),
        "cancel": escrow.functions.cancel(order.terms),
        "dispute": escrow.functions.dispute(order.terms, bytes(32)),
        "withdraw": escrow.functions.withdraw(ZERO_ADDRESS),
    }

    answers = {
        (name, signer.address): error_code(post(shop, signed_body(shop, signer.account, escrow, c)))
        for name, c in calls.items()
        for signer in (buyer, merchant)
    }

    assert len(answers) == 10
    assert set(answers.values()) == {(422, "function_not_relayed")}
    assert outbox(shop) == []


def test_another_request_of_the_same_nonce_run_first_fails_the_queued_one(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    """The forwarder's log names signer and nonce only. The merchant's key (or a thief of it)
    signs a second request of the queued one's nonce and has it run first: the queued request
    never ran, and is not reported confirmed with the other one's transaction."""
    registry = suite.registry
    queued_call = registry.functions.registerItems(sku_inputs("queued", 1))
    queued = post(shop, signed_body(shop, merchant.account, registry, queued_call))
    assert queued.status_code == 202, queued.text
    nonce = int(queued.json()["nonce"])
    other = signed_body(
        shop,
        merchant.account,
        registry,
        registry.functions.registerItems(sku_inputs("ran-first", 1)),
        nonce=nonce,
    )
    run_directly(shop, suite, other)

    relay(shop)

    settled = status_of(shop, queued.json()["id"])
    assert settled["status"] == "failed", settled
    assert settled["reason"] == f"the signer's nonce {nonce} was used by another request"
    queued_item = item_id_of_key(merchant.address, IdScheme.SKU, "SKU-queued", "S0")
    assert registry.functions.itemOf(queued_item).call()[0] == ZERO_ADDRESS
