"""The escrow's rules as the service explains them (``app.domain.escrow_moves``), at the edges the
contract draws: ``shipBy`` inclusive, the dispute window and the arbitration deadline exclusive,
a funder-paid order paid only for delivered items. The contract itself is the judge of each move
on Anvil (``tests/app/keeper``, ``tests/app/shop/test_party_orders.py``); here, the seconds."""

from __future__ import annotations

from dataclasses import replace

from app.domain.escrow_moves import Offer, OrderFacts, deadlines, moves_open
from app.domain.vocab import OrderStatus
from app.keeper.duties import duties_of
from app.settings import KeeperDuty

SHIP_BY, DELIVER_BY, WINDOW = 1_000_000, 1_500_000, 20_000
FUNDED = OrderFacts(
    order_id="0x" + "ab" * 32,
    status=OrderStatus.FUNDED,
    item_count=2,
    ship_by=SHIP_BY,
    deliver_by=DELIVER_BY,
    dispute_window=WINDOW,
    paid_by_funder=False,
)


def _open(order: OrderFacts, now: int) -> set[tuple[str, str]]:
    return {(move.party.value, move.action.value) for move in moves_open(order, now)}


def test_the_merchant_ships_until_ship_by_inclusive_then_anyone_refunds() -> None:
    assert {("merchant", "ship"), ("buyer", "cancel")} <= _open(FUNDED, SHIP_BY)
    assert ("anyone", "refund") not in _open(FUNDED, SHIP_BY)
    after = _open(FUNDED, SHIP_BY + 1)
    assert ("anyone", "refund") in after
    assert not {("merchant", "ship"), ("buyer", "cancel")} & after

    handed = replace(FUNDED, carrier=3)  # a carrier named: refundable only after deliver-by
    assert ("buyer", "cancel") not in _open(handed, 0)
    assert ("anyone", "refund") not in _open(handed, DELIVER_BY)
    assert ("anyone", "refund") in _open(handed, DELIVER_BY + 1)
    assert [(d.name.value, d.at) for d in deadlines(handed)] == [
        ("ship_by", SHIP_BY),
        ("deliver_by", DELIVER_BY),
    ]


def test_the_dispute_window_runs_from_the_later_of_delivery_and_deliver_by() -> None:
    early = replace(FUNDED, status=OrderStatus.SHIPPED, carrier=1, delivered_items=1,
                    delivered_at=DELIVER_BY - 5)  # fmt: skip
    late = replace(early, delivered_at=DELIVER_BY + 7)
    delivered = replace(early, status=OrderStatus.DELIVERED, delivered_items=0b11)

    for order, closes in ((early, DELIVER_BY + WINDOW), (late, DELIVER_BY + 7 + WINDOW),
                          (delivered, DELIVER_BY - 5 + WINDOW)):  # fmt: skip
        assert ("buyer", "dispute") in _open(order, closes - 1)
        assert ("anyone", "release") not in _open(order, closes - 1)
        assert ("buyer", "dispute") not in _open(order, closes)
        assert ("anyone", "release") in _open(order, closes)
        assert ("dispute_window_closes", closes) in [(d.name.value, d.at) for d in deadlines(order)]


def test_a_funder_paid_order_pays_the_merchant_only_for_delivered_items() -> None:
    shipped = replace(FUNDED, status=OrderStatus.SHIPPED, carrier=1, paid_by_funder=True,
                      delivered_items=0b01, delivered_at=DELIVER_BY - 5,
                      offer=Offer(5_000, by_merchant=True, expires_at=2**40))  # fmt: skip
    refund_at = DELIVER_BY + WINDOW

    later = _open(shipped, refund_at)
    assert ("anyone", "refund") in later and ("anyone", "release") not in later
    assert not {("buyer", "confirm_receipt"), ("buyer", "accept_settlement")} & later
    [refund] = [m for m in moves_open(shipped, refund_at) if m.action.value == "refund"]
    assert refund.items == 0b10  # the undelivered item alone
    assert ("anyone", "refund") not in _open(shipped, refund_at - 1)

    delivered = replace(shipped, status=OrderStatus.DELIVERED, delivered_items=0b11)
    assert {("buyer", "confirm_receipt"), ("buyer", "accept_settlement")} <= _open(delivered, 0)


def test_a_dispute_is_the_arbiter_s_until_its_deadline_then_anyone_applies_the_default() -> None:
    deadline = 3_000_000
    disputed = replace(FUNDED, status=OrderStatus.DISPUTED, carrier=1, dispute_deadline=deadline)

    assert ("arbiter", "resolve_dispute") in _open(disputed, deadline - 1)
    assert ("anyone", "resolve_expired_dispute") not in _open(disputed, deadline - 1)
    assert ("arbiter", "resolve_dispute") not in _open(disputed, deadline)
    assert ("anyone", "resolve_expired_dispute") in _open(disputed, deadline)
    assert ("buyer", "confirm_receipt") not in _open(disputed, 0)


def test_a_final_order_has_no_moves_and_no_deadlines() -> None:
    for status in (OrderStatus.RELEASED, OrderStatus.REFUNDED, OrderStatus.SETTLED):
        final = replace(FUNDED, status=status, offer=Offer(1, False, 2**40), recalled_items=1)
        assert (moves_open(final, 0), deadlines(final)) == ([], [])


def test_the_keeper_s_duties_are_anyone_s_moves_from_their_opening() -> None:
    recalled = replace(FUNDED, refunded_items=0b01, recalled_items=0b11, recalled_since=77)

    duties = {(d.duty, d.due_at, d.detail) for d in duties_of(recalled)}

    # The refunded item is not recalled again; a refund is due the second after ship-by.
    assert duties == {(KeeperDuty.REFUND, SHIP_BY + 1, ""), (KeeperDuty.REFUND_RECALLED, 77, "2")}


def test_a_release_is_a_duty_beside_a_recall_refund_the_chain_decides_which_runs_first() -> None:
    """The index's marks may be stale (an item registered again reads authentic): the keeper
    holds a release back only when the registry reads an open item recalled
    (``app.chain.recalled_items``, tested on Anvil), not because the index marked one."""
    delivered = replace(FUNDED, status=OrderStatus.DELIVERED, delivered_at=DELIVER_BY)
    recalled = replace(delivered, released_items=0b01, recalled_items=0b10, recalled_since=77)
    refunded = replace(recalled, refunded_items=0b10)

    def duties(order: OrderFacts) -> set[tuple[KeeperDuty, int]]:
        return {(d.duty, d.due_at) for d in duties_of(order)}

    release_at = DELIVER_BY + WINDOW
    assert duties(delivered) == {(KeeperDuty.RELEASE, release_at)}
    assert duties(recalled) == {(KeeperDuty.REFUND_RECALLED, 77), (KeeperDuty.RELEASE, release_at)}
    assert duties(refunded) == {(KeeperDuty.RELEASE, release_at)}
