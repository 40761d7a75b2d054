"""Attackers and hostile tokens: none can steal, lock or double-spend.

Also the known failures of published escrows: an ERC-20 whose transfer returns false, a
fee-on-transfer token, a receiver that re-enters, a receiver that always reverts.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest
from eth_utils import keccak

from tests.contracts.escrow.helpers import CARRIER, ETH, OrderStatus, h

REENTRANT_CALL = keccak(text="ReentrancyGuardReentrantCall()")[:4]
AMOUNT = 10**18


@pytest.fixture
def asset(eth_asset: Any) -> Any:
    """Paid in ETH only: these rules do not depend on the asset."""
    return eth_asset


@pytest.fixture
def reentrant_receiver(project: Any, admin: Any) -> Any:
    return project.ReentrantReceiver.deploy(sender=admin)


@pytest.fixture
def reverting_receiver(project: Any, admin: Any) -> Any:
    return project.RevertingReceiver.deploy(sender=admin)


def _allow(escrow: Any, admin: Any, token: Any, buyer: Any) -> None:
    escrow.setTokenAllowed(token, True, sender=admin)
    token.mint(buyer, 10 * AMOUNT, sender=buyer)
    token.approve(escrow, 10 * AMOUNT, sender=buyer)


def test_reentrant_merchant_cannot_withdraw_twice(
    escrow: Any, open_order: Any, buyer: Any, reentrant_receiver: Any, chain: Any
) -> None:
    paid = open_order(token=ETH, amount=AMOUNT, merchant=reentrant_receiver.address)
    other = open_order(token=ETH, amount=AMOUNT)
    escrow.confirmReceipt(paid.abi, sender=buyer)
    credit = int(escrow.creditOf(reentrant_receiver, ETH))
    withdraw = escrow.withdraw.encode_input(ETH)
    reentrant_receiver.arm(escrow, withdraw, sender=buyer)

    reentrant_receiver.execute(escrow, withdraw, sender=buyer)

    assert reentrant_receiver.attempts() == 1
    assert not reentrant_receiver.lastSucceeded()
    assert bytes(reentrant_receiver.lastResult()) == REENTRANT_CALL
    assert chain.get_balance(reentrant_receiver.address) == credit
    assert escrow.creditOf(reentrant_receiver, ETH) == 0
    assert chain.get_balance(escrow.address) == AMOUNT + (AMOUNT - credit)
    assert escrow.escrowedOf(other.abi) == AMOUNT


def test_reentrant_buyer_cannot_refund_twice(
    escrow: Any, make_terms: Any, merchant: Any, reentrant_receiver: Any, chain: Any, buyer: Any
) -> None:
    terms = make_terms(
        token=ETH, amount=AMOUNT, buyer=reentrant_receiver.address, payer=reentrant_receiver.address
    )
    reentrant_receiver.execute(
        escrow, escrow.open.encode_input(terms.as_abi()), value=AMOUNT, sender=buyer
    )
    reentrant_receiver.execute(escrow, escrow.cancel.encode_input(terms.as_abi()), sender=buyer)
    reentrant_receiver.arm(escrow, escrow.cancel.encode_input(terms.as_abi()), sender=buyer)

    reentrant_receiver.execute(escrow, escrow.withdraw.encode_input(ETH), sender=buyer)

    assert bytes(reentrant_receiver.lastResult()) == REENTRANT_CALL
    assert chain.get_balance(reentrant_receiver.address) == AMOUNT
    assert chain.get_balance(escrow.address) == 0
    assert escrow.orderOf(terms.order_id).status == OrderStatus.REFUNDED


def test_token_reentering_on_transfer_is_stopped_and_books_stay_exact(
    escrow: Any, project: Any, admin: Any, open_order: Any, buyer: Any
) -> None:
    token = project.ReentrantToken.deploy(sender=admin)
    _allow(escrow, admin, token, buyer)
    token.arm(escrow, escrow.withdraw.encode_input(token.address), sender=buyer)

    order = open_order(token=token.address, amount=AMOUNT)

    assert token.attempts() == 1
    assert not token.lastSucceeded()
    assert bytes(token.lastResult()) == REENTRANT_CALL
    assert token.balanceOf(escrow) == AMOUNT == escrow.escrowedOf(order.abi)

    escrow.cancel(order.abi, sender=buyer)
    token.arm(escrow, escrow.cancel.encode_input(order.abi), sender=buyer)
    escrow.withdraw(token, sender=buyer)
    assert bytes(token.lastResult()) == REENTRANT_CALL
    assert token.balanceOf(escrow) == 0
    assert token.balanceOf(buyer) == 10 * AMOUNT


def test_fee_on_transfer_token_is_refused(
    escrow: Any, project: Any, admin: Any, open_order: Any, buyer: Any
) -> None:
    token = project.FeeOnTransferToken.deploy(sender=admin)
    _allow(escrow, admin, token, buyer)

    with ape.reverts(
        escrow.EscrowTokenDeliveredLess,
        token=token.address,
        expected=AMOUNT,
        received=AMOUNT - AMOUNT // 100,
    ):
        open_order(token=token.address, amount=AMOUNT)
    assert token.balanceOf(escrow) == 0


def test_token_returning_false_on_transfer_from_cannot_open_an_unpaid_order(
    escrow: Any, project: Any, admin: Any, open_order: Any, make_terms: Any, buyer: Any
) -> None:
    token = project.FalseReturningToken.deploy(sender=admin)
    _allow(escrow, admin, token, buyer)
    token.setFailing(True, sender=admin)
    terms = make_terms(token=token.address, amount=AMOUNT)

    with ape.reverts(escrow.SafeERC20FailedOperation, token=token.address):
        open_order(terms)
    assert escrow.orderOf(terms.order_id).status == OrderStatus.NONE


def test_token_returning_false_on_withdraw_keeps_the_credit(
    escrow: Any, project: Any, admin: Any, open_order: Any, buyer: Any
) -> None:
    token = project.FalseReturningToken.deploy(sender=admin)
    _allow(escrow, admin, token, buyer)
    order = open_order(token=token.address, amount=AMOUNT)
    escrow.cancel(order.abi, sender=buyer)
    token.setFailing(True, sender=admin)

    with ape.reverts(escrow.SafeERC20FailedOperation, token=token.address):
        escrow.withdraw(token, sender=buyer)
    assert escrow.creditOf(buyer, token) == AMOUNT

    token.setFailing(False, sender=admin)
    escrow.withdraw(token, sender=buyer)
    assert token.balanceOf(buyer) == 10 * AMOUNT


def test_reverting_receiver_cannot_block_anyone_else(
    escrow: Any,
    open_order: Any,
    buyer: Any,
    fee_recipient: Any,
    reverting_receiver: Any,
    shopper: Any,
    chain: Any,
) -> None:
    order = open_order(token=ETH, amount=AMOUNT, merchant=reverting_receiver.address)
    refunded = open_order(token=ETH, amount=AMOUNT)
    escrow.confirmReceipt(order.abi, sender=buyer)
    escrow.cancel(refunded.abi, sender=buyer)
    credit = int(escrow.creditOf(reverting_receiver, ETH))

    with ape.reverts(escrow.EscrowEthTransferFailed, to=reverting_receiver.address, amount=credit):
        reverting_receiver.execute(escrow, escrow.withdraw.encode_input(ETH), sender=shopper)

    escrow.withdraw(ETH, sender=buyer)
    escrow.withdraw(ETH, sender=fee_recipient)
    assert chain.get_balance(escrow.address) == credit == escrow.creditOf(reverting_receiver, ETH)

    before = chain.get_balance(shopper.address)
    reverting_receiver.execute(
        escrow, escrow.withdrawTo.encode_input(ETH, shopper.address), sender=buyer
    )
    assert chain.get_balance(shopper.address) - before == credit
    assert chain.get_balance(escrow.address) == 0


def test_stranger_cannot_move_anyone_elses_order(
    escrow: Any, open_order: Any, shopper: Any, merchant: Any, asset: Any
) -> None:
    order = open_order()
    escrow.ship(order.abi, CARRIER, h("track"), sender=merchant)

    with ape.reverts(escrow.EscrowNotBuyer, orderId=order.id, caller=shopper.address):
        escrow.confirmReceipt(order.abi, sender=shopper)
    with ape.reverts(escrow.EscrowNotParty, orderId=order.id, caller=shopper.address):
        escrow.cancel(order.abi, sender=shopper)
    with ape.reverts(escrow.EscrowNothingToWithdraw, account=shopper.address, token=asset.token):
        escrow.withdraw(asset.token, sender=shopper)
    assert escrow.escrowedOf(order.abi) == order.terms.amount
