"""Griefing the escrow with a receiver that refuses every payment: payouts are pulled, so the
refusal costs the griefer its own withdrawal only. The other parties of its order and of every
other order are paid, the escrow holds exactly the griefer's credit, and the griefer can still
collect it elsewhere with `withdrawTo`."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from app.domain.vocab import LogisticsKind
from tests.attacks.conftest import AMOUNT, CARRIER, Actors, Suite, logistics
from tests.contracts.escrow.helpers import ETH, OrderStatus, h


@pytest.fixture
def griefer(project_: Any, actors: Actors) -> Any:
    return project_.RevertingReceiver.deploy(sender=actors.admin)


def test_reverting_merchant_blocks_only_its_own_withdrawal(
    suite: Suite, actors: Actors, griefer: Any, terms_for: Any, provider: Any
) -> None:
    escrow = suite.escrow
    sold = terms_for(merchant=griefer.address)
    cancelled = terms_for(merchant=griefer.address)
    elsewhere = terms_for()
    for terms in (sold, cancelled, elsewhere):
        escrow.open(terms.as_abi(), value=AMOUNT, sender=actors.buyer)
    escrow.confirmReceipt(sold.as_abi(), sender=actors.buyer)
    escrow.cancel(cancelled.as_abi(), sender=actors.buyer)
    escrow.confirmReceipt(elsewhere.as_abi(), sender=actors.buyer)
    credit = int(escrow.creditOf(griefer.address, ETH))
    assert credit > 0

    with ape.reverts(escrow.EscrowEthTransferFailed, to=griefer.address, amount=credit):
        griefer.execute(escrow.address, escrow.withdraw.encode_input(ETH), sender=actors.stranger)

    held = provider.get_balance(escrow.address)
    paid_out = 0
    for account in (actors.buyer, actors.merchant, actors.fee_recipient):
        before = provider.get_balance(account.address)
        owed = int(escrow.creditOf(account.address, ETH))
        assert owed > 0
        receipt = escrow.withdraw(ETH, sender=account)
        assert provider.get_balance(account.address) == before + owed - receipt.total_fees_paid
        paid_out += owed
    # Everyone else was paid in full; the griefer's credit is still there, untouched.
    assert provider.get_balance(escrow.address) == held - paid_out
    assert escrow.creditOf(griefer.address, ETH) == credit
    assert escrow.orderOf(sold.order_id).status == OrderStatus.RELEASED

    rescue = actors.rival.address
    before = provider.get_balance(rescue)
    griefer.execute(
        escrow.address, escrow.withdrawTo.encode_input(ETH, rescue), sender=actors.stranger
    )
    assert provider.get_balance(rescue) == before + credit
    assert provider.get_balance(escrow.address) == held - paid_out - credit
    assert escrow.creditOf(griefer.address, ETH) == 0


def test_reverting_buyer_cannot_hold_up_the_merchant(
    suite: Suite, actors: Actors, griefer: Any, terms_for: Any, provider: Any
) -> None:
    """A buyer that refuses ETH still loses its order to the rules: the merchant ships, the window
    runs out, anyone releases, and the merchant withdraws."""
    escrow = suite.escrow
    terms = terms_for(buyer=griefer.address, payer=griefer.address)
    griefer.execute(
        escrow.address,
        escrow.open.encode_input(terms.as_abi()),
        value=AMOUNT,
        sender=actors.stranger,
    )
    escrow.ship(terms.as_abi(), CARRIER, h("tracking"), sender=actors.merchant)
    delivered = logistics(terms.order_id, LogisticsKind.DELIVERED, evidence="pod")
    escrow.reportLogistics([delivered], sender=actors.logistics)
    delivered_at = int(escrow.orderOf(terms.order_id).deliveredAt)
    provider.web3.provider.make_request(
        "evm_setNextBlockTimestamp", [delivered_at + terms.dispute_window]
    )

    escrow.release(terms.as_abi(), sender=actors.stranger)

    assert escrow.orderOf(terms.order_id).status == OrderStatus.RELEASED
    assert escrow.creditOf(griefer.address, ETH) == 0
    owed = int(escrow.creditOf(actors.merchant.address, ETH))
    assert owed == AMOUNT - AMOUNT * terms.fee_bps // 10_000
    escrow.withdraw(ETH, sender=actors.merchant)
    assert escrow.creditOf(actors.merchant.address, ETH) == 0
