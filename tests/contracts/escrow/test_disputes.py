"""Disputes, arbiter rulings and the arbitration timeout (settlement offers: test_offers.py;
the `delivered_order` and `disputed_order` fixtures are in conftest.py)."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.escrow.helpers import (
    BPS,
    CARRIER,
    OrderStatus,
    SettlementKind,
    credits_of,
    h,
    split,
)


def test_buyer_disputes_inside_the_window(escrow: Any, delivered_order: Any, buyer: Any) -> None:
    tx = escrow.dispute(delivered_order.abi, h("parcel empty"), sender=buyer)

    deadline = tx.timestamp + int(escrow.arbitrationPeriod())
    assert tx.events == [
        escrow.DisputeOpened(
            orderId=delivered_order.id,
            by=buyer.address,
            evidenceHash=h("parcel empty"),
            deadline=deadline,
        )
    ]
    assert escrow.orderOf(delivered_order.id).status == OrderStatus.DISPUTED


def test_dispute_reverts_after_the_window_closes(
    escrow: Any, delivered_order: Any, buyer: Any, travel: Any
) -> None:
    delivered_at = int(escrow.orderOf(delivered_order.id).deliveredAt)
    travel(delivered_order.terms.dispute_window)
    with ape.reverts(
        escrow.EscrowDisputeWindowClosed,
        orderId=delivered_order.id,
        closedAt=delivered_at + delivered_order.terms.dispute_window,
    ):
        escrow.dispute(delivered_order.abi, h("late"), sender=buyer)


def test_dispute_reverts_before_shipment(escrow: Any, open_order: Any, buyer: Any) -> None:
    order = open_order()
    with ape.reverts(escrow.EscrowInvalidStatus, orderId=order.id, status=OrderStatus.FUNDED):
        escrow.dispute(order.abi, h("x"), sender=buyer)


def test_dispute_reverts_for_anyone_but_the_buyer(
    escrow: Any, delivered_order: Any, merchant: Any
) -> None:
    with ape.reverts(escrow.EscrowNotBuyer, orderId=delivered_order.id, caller=merchant.address):
        escrow.dispute(delivered_order.abi, h("x"), sender=merchant)


def test_dispute_reverts_when_already_disputed(
    escrow: Any, disputed_order: Any, buyer: Any
) -> None:
    with ape.reverts(
        escrow.EscrowInvalidStatus, orderId=disputed_order.id, status=OrderStatus.DISPUTED
    ):
        escrow.dispute(disputed_order.abi, h("again"), sender=buyer)


def test_merchant_answers_with_evidence(
    escrow: Any, disputed_order: Any, merchant: Any, buyer: Any
) -> None:
    tx = escrow.submitEvidence(disputed_order.abi, h("signed receipt"), sender=merchant)
    escrow.submitEvidence(disputed_order.abi, h("photo"), sender=buyer)

    assert tx.events == [
        escrow.EvidenceSubmitted(
            orderId=disputed_order.id, by=merchant.address, evidenceHash=h("signed receipt")
        )
    ]
    assert escrow.orderOf(disputed_order.id).merchantAnswered


def test_evidence_reverts_from_a_stranger_or_without_a_dispute(
    escrow: Any, delivered_order: Any, buyer: Any, shopper: Any
) -> None:
    with ape.reverts(
        escrow.EscrowInvalidStatus, orderId=delivered_order.id, status=OrderStatus.DELIVERED
    ):
        escrow.submitEvidence(delivered_order.abi, h("x"), sender=buyer)
    escrow.dispute(delivered_order.abi, h("x"), sender=buyer)
    with ape.reverts(escrow.EscrowNotParty, orderId=delivered_order.id, caller=shopper.address):
        escrow.submitEvidence(delivered_order.abi, h("x"), sender=shopper)


@pytest.mark.parametrize("buyer_bps", [0, 3_333, 7_001, BPS])
def test_arbiter_split_leaves_the_books_balanced(
    escrow: Any,
    disputed_order: Any,
    arbiter: Any,
    buyer: Any,
    merchant: Any,
    fee_recipient: Any,
    asset: Any,
    buyer_bps: int,
) -> None:
    tx = escrow.resolveDispute(disputed_order.abi, buyer_bps, h("ruling"), sender=arbiter)

    payer, net, fee = split(disputed_order.terms.amount, buyer_bps, disputed_order.terms.fee_bps)
    assert tx.events == [
        escrow.OrderSettled(
            orderId=disputed_order.id,
            by=arbiter.address,
            kind=SettlementKind.ARBITER,
            buyerBps=buyer_bps,
            payerAmount=payer,
            merchantAmount=net,
            feeAmount=fee,
        ),
        escrow.DisputeRuled(
            orderId=disputed_order.id, arbiter=arbiter.address, rulingHash=h("ruling")
        ),
    ]
    credits = credits_of(escrow, asset.token, buyer, merchant, fee_recipient)
    assert credits == [payer, net, fee]
    assert sum(credits) == disputed_order.terms.amount == asset.balance_of(escrow)
    state = escrow.orderOf(disputed_order.id)
    assert (state.status, state.buyerBps) == (OrderStatus.SETTLED, buyer_bps)


def test_arbiter_split_of_an_odd_amount_balances_to_the_last_unit(
    escrow: Any,
    open_order: Any,
    merchant: Any,
    buyer: Any,
    arbiter: Any,
    fee_recipient: Any,
    asset: Any,
) -> None:
    order = open_order(amount=asset.amount + 7)
    escrow.ship(order.abi, CARRIER, h("track"), sender=merchant)
    escrow.dispute(order.abi, h("x"), sender=buyer)

    escrow.resolveDispute(order.abi, 3_333, h("ruling"), sender=arbiter)

    assert (
        sum(credits_of(escrow, asset.token, buyer, merchant, fee_recipient)) == order.terms.amount
    )


def test_resolve_reverts_for_split_above_10000(
    escrow: Any, disputed_order: Any, arbiter: Any
) -> None:
    with ape.reverts(escrow.EscrowInvalidSplit, buyerBps=BPS + 1):
        escrow.resolveDispute(disputed_order.abi, BPS + 1, h("r"), sender=arbiter)


def test_resolve_reverts_without_arbiter_role(escrow: Any, disputed_order: Any, buyer: Any) -> None:
    with ape.reverts(
        escrow.AccessControlUnauthorizedAccount,
        account=buyer.address,
        neededRole=escrow.ARBITER_ROLE(),
    ):
        escrow.resolveDispute(disputed_order.abi, BPS, h("r"), sender=buyer)


def test_resolve_reverts_without_a_dispute(escrow: Any, delivered_order: Any, arbiter: Any) -> None:
    with ape.reverts(
        escrow.EscrowInvalidStatus, orderId=delivered_order.id, status=OrderStatus.DELIVERED
    ):
        escrow.resolveDispute(delivered_order.abi, BPS, h("r"), sender=arbiter)


def test_arbiter_loses_authority_at_the_deadline(
    escrow: Any, disputed_order: Any, arbiter: Any, chain: Any
) -> None:
    deadline = int(escrow.orderOf(disputed_order.id).disputeDeadline)
    chain.pending_timestamp = deadline
    with ape.reverts(escrow.EscrowArbitrationExpired, orderId=disputed_order.id, deadline=deadline):
        escrow.resolveDispute(disputed_order.abi, BPS, h("r"), sender=arbiter)


def test_timeout_refunds_in_full_when_the_merchant_never_answered(
    escrow: Any, disputed_order: Any, shopper: Any, buyer: Any, asset: Any, chain: Any
) -> None:
    deadline = int(escrow.orderOf(disputed_order.id).disputeDeadline)
    chain.pending_timestamp = deadline - 1
    with ape.reverts(escrow.EscrowArbitrationPending, orderId=disputed_order.id, deadline=deadline):
        escrow.resolveExpiredDispute(disputed_order.abi, sender=shopper)
    chain.pending_timestamp = deadline

    tx = escrow.resolveExpiredDispute(disputed_order.abi, sender=shopper)

    event = tx.events[0]
    assert (event.kind, event.buyerBps) == (SettlementKind.ARBITRATION_TIMEOUT, BPS)
    assert escrow.creditOf(buyer, asset.token) == disputed_order.terms.amount


def test_timeout_splits_evenly_when_the_merchant_answered(
    escrow: Any,
    disputed_order: Any,
    merchant: Any,
    buyer: Any,
    fee_recipient: Any,
    asset: Any,
    chain: Any,
) -> None:
    escrow.submitEvidence(disputed_order.abi, h("receipt"), sender=merchant)
    chain.pending_timestamp = int(escrow.orderOf(disputed_order.id).disputeDeadline)

    escrow.resolveExpiredDispute(disputed_order.abi, sender=buyer)

    expected = list(split(disputed_order.terms.amount, BPS // 2, disputed_order.terms.fee_bps))
    assert credits_of(escrow, asset.token, buyer, merchant, fee_recipient) == expected


def test_resolve_expired_reverts_without_a_dispute(
    escrow: Any, delivered_order: Any, shopper: Any
) -> None:
    with ape.reverts(
        escrow.EscrowInvalidStatus, orderId=delivered_order.id, status=OrderStatus.DELIVERED
    ):
        escrow.resolveExpiredDispute(delivered_order.abi, sender=shopper)


def test_arbitration_period_is_fixed_when_the_dispute_opens(
    escrow: Any, delivered_order: Any, buyer: Any, admin: Any
) -> None:
    tx = escrow.dispute(delivered_order.abi, h("x"), sender=buyer)
    escrow.setArbitrationPeriod(90 * 86_400, sender=admin)

    assert escrow.orderOf(delivered_order.id).disputeDeadline == tx.events[0].deadline


def test_refund_goes_to_the_funder_of_a_credit_line_order(
    escrow: Any, open_order: Any, funder: Any, buyer: Any, merchant: Any, arbiter: Any, asset: Any
) -> None:
    order = open_order(payer=funder.address)
    escrow.ship(order.abi, CARRIER, h("track"), sender=merchant)
    escrow.dispute(order.abi, h("x"), sender=buyer)

    escrow.resolveDispute(order.abi, 4_000, h("r"), sender=arbiter)

    payer, _, _ = split(order.terms.amount, 4_000, order.terms.fee_bps)
    assert escrow.creditOf(funder, asset.token) == payer
    assert escrow.creditOf(buyer, asset.token) == 0
