"""`releaseDue`: many orders released in one call, each by exactly `release`'s rule and for exactly
what `release` pays it, the credits of a run of orders with one merchant and token written once.

Semantics under test: an order someone already decided or contested (released, refunded, settled,
disputed) is skipped with nothing emitted and nothing changed, so a party acting first never makes
the batch fail; any other order `release` would refuse (not due, not shipped, terms of no order,
a funder-paid order with undelivered items) reverts the whole call with `release`'s own error.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak

from tests.contracts.credit.helpers import reverts
from tests.contracts.escrow.conftest import OpenedOrder
from tests.contracts.escrow.helpers import (
    CARRIER,
    DAY,
    ETH,
    TERMS_ABI,
    LogisticsKind,
    OrderStatus,
    fee_of,
    h,
    update,
)

REENTRANT_CALL = keccak(text="ReentrancyGuardReentrantCall()")[:4]
MAX_UINT256 = 2**256 - 1


@pytest.fixture
def deliver(escrow: Any, oracle: Any) -> Callable[..., Any]:
    """The logistics oracle reports `orders` (all their items) delivered, in one batch."""

    def run(*orders: OpenedOrder) -> Any:
        updates = [update(o.id, LogisticsKind.DELIVERED) for o in orders]
        return escrow.reportLogistics(updates, sender=oracle)

    return run


@pytest.fixture
def due_order(
    escrow: Any,
    merchant: Any,
    shopper: Any,
    open_order: Callable[..., OpenedOrder],
    deliver: Callable[..., Any],
) -> Callable[..., OpenedOrder]:
    """An order of `shop` (the tests' merchant by default; an account, or a ReentrantReceiver
    acting through `execute`) opened with any terms overridden, shipped by it with the tests'
    carrier and reported delivered: due once its dispute window has run out (`travel`)."""

    def make(shop: Any = None, **overrides: Any) -> OpenedOrder:
        shop = shop or merchant
        order = open_order(merchant=shop.address, **overrides)
        shipping = (order.abi, CARRIER, h("track"))
        if hasattr(shop, "execute"):
            shop.execute(escrow, escrow.ship.encode_input(*shipping), sender=shopper)
        else:
            escrow.ship(*shipping, sender=shop)
        deliver(order)
        return order

    return make


def _raw_revert(error: BaseException) -> bytes:
    """The revert data of a raw ``eth_call`` the in-process EVM refused."""
    message = str(error).removeprefix("execution reverted: ")
    if message.startswith(("b'", 'b"')):
        return bytes(ast.literal_eval(message))
    return bytes.fromhex(message.removeprefix("0x"))


def _credits(escrow: Any, accounts: list[Any], tokens: list[str]) -> dict[tuple[str, str], int]:
    return {(a.address, t): int(escrow.creditOf(a, t)) for a in accounts for t in tokens}


def _delta(after: dict[Any, int], before: dict[Any, int]) -> dict[Any, int]:
    return {key: after[key] - before[key] for key in after if after[key] != before[key]}


def _released(tx: Any, escrow: Any) -> list[tuple[bytes, int, int, int]]:
    return [
        (bytes(e.orderId), int(e.items), int(e.merchantAmount), int(e.feeAmount))
        for e in tx.events.filter(escrow.OrderReleased)
    ]


# ------------------------------------------------------------------ pays what release pays


@pytest.mark.parametrize("paid_in", ["eth", "stable6"])
def test_a_batch_pays_exactly_what_single_releases_of_twin_orders_pay(
    paid_in: str,
    stable: Any,
    escrow: Any,
    due_order: Callable[..., OpenedOrder],
    register_item: Any,
    buyer: Any,
    merchant: Any,
    other_merchant: Any,
    fee_recipient: Any,
    shopper: Any,
    travel: Any,
) -> None:
    """Twin orders (same shapes, their own items): one of each released by `release`, one by one,
    the other all in one `releaseDue`. Each twin's event, and the credits altogether, match."""
    token, amount = (ETH, 10**18) if paid_in == "eth" else (str(stable.address), 250 * 10**6)
    odd = amount + 7  # not divisible by 3: the last item carries the rounding

    def shapes() -> list[OpenedOrder]:
        paid = {"token": token}
        partly = due_order(amount=odd, item_ids=(register_item(), register_item()), **paid)
        # The buyer confirmed one item already: only the other is left to release.
        escrow.releaseItems(partly.abi, 0b01, sender=buyer)
        return [
            due_order(amount=amount, **paid),
            due_order(amount=odd, **paid),
            due_order(amount=odd, item_ids=tuple(register_item() for _ in range(3)), **paid),
            partly,
            due_order(amount=amount, shop=other_merchant, **paid),
            due_order(amount=odd, **paid),
        ]

    singles, batched = shapes(), shapes()
    travel(2 * DAY)
    parties = [merchant, other_merchant, fee_recipient, shopper]
    tokens = [token]

    before = _credits(escrow, parties, tokens)
    single_events = []
    for order in singles:
        single_events += _released(escrow.release(order.abi, sender=shopper), escrow)
    single_paid = _delta(_credits(escrow, parties, tokens), before)

    before = _credits(escrow, parties, tokens)
    batch = escrow.releaseDue([o.abi for o in batched], sender=shopper)
    batch_paid = _delta(_credits(escrow, parties, tokens), before)

    batch_events = _released(batch, escrow)
    assert [e[1:] for e in batch_events] == [e[1:] for e in single_events]
    assert [e[0] for e in batch_events] == [o.id for o in batched]
    assert batch_paid == single_paid
    assert (shopper.address, token) not in batch_paid
    assert all(escrow.orderOf(o.id).status == OrderStatus.RELEASED for o in batched)
    # The shipped item orders record their sales in the registry, as a single release does.
    assert len(batch.events.filter(escrow.SaleRecorded)) == 2
    assert all(escrow.escrowedOf(o.abi) == 0 for o in batched)


def test_release_and_release_due_of_one_order_are_the_same_call(
    escrow: Any, due_order: Callable[..., OpenedOrder], shopper: Any, travel: Any
) -> None:
    order = due_order()
    travel(2 * DAY)

    assert escrow.releaseDue.call([order.abi], sender=shopper) == 1
    tx = escrow.releaseDue([order.abi], sender=shopper)

    [event] = tx.events.filter(escrow.OrderReleased)
    assert event.by == shopper.address
    fee = fee_of(order.terms.amount, order.terms.fee_bps)
    assert (event.items, event.merchantAmount, event.feeAmount) == (
        1,
        order.terms.amount - fee,
        fee,
    )


# ------------------------------------------------------------------ what is skipped


def test_orders_decided_or_contested_are_skipped_and_the_rest_released(
    escrow: Any,
    due_order: Callable[..., OpenedOrder],
    buyer: Any,
    merchant: Any,
    arbiter: Any,
    fee_recipient: Any,
    shopper: Any,
    asset: Any,
    travel: Any,
) -> None:
    due, front_run, refunded, disputed, settled = (due_order() for _ in range(5))
    escrow.cancel(refunded.abi, sender=merchant)
    escrow.dispute(disputed.abi, h("parcel empty"), sender=buyer)
    escrow.dispute(settled.abi, h("scratched"), sender=buyer)
    escrow.resolveDispute(settled.abi, 5_000, h("ruling"), sender=arbiter)
    travel(2 * DAY)
    # Someone releases one order of the batch first (a front-runner, or the merchant's own bot).
    escrow.release(front_run.abi, sender=merchant)
    batch = [due, front_run, refunded, disputed, settled, due]
    states = {o.id: tuple(escrow.orderOf(o.id)) for o in batch}
    before = _credits(escrow, [merchant, fee_recipient, buyer], [asset.token])

    assert escrow.releaseDue.call([o.abi for o in batch], sender=shopper) == 1
    tx = escrow.releaseDue([o.abi for o in batch], sender=shopper)

    assert [e[0] for e in _released(tx, escrow)] == [due.id]
    assert len(tx.events) == 1
    fee = fee_of(due.terms.amount, due.terms.fee_bps)
    assert _delta(_credits(escrow, [merchant, fee_recipient, buyer], [asset.token]), before) == {
        (merchant.address, asset.token): due.terms.amount - fee,
        (fee_recipient.address, asset.token): fee,
    }
    for order in (front_run, refunded, disputed, settled):
        assert tuple(escrow.orderOf(order.id)) == states[order.id]
    assert escrow.escrowedOf(disputed.abi) == disputed.terms.amount


def test_a_batch_of_nothing_but_skips_changes_nothing(
    escrow: Any, due_order: Callable[..., OpenedOrder], shopper: Any, travel: Any
) -> None:
    done = due_order()
    travel(2 * DAY)
    escrow.release(done.abi, sender=shopper)

    tx = escrow.releaseDue([done.abi, done.abi], sender=shopper)

    assert tx.events == []
    assert escrow.releaseDue.call([done.abi], sender=shopper) == 0


# ------------------------------------------------------------------ what reverts the batch


def test_an_order_not_yet_due_reverts_the_whole_batch_with_its_error(
    escrow: Any,
    due_order: Callable[..., OpenedOrder],
    deliver: Callable[..., Any],
    open_order: Callable[..., OpenedOrder],
    ship: Callable[..., Any],
    shopper: Any,
    travel: Any,
) -> None:
    due = due_order()
    travel(2 * DAY)
    late = open_order()
    ship(late)
    delivered = deliver(late)
    releasable_at = delivered.timestamp + late.terms.dispute_window

    with reverts(escrow.EscrowReleaseTooEarly, orderId=late.id, releasableAt=releasable_at):
        escrow.releaseDue([due.abi, late.abi], sender=shopper)

    assert escrow.orderOf(due.id).status == OrderStatus.DELIVERED
    assert escrow.escrowedOf(due.abi) == due.terms.amount


def test_an_order_not_shipped_reverts_the_batch_with_its_status(
    escrow: Any,
    due_order: Callable[..., OpenedOrder],
    open_order: Callable[..., OpenedOrder],
    shopper: Any,
    travel: Any,
) -> None:
    due, funded = due_order(), open_order()
    travel(2 * DAY)

    with reverts(escrow.EscrowInvalidStatus, orderId=funded.id, status=OrderStatus.FUNDED):
        escrow.releaseDue([due.abi, funded.abi], sender=shopper)
    assert escrow.orderOf(due.id).status == OrderStatus.DELIVERED


@pytest.mark.parametrize("field", ["merchant", "amount", "salt", "dispute_window", "item_ids"])
def test_terms_of_no_order_revert_the_batch_as_order_not_found(
    escrow: Any,
    due_order: Callable[..., OpenedOrder],
    shopper: Any,
    register_item: Any,
    travel: Any,
    field: str,
) -> None:
    """Decoy terms: a real due order's terms with one field changed hash to no order."""
    due = due_order()
    travel(2 * DAY)
    decoy = {
        "merchant": {"merchant": shopper.address},
        "amount": {"amount": due.terms.amount * 2},
        "salt": {"salt": due.terms.salt + 1},
        "dispute_window": {"dispute_window": 1},
        "item_ids": {"item_ids": (register_item(),)},
    }[field]
    fake = replace(due.terms, **decoy)

    with reverts(escrow.EscrowOrderNotFound, orderId=fake.order_id):
        escrow.releaseDue([due.abi, fake.as_abi()], sender=shopper)
    assert escrow.orderOf(due.id).status == OrderStatus.DELIVERED


def test_a_funder_paid_order_with_undelivered_items_reverts_the_batch(
    escrow: Any,
    open_order: Callable[..., OpenedOrder],
    due_order: Callable[..., OpenedOrder],
    ship: Callable[..., Any],
    funder: Any,
    register_item: Any,
    shopper: Any,
    chain: Any,
) -> None:
    """Shipped and never reported delivered: past deliver-by and the window a wallet order is
    released, a credit-paid one never (it is refunded instead)."""
    due = due_order()
    funded = open_order(payer=funder.address, item_ids=(register_item(), register_item()))
    ship(funded)
    chain.pending_timestamp = funded.terms.deliver_by + funded.terms.dispute_window

    with reverts(escrow.EscrowDeliveryUnproven, orderId=funded.id, undelivered=0b11):
        escrow.releaseDue([due.abi, funded.abi], sender=shopper)
    assert escrow.orderOf(due.id).status == OrderStatus.DELIVERED


def test_an_empty_batch_is_refused(escrow: Any, shopper: Any) -> None:
    with reverts(escrow.EscrowEmptyBatch):
        escrow.releaseDue([], sender=shopper)


def test_terms_encoded_another_way_find_no_order(
    escrow: Any, due_order: Callable[..., OpenedOrder], shopper: Any, chain: Any, travel: Any
) -> None:
    """The order id is hashed from the terms' calldata as sent: the same values encoded otherwise
    (the item list placed one word further) hash to no order, so nothing is released for them."""
    order = due_order()
    travel(2 * DAY)
    standard = encode([TERMS_ABI], [order.abi])
    words = [standard[i : i + 32] for i in range(0, len(standard), 32)]
    # Word 0 is the tuple's offset; word 12 is the offset of itemIds inside it (0x180).
    assert int.from_bytes(words[12], "big") == 0x180
    # The same values with a spare word before the item list (its offset 0x1a0): a valid encoding.
    moved = [*words[:12], (416).to_bytes(32, "big"), bytes(32), *words[13:]]
    selector = keccak(text=f"release({TERMS_ABI})")[:4]
    web3 = chain.provider.web3

    other_id = web3.eth.call(
        {"to": escrow.address, "data": keccak(text=f"orderIdOf({TERMS_ABI})")[:4] + b"".join(moved)}
    )
    assert other_id != order.id
    with pytest.raises(Exception) as refused:
        web3.eth.call(
            {"to": escrow.address, "from": shopper.address, "data": selector + b"".join(moved)}
        )
    not_found = keccak(text="EscrowOrderNotFound(bytes32)")[:4] + other_id
    assert _raw_revert(refused.value) == not_found
    # The standard encoding is the order.
    web3.eth.call({"to": escrow.address, "from": shopper.address, "data": selector + standard})


# ------------------------------------------------------------------ credits: runs and mixes


@pytest.fixture
def asset(eth_asset: Any) -> Any:
    """Tests that mix tokens pick them themselves; the rest run in ETH."""
    return eth_asset


def test_credits_across_mixed_merchants_and_tokens_are_each_orders_split(
    escrow: Any,
    due_order: Callable[..., OpenedOrder],
    stable: Any,
    merchant: Any,
    other_merchant: Any,
    fee_recipient: Any,
    shopper: Any,
    travel: Any,
) -> None:
    """Runs of one merchant and token are summed and written once; a change of either starts a new
    run, and a merchant met again later gets its next run added, never replaced."""
    stable_amount = 250 * 10**6 + 3
    plan = [
        (merchant, ETH, 10**18 + 1),
        (merchant, ETH, 3 * 10**17),
        (other_merchant, ETH, 10**18 + 9),
        (merchant, stable.address, stable_amount),
        (merchant, ETH, 7 * 10**17 + 13),
        (other_merchant, stable.address, stable_amount + 2),
        (other_merchant, stable.address, 41),
        (merchant, ETH, 10**18),
    ]
    orders = [due_order(shop=m, token=t, amount=a) for m, t, a in plan]
    travel(2 * DAY)
    parties = [merchant, other_merchant, fee_recipient, shopper]
    tokens = [ETH, stable.address]
    expected: Counter[tuple[str, str]] = Counter()
    for order in orders:
        fee = fee_of(order.terms.amount, order.terms.fee_bps)
        expected[(order.terms.merchant, order.terms.token)] += order.terms.amount - fee
        expected[(fee_recipient.address, order.terms.token)] += fee
    before = _credits(escrow, parties, tokens)

    tx = escrow.releaseDue([o.abi for o in orders], sender=shopper)

    assert _delta(_credits(escrow, parties, tokens), before) == dict(expected)
    events = _released(tx, escrow)
    assert [e[0] for e in events] == [o.id for o in orders]
    assert sum(e[2] + e[3] for e in events) == sum(a for _, _, a in plan)


# ------------------------------------------------------------------ no re-entry: nothing is sent


def test_a_batch_sends_nothing_so_a_receiver_cannot_reenter_and_its_withdraw_cannot_either(
    escrow: Any,
    project: Any,
    admin: Any,
    due_order: Callable[..., OpenedOrder],
    shopper: Any,
    chain: Any,
    travel: Any,
) -> None:
    receiver = project.ReentrantReceiver.deploy(sender=admin)
    paid, second = (due_order(shop=receiver) for _ in range(2))
    travel(2 * DAY)
    reenter = escrow.releaseDue.encode_input([second.abi])
    receiver.arm(escrow, reenter, sender=shopper)
    escrow_balance = chain.get_balance(escrow.address)

    escrow.releaseDue([paid.abi], sender=shopper)

    # Credits are pulled: the receiver was not called, and no ETH left the escrow.
    assert receiver.attempts() == 0
    assert chain.get_balance(escrow.address) == escrow_balance
    credit = int(escrow.creditOf(receiver, ETH))
    assert credit > 0
    # Its withdrawal pays it and its receive() tries the batch from inside: refused by the lock.
    receiver.execute(escrow, escrow.withdraw.encode_input(ETH), sender=shopper)
    assert receiver.attempts() == 1
    assert not receiver.lastSucceeded()
    assert bytes(receiver.lastResult()) == REENTRANT_CALL
    assert chain.get_balance(receiver.address) == credit
    assert escrow.orderOf(second.id).status == OrderStatus.DELIVERED
    escrow.releaseDue([second.abi], sender=shopper)
    assert escrow.creditOf(receiver, ETH) == credit


def test_a_token_that_reenters_on_transfer_is_never_called_by_a_batch(
    escrow: Any,
    project: Any,
    admin: Any,
    buyer: Any,
    merchant: Any,
    due_order: Callable[..., OpenedOrder],
    shopper: Any,
    travel: Any,
) -> None:
    token = project.ReentrantToken.deploy(sender=admin)
    escrow.setTokenAllowed(token, True, sender=admin)
    token.mint(buyer, 10**21, sender=buyer)
    token.approve(escrow, MAX_UINT256, sender=buyer)
    paid, second = (due_order(token=token.address, amount=10**18) for _ in range(2))
    travel(2 * DAY)
    token.arm(escrow, escrow.releaseDue.encode_input([second.abi]), sender=shopper)

    escrow.releaseDue([paid.abi], sender=shopper)

    assert token.attempts() == 0
    assert token.balanceOf(escrow) == 2 * 10**18
    # The merchant's withdrawal moves the token, which re-enters the batch: refused.
    escrow.withdraw(token, sender=merchant)
    assert token.attempts() == 1
    assert bytes(token.lastResult()) == REENTRANT_CALL
    assert escrow.orderOf(second.id).status == OrderStatus.DELIVERED


# ------------------------------------------------------------------ an attacker's batch


def test_an_attacker_batching_others_orders_gets_nothing_and_moves_nothing(
    escrow: Any,
    due_order: Callable[..., OpenedOrder],
    open_order: Callable[..., OpenedOrder],
    ship: Callable[..., Any],
    deliver: Callable[..., Any],
    merchant: Any,
    fee_recipient: Any,
    buyer: Any,
    shopper: Any,
    chain: Any,
    travel: Any,
) -> None:
    """A stranger includes someone else's order that is not due, and terms it made up that name
    itself as merchant of a real order's price: the call reverts and nothing moves. Sent with only
    due orders, it pays their merchants what is due anyway, and itself nothing."""
    attacker = shopper
    due = due_order()
    travel(2 * DAY)
    not_due = open_order()
    ship(not_due)
    delivered = deliver(not_due)
    not_due_at = delivered.timestamp + not_due.terms.dispute_window
    fabricated = replace(due.terms, merchant=attacker.address)
    parties = [merchant, fee_recipient, buyer, attacker]
    before = _credits(escrow, parties, [ETH])
    balance = chain.get_balance(escrow.address)

    refusals = [
        ([due.abi, not_due.abi], escrow.EscrowReleaseTooEarly, {"releasableAt": not_due_at}),
        ([fabricated.as_abi(), due.abi], escrow.EscrowOrderNotFound, {}),
        ([due.abi, fabricated.as_abi()], escrow.EscrowOrderNotFound, {}),
    ]
    for batch, error, arguments in refusals:
        blamed = not_due.id if error is escrow.EscrowReleaseTooEarly else fabricated.order_id
        with reverts(error, orderId=blamed, **arguments):
            escrow.releaseDue(batch, sender=attacker)
        assert _credits(escrow, parties, [ETH]) == before
        assert chain.get_balance(escrow.address) == balance
        assert escrow.orderOf(due.id).status == OrderStatus.DELIVERED
        assert escrow.orderOf(not_due.id).status == OrderStatus.DELIVERED

    escrow.releaseDue([due.abi], sender=attacker)

    fee = fee_of(due.terms.amount, due.terms.fee_bps)
    assert _delta(_credits(escrow, parties, [ETH]), before) == {
        (merchant.address, ETH): due.terms.amount - fee,
        (fee_recipient.address, ETH): fee,
    }
    assert escrow.creditOf(attacker, ETH) == 0
    assert chain.get_balance(escrow.address) == balance
    assert escrow.orderOf(not_due.id).status == OrderStatus.DELIVERED
