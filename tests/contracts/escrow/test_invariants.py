"""Hypothesis stateful test: random sequences of everything buyers, merchants, the oracle, the
arbiter and strangers can do, with time jumps, checking the books after every step.

After every step:
- the escrow's balance of each asset equals what it still owes: escrowed remainders of open
  orders plus unwithdrawn credits (both tracked here from events, and cross-checked with views);
- no order is paid out after it became final, and none pays out more than its deposit;
- a final order's payer + merchant + fee payouts equal its deposit exactly.
A refused step must be refused with one of the escrow's own custom errors (never a panic).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ape.exceptions import ContractLogicError
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.contracts.escrow.helpers import (
    BPS,
    DAY,
    ETH,
    FINAL,
    HOUR,
    LogisticsKind,
    OrderStatus,
    Terms,
    h,
    update,
)
from tests.support.campaign import examples

STEPS = examples(short=35, long=60)
EXAMPLES = examples(short=10, long=200)
ITEM_POOL = 3
ROLES = ("buyer", "merchant", "stranger")
OPEN = {OrderStatus.FUNDED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.DISPUTED}
UNDISPUTED = {OrderStatus.FUNDED, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
SENT = {OrderStatus.SHIPPED, OrderStatus.DELIVERED}
CHAOS = ("ship", "confirm", "release", "cancel", "dispute", "timeout", "recall")


def having(*statuses: OrderStatus) -> Any:
    """Runs a rule only when some order is in one of `statuses`."""
    wanted = set(statuses)
    return precondition(lambda machine: any(s in wanted for s in machine.status.values()))


@dataclass
class Books:
    """What the escrow owes, rebuilt from its events alone."""

    terms: dict[bytes, Terms] = field(default_factory=dict)
    paid: dict[bytes, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    final: set[bytes] = field(default_factory=set)
    credits: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def remainder(self, order_id: bytes) -> int:
        return self.terms[order_id].amount - sum(self.paid[order_id])

    def owed(self, token: str) -> int:
        escrowed = sum(self.remainder(i) for i, t in self.terms.items() if t.token == token)
        return escrowed + sum(v for (_, tok), v in self.credits.items() if tok == token)


def test_books_balance_under_random_sequences(
    escrow: Any,
    admin: Any,
    stable: Any,
    registry: Any,
    chain: Any,
    buyer: Any,
    merchant: Any,
    oracle: Any,
    arbiter: Any,
    funder: Any,
    fee_recipient: Any,
    shopper: Any,
    register_item: Any,
) -> None:
    items = [register_item() for _ in range(ITEM_POOL)]
    # The shortest arbitration period, so time jumps reach arbitration timeouts within a run.
    escrow.setArbitrationPeriod(DAY, sender=admin)
    accounts = {"buyer": buyer, "merchant": merchant, "stranger": shopper}
    fee_bps = int(escrow.feeBps())
    fee_to = fee_recipient.address
    salts = iter(range(10**9))

    selectors = {keccak(text=e.selector)[:4]: e.name for e in escrow.contract_type.errors}

    def error_name(error: ContractLogicError) -> str:
        """The escrow error's name; Ape sometimes leaves a custom error undecoded (raw bytes)."""
        name = type(error).__name__
        message = str(error.message or "")
        if name != "ContractLogicError" or not message.startswith(("b'", 'b"')):
            return name
        return selectors.get(ast.literal_eval(message)[:4], name)

    def balance(token: str) -> int:
        if token == ETH:
            return int(chain.get_balance(escrow.address))
        return int(stable.balanceOf(escrow))

    class EscrowMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            self.books = Books()
            self.status: dict[bytes, OrderStatus] = {}
            # The machine's own clock, set on every transaction: outcomes at deadline edges must
            # not depend on how long the wall clock took, or Hypothesis cannot replay an example.
            self.clock = int(chain.blocks.head.timestamp) + 60

        def teardown(self) -> None:
            chain.restore(self.snapshot)

        # -------------------------------------------------------------- plumbing

        def attempt(self, call: Any, touched: bytes | None = None) -> Any:
            self.clock += 1
            chain.pending_timestamp = self.clock
            try:
                tx = call()
            except ContractLogicError as error:
                name = error_name(error)
                assert name.startswith("Escrow"), f"refused without an escrow error: {error!r}"
                return None
            assert chain.blocks.head.timestamp == self.clock, "the machine's clock did not hold"
            self.apply(tx)
            if touched is not None:
                self.check_order(touched)
            return tx

        def apply(self, tx: Any) -> None:
            books = self.books
            for event in tx.events:
                if event.contract_address != escrow.address:
                    continue
                name = event.event_name
                if name in ("OrderReleased", "OrderRefunded", "OrderSettled"):
                    order_id = bytes(event.orderId)
                    assert order_id not in books.final, "order paid out after it was final"
                    terms = books.terms[order_id]
                    payer = event.payerAmount if name != "OrderReleased" else 0
                    net = event.merchantAmount if name != "OrderRefunded" else 0
                    fee = event.feeAmount if name != "OrderRefunded" else 0
                    paid = books.paid[order_id]
                    paid[0] += payer
                    paid[1] += net
                    paid[2] += fee
                    assert sum(paid) <= terms.amount, "order paid out more than its deposit"
                    books.credits[(terms.payer, terms.token)] += payer
                    books.credits[(terms.merchant, terms.token)] += net
                    books.credits[(fee_to, terms.token)] += fee
                elif name == "Withdrawn":
                    key = (event.account, event.token)
                    assert event.amount == books.credits[key], "withdrawal differs from credit"
                    books.credits[key] = 0

        def check_order(self, order_id: bytes) -> None:
            terms = self.books.terms[order_id]
            status = OrderStatus(escrow.orderOf(order_id).status)
            self.status[order_id] = status
            if status in FINAL:
                assert sum(self.books.paid[order_id]) == terms.amount
                self.books.final.add(order_id)
            assert escrow.escrowedOf(terms.as_abi()) == (
                0 if status in FINAL else self.books.remainder(order_id)
            )

        # -------------------------------------------------------------- rules

        @rule(
            asset=st.sampled_from([ETH, "stable"]),
            item_count=st.integers(0, ITEM_POOL),
            extra=st.integers(0, 10**6),
            by_funder=st.booleans(),
        )
        def open(self, asset: str, item_count: int, extra: int, by_funder: bool) -> None:
            token = ETH if asset == ETH else str(stable.address)
            base = 10**18 if token == ETH else 100 * 10**6
            now = self.clock
            terms = Terms(
                buyer=buyer.address,
                merchant=merchant.address,
                payer=funder.address if by_funder else buyer.address,
                token=token,
                amount=base + extra,
                ship_by=now + 3 * DAY,
                deliver_by=now + 5 * DAY,
                dispute_window=DAY,
                fee_bps=fee_bps,
                order_ref=h("sku"),
                salt=next(salts),
                item_ids=tuple(items[:item_count]),
            )
            value = terms.amount if token == ETH else 0
            self.books.terms[terms.order_id] = terms
            if by_funder:
                call = lambda: escrow.openFor(terms.as_abi(), value=value, sender=funder)  # noqa: E731
            else:
                call = lambda: escrow.open(terms.as_abi(), value=value, sender=buyer)  # noqa: E731
            if self.attempt(call, terms.order_id) is None:
                del self.books.terms[terms.order_id]

        @initialize(item_count=st.integers(0, ITEM_POOL))
        def open_eth(self, item_count: int) -> None:
            self.open(ETH, item_count, 1, False)

        @initialize(item_count=st.integers(0, ITEM_POOL), by_funder=st.booleans())
        def open_stable(self, item_count: int, by_funder: bool) -> None:
            self.open("stable", item_count, 3, by_funder)

        def pick(self, data: st.DataObject, statuses: set[OrderStatus]) -> Terms:
            # Orders in the order they were opened, picked by a draw of fixed shape.
            candidates = [i for i, s in self.status.items() if s in statuses]
            return self.books.terms[candidates[data.draw(st.integers(0, 255)) % len(candidates)]]

        @having(OrderStatus.FUNDED)
        @rule(data=st.data(), by_oracle=st.booleans())
        def ship(self, data: st.DataObject, by_oracle: bool) -> None:
            terms = self.pick(data, {OrderStatus.FUNDED})
            if by_oracle:
                call = lambda: escrow.reportLogistics(  # noqa: E731
                    [update(terms.order_id, LogisticsKind.SHIPPED)], sender=oracle
                )
            else:
                call = lambda: escrow.ship(terms.as_abi(), h("t"), sender=merchant)  # noqa: E731
            self.attempt(call, terms.order_id)

        @having(OrderStatus.SHIPPED)
        @rule(data=st.data(), bits=st.sampled_from([0, 0, 1, 2, 4]))
        def deliver(self, data: st.DataObject, bits: int) -> None:
            terms = self.pick(data, {OrderStatus.SHIPPED})
            batch = [update(terms.order_id, LogisticsKind.DELIVERED, bits)]
            self.attempt(lambda: escrow.reportLogistics(batch, sender=oracle), terms.order_id)

        @having(*SENT)
        @rule(data=st.data())
        def breach(self, data: st.DataObject) -> None:
            terms = self.pick(data, SENT)
            batch = [update(terms.order_id, LogisticsKind.CONDITION_BREACHED)]
            self.attempt(lambda: escrow.reportLogistics(batch, sender=oracle), terms.order_id)

        @having(*SENT)
        @rule(data=st.data(), who=st.sampled_from(ROLES))
        def release(self, data: st.DataObject, who: str) -> None:
            terms, sender = self.pick(data, SENT), accounts[who]
            self.attempt(lambda: escrow.release(terms.as_abi(), sender=sender), terms.order_id)

        @having(*UNDISPUTED)
        @rule(data=st.data(), who=st.sampled_from(ROLES), bits=st.integers(0, 7))
        def confirm(self, data: st.DataObject, who: str, bits: int) -> None:
            """The buyer confirms all (bits 0) or some items; others release delivered items."""
            terms, sender = self.pick(data, UNDISPUTED), accounts[who]
            abi = terms.as_abi()
            if bits == 0:
                call = lambda: escrow.confirmReceipt(abi, sender=sender)  # noqa: E731
            else:
                call = lambda: escrow.releaseItems(abi, bits, sender=sender)  # noqa: E731
            self.attempt(call, terms.order_id)

        @having(*OPEN)
        @rule(data=st.data(), who=st.sampled_from(ROLES))
        def cancel(self, data: st.DataObject, who: str) -> None:
            terms, sender = self.pick(data, OPEN), accounts[who]
            self.attempt(lambda: escrow.cancel(terms.as_abi(), sender=sender), terms.order_id)

        @having(*SENT)
        @rule(data=st.data())
        def dispute(self, data: st.DataObject) -> None:
            terms = self.pick(data, SENT)
            self.attempt(
                lambda: escrow.dispute(terms.as_abi(), h("e"), sender=buyer), terms.order_id
            )

        @having(OrderStatus.DISPUTED)
        @rule(data=st.data(), who=st.sampled_from(ROLES))
        def evidence(self, data: st.DataObject, who: str) -> None:
            terms, sender = self.pick(data, {OrderStatus.DISPUTED}), accounts[who]
            self.attempt(
                lambda: escrow.submitEvidence(terms.as_abi(), h("e"), sender=sender),
                terms.order_id,
            )

        @having(OrderStatus.DISPUTED)
        @rule(data=st.data(), bps=st.integers(0, BPS))
        def arbitrate(self, data: st.DataObject, bps: int) -> None:
            terms = self.pick(data, {OrderStatus.DISPUTED})
            self.attempt(
                lambda: escrow.resolveDispute(terms.as_abi(), bps, h("r"), sender=arbiter),
                terms.order_id,
            )

        @having(OrderStatus.DISPUTED)
        @rule(data=st.data())
        def arbitration_timeout(self, data: st.DataObject) -> None:
            terms = self.pick(data, {OrderStatus.DISPUTED})
            self.attempt(
                lambda: escrow.resolveExpiredDispute(terms.as_abi(), sender=shopper),
                terms.order_id,
            )

        @having(*OPEN)
        @rule(data=st.data(), who=st.sampled_from(ROLES), bps=st.integers(0, BPS))
        def offer(self, data: st.DataObject, who: str, bps: int) -> None:
            terms, sender = self.pick(data, OPEN), accounts[who]
            self.attempt(
                lambda: escrow.offerSettlement(terms.as_abi(), bps, sender=sender), terms.order_id
            )

        @having(*OPEN)
        @rule(data=st.data(), who=st.sampled_from(ROLES), matching=st.booleans())
        def accept(self, data: st.DataObject, who: str, matching: bool) -> None:
            terms, sender = self.pick(data, OPEN), accounts[who]
            bps = int(escrow.offerOf(terms.order_id).buyerBps) if matching else 1
            self.attempt(
                lambda: escrow.acceptSettlement(terms.as_abi(), bps, sender=sender),
                terms.order_id,
            )

        @precondition(lambda self: bool(self.status))
        @rule(data=st.data(), action=st.sampled_from(CHAOS), who=st.sampled_from(ROLES))
        def anything_on_any_order(self, data: st.DataObject, action: str, who: str) -> None:
            """Any call on any order, final ones included: refusals must leave the books intact."""
            terms = self.pick(data, set(OrderStatus))
            abi, sender = terms.as_abi(), accounts[who]
            calls = {
                "ship": lambda: escrow.ship(abi, h("t"), sender=sender),
                "confirm": lambda: escrow.confirmReceipt(abi, sender=sender),
                "release": lambda: escrow.release(abi, sender=sender),
                "cancel": lambda: escrow.cancel(abi, sender=sender),
                "dispute": lambda: escrow.dispute(abi, h("e"), sender=sender),
                "timeout": lambda: escrow.resolveExpiredDispute(abi, sender=sender),
                "recall": lambda: escrow.refundRecalled(abi, 0, sender=sender),
            }
            self.attempt(calls[action], terms.order_id)

        @rule(seconds=st.sampled_from([HOUR, DAY, 2 * DAY]))
        def travel(self, seconds: int) -> None:
            self.clock += seconds

        @precondition(lambda self: any(self.books.credits.values()))
        @rule(
            who=st.sampled_from(["buyer", "merchant", "funder", "fee"]),
            asset=st.sampled_from([ETH, "stable"]),
        )
        def withdraw(self, who: str, asset: str) -> None:
            account = {**accounts, "funder": funder, "fee": fee_recipient}[who]
            token = ETH if asset == ETH else str(stable.address)
            tx = self.attempt(lambda: escrow.withdraw(token, sender=account))
            if tx is None:
                assert self.books.credits[(account.address, token)] == 0
                assert escrow.creditOf(account, token) == 0

        # -------------------------------------------------------------- invariants

        @invariant()
        def balance_equals_what_is_owed(self) -> None:
            for token in (ETH, str(stable.address)):
                assert balance(token) == self.books.owed(token)

    run_state_machine_as_test(
        EscrowMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
