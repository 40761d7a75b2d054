"""Which queued keeper duties share a transaction: releases together, each other duty alone, and
no release past an older duty of its own order (a recall refund queued before it runs first)."""

from __future__ import annotations

from app.domain.orders import OrderTerms
from app.outbox.calls import RowView
from app.outbox.kinds.keeper import duty_batch, duty_payload
from app.outbox.models import RelayKind
from app.settings import KeeperDuty

MERCHANT_A = "0x" + "a" * 40
MERCHANT_B = "0x" + "b" * 40
BUYER = "0x" + "c" * 40
ETH = "0x" + "0" * 40


def terms_of(order: int, merchant: str) -> OrderTerms:
    return OrderTerms(
        buyer=BUYER,
        merchant=merchant,
        payer=BUYER,
        token=ETH,
        amount=10**15,
        ship_by=1_000,
        deliver_by=2_000,
        dispute_window=100,
        fee_bps=0,
        order_ref="0x" + f"{order:064x}",
        salt=order,
    )


def _row(record_id: int, duty: KeeperDuty, order: int, merchant: str = MERCHANT_A) -> RowView:
    terms = terms_of(order, merchant)
    payload = duty_payload(duty, terms, items=1 if duty == KeeperDuty.REFUND_RECALLED else 0)
    return RowView(record_id, RelayKind.KEEPER_DUTY, terms.order_id, payload, None, 0)


def _ids(rows: list[RowView]) -> list[int]:
    return [row.id for row in rows]


def test_releases_go_together_by_merchant_and_any_other_duty_alone() -> None:
    rows = [
        _row(1, KeeperDuty.RELEASE, 1, MERCHANT_B),
        _row(2, KeeperDuty.REFUND, 2),
        _row(3, KeeperDuty.RELEASE, 3, MERCHANT_A),
        _row(4, KeeperDuty.RELEASE, 4, MERCHANT_B),
    ]

    assert _ids(duty_batch(rows)) == [3, 1, 4]  # merchant A's run, then B's, oldest first within
    assert _ids(duty_batch(rows[1:])) == [2]


def test_a_release_waits_behind_an_older_recall_refund_of_its_own_order() -> None:
    # The keeper's reviewer's case: another order's release first, then order 2's recall refund,
    # then order 2's release. Released in the first batch, order 2 would pay the recalled item's
    # share to its merchant before the refund could run.
    rows = [
        _row(9, KeeperDuty.RELEASE, 1),
        _row(10, KeeperDuty.REFUND_RECALLED, 2),
        _row(11, KeeperDuty.RELEASE, 2),
        _row(12, KeeperDuty.RELEASE, 3),
    ]

    assert _ids(duty_batch(rows)) == [9, 12]
    assert _ids(duty_batch(rows[1:])) == [10]
    assert _ids(duty_batch(rows[2:])) == [11, 12]
