"""Re-entry through ETH receivers and through token hooks: every entry point that moves money is
guarded, so a receiver re-entering from its `receive` or from an ERC-777-style hook is refused with
ReentrancyGuardReentrantCall and the books stay exact. The registry, which the escrow calls to hold,
free and sell items, calls nothing back; the escrow calls it from inside its own lock."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.crypto import keccak

from tests.attacks.conftest import AMOUNT, Actors, Suite, register, sku_key
from tests.contracts.escrow.helpers import ETH, OrderStatus, Terms

REENTRANT_CALL = keccak(text="ReentrancyGuardReentrantCall()")[:4]


@pytest.fixture
def receiver(project_: Any, actors: Actors) -> Any:
    return project_.ReentrantReceiver.deploy(sender=actors.admin)


@pytest.fixture
def hook_token(project_: Any, suite: Suite, actors: Actors) -> Any:
    token = project_.HookToken.deploy(sender=actors.admin)
    suite.escrow.setTokenAllowed(token.address, True, sender=actors.admin)
    return token


@pytest.fixture
def hook_attacker(project_: Any, actors: Actors, hook_token: Any) -> Any:
    attacker = project_.HookAttacker.deploy(sender=actors.admin)
    attacker.listen(hook_token.address, sender=actors.stranger)
    return attacker


def _open(suite: Suite, terms: Terms, sender: Any) -> None:
    value = terms.amount if terms.token == ETH else 0
    suite.escrow.open(terms.as_abi(), value=value, sender=sender)


def test_eth_receiver_reentering_withdraw_is_refused_and_paid_once(
    suite: Suite, actors: Actors, receiver: Any, terms_for: Any, provider: Any
) -> None:
    escrow = suite.escrow
    paid = terms_for(merchant=receiver.address)
    bystander = terms_for()
    _open(suite, paid, actors.buyer)
    _open(suite, bystander, actors.buyer)
    escrow.confirmReceipt(paid.as_abi(), sender=actors.buyer)
    credit = int(escrow.creditOf(receiver.address, ETH))
    escrow_before = provider.get_balance(escrow.address)
    withdraw = escrow.withdraw.encode_input(ETH)
    receiver.arm(escrow.address, withdraw, sender=actors.stranger)

    receiver.execute(escrow.address, withdraw, sender=actors.stranger)

    assert receiver.attempts() == 1
    assert not receiver.lastSucceeded()
    assert bytes(receiver.lastResult()) == REENTRANT_CALL
    assert provider.get_balance(receiver.address) == credit
    assert provider.get_balance(escrow.address) == escrow_before - credit
    assert escrow.creditOf(receiver.address, ETH) == 0
    assert escrow.escrowedOf(bystander.as_abi()) == AMOUNT


def test_eth_receiver_cannot_reenter_another_entry_point_from_its_payout(
    suite: Suite, actors: Actors, receiver: Any, terms_for: Any, provider: Any
) -> None:
    """Cross-function: from inside its refund, the buyer cancels a second order of its own."""
    escrow = suite.escrow
    first = terms_for(buyer=receiver.address, payer=receiver.address)
    second = terms_for(buyer=receiver.address, payer=receiver.address)
    for terms in (first, second):
        receiver.execute(
            escrow.address,
            escrow.open.encode_input(terms.as_abi()),
            value=AMOUNT,
            sender=actors.stranger,
        )
    receiver.execute(
        escrow.address, escrow.cancel.encode_input(first.as_abi()), sender=actors.stranger
    )
    receiver.arm(
        escrow.address, escrow.cancel.encode_input(second.as_abi()), sender=actors.stranger
    )

    receiver.execute(escrow.address, escrow.withdraw.encode_input(ETH), sender=actors.stranger)

    assert bytes(receiver.lastResult()) == REENTRANT_CALL
    assert escrow.orderOf(second.order_id).status == OrderStatus.FUNDED
    assert provider.get_balance(receiver.address) == AMOUNT
    assert escrow.escrowedOf(second.as_abi()) == AMOUNT


def test_hooked_merchant_reentering_withdraw_from_tokens_received_is_refused(
    suite: Suite, actors: Actors, hook_token: Any, hook_attacker: Any, terms_for: Any
) -> None:
    escrow = suite.escrow
    hook_token.mint(actors.buyer.address, 2 * AMOUNT, sender=actors.buyer)
    hook_token.approve(escrow.address, 2 * AMOUNT, sender=actors.buyer)
    paid = terms_for(token=hook_token.address, merchant=hook_attacker.address)
    bystander = terms_for(token=hook_token.address)
    _open(suite, paid, actors.buyer)
    _open(suite, bystander, actors.buyer)
    escrow.confirmReceipt(paid.as_abi(), sender=actors.buyer)
    credit = int(escrow.creditOf(hook_attacker.address, hook_token.address))
    withdraw = escrow.withdraw.encode_input(hook_token.address)
    hook_attacker.arm(escrow.address, withdraw, sender=actors.stranger)

    hook_attacker.execute(escrow.address, withdraw, sender=actors.stranger)

    assert hook_attacker.attempts() == 1
    assert bytes(hook_attacker.lastResult()) == REENTRANT_CALL
    assert hook_token.balanceOf(hook_attacker.address) == credit
    assert escrow.creditOf(hook_attacker.address, hook_token.address) == 0
    fee = AMOUNT - credit
    assert hook_token.balanceOf(escrow.address) == AMOUNT + fee
    assert escrow.escrowedOf(bystander.as_abi()) == AMOUNT


def test_hooked_buyer_cannot_cancel_its_order_from_inside_the_payment_pull(
    suite: Suite, actors: Actors, hook_token: Any, hook_attacker: Any, terms_for: Any
) -> None:
    """`open` records the order and has the registry hold its item before it pulls the tokens; the
    buyer's `tokensToSend` hook runs in between and tries to cancel (a refund credited, and the
    item freed, before the payment arrived)."""
    escrow = suite.escrow
    item = register(suite.registry, actors.merchant, sku_key(f"hooked {hook_attacker.address}"))
    hook_token.mint(hook_attacker.address, AMOUNT, sender=actors.stranger)
    hook_attacker.execute(
        hook_token.address,
        hook_token.approve.encode_input(escrow.address, AMOUNT),
        sender=actors.stranger,
    )
    terms = terms_for(
        token=hook_token.address,
        buyer=hook_attacker.address,
        payer=hook_attacker.address,
        item_ids=(item,),
    )
    hook_attacker.arm(
        escrow.address, escrow.cancel.encode_input(terms.as_abi()), sender=actors.stranger
    )

    hook_attacker.execute(
        escrow.address, escrow.open.encode_input(terms.as_abi()), sender=actors.stranger
    )

    assert hook_attacker.attempts() == 1
    assert bytes(hook_attacker.lastResult()) == REENTRANT_CALL
    assert escrow.orderOf(terms.order_id).status == OrderStatus.FUNDED
    assert escrow.creditOf(hook_attacker.address, hook_token.address) == 0
    assert hook_token.balanceOf(escrow.address) >= AMOUNT
    assert suite.registry.itemOf(item).held
