"""Hypothesis stateful test: random sequences of all that buyers, merchants, funders, two carriers,
the arbiter and strangers can do, with recalls and time jumps (the model is books.py).

After every step:
- the escrow's balance of each asset equals what it still owes: escrowed remainders of open
  orders plus unwithdrawn credits (both tracked from events, and cross-checked with views);
- every payout is exactly the shares of its items; no order pays out after it became final or
  more than its deposit, and a final order's payer + merchant + fee payouts equal its deposit;
- a funder-paid order pays the merchant only for delivered items (or by ruling); its timeout
  refunds in full while goods are undelivered;
- the registry holds exactly the items of open and sold orders (an item is in one order), and
  records Sold exactly for items released after a carrier was named; a report naming another
  carrier than the order's is rejected, never applied.
A refusal must be one of the contracts' custom errors (never a panic); `open` must succeed
exactly when its items are free, authentic and listed once.
"""

from __future__ import annotations

from typing import Any

from ape.exceptions import ContractLogicError
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

from harness.campaign import examples
from tests.contracts.escrow.books import Books, error_namer, having
from tests.contracts.escrow.helpers import (
    BPS,
    CARRIER,
    DAY,
    ETH,
    FINAL,
    HOUR,
    OTHER_CARRIER,
    LogisticsKind,
    OrderStatus,
    Terms,
    encode_error,
    h,
    update,
)

STEPS = examples(short=35, long=60)
# A smoke of the state machine in make test; make test-long runs the campaign (200 examples).
EXAMPLES = examples(short=2, long=200)
ROLES = ("buyer", "merchant", "stranger")
CARRIERS = st.sampled_from([CARRIER, CARRIER, OTHER_CARRIER])
OPEN = {OrderStatus.FUNDED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.DISPUTED}
UNDISPUTED = {OrderStatus.FUNDED, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
SENT = {OrderStatus.SHIPPED, OrderStatus.DELIVERED}
WRONG_CARRIER = "EscrowWrongCarrier(bytes32,uint16,uint16)"
CHAOS = ("ship", "confirm", "release", "cancel", "dispute", "timeout", "recall")


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
    # The shortest arbitration period, so time jumps reach arbitration timeouts within a run.
    escrow.setArbitrationPeriod(DAY, sender=admin)
    accounts = {"buyer": buyer, "merchant": merchant, "stranger": shopper}
    fee_bps = int(escrow.feeBps())
    salts = iter(range(10**9))
    clocks = [0]
    error_name = error_namer(escrow, registry)

    class EscrowMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            self.books = Books(fee_recipient.address)
            self.status: dict[bytes, OrderStatus] = {}
            self.items: list[bytes] = []
            # The machine's own clock, set on every transaction: outcomes at deadline edges must
            # not depend on how long the wall clock took, or Hypothesis cannot replay an example.
            # Each example starts past the last one's clock: after a restore the provider may
            # still report the old pending time and skip a time travel that equals it.
            self.clock = max(int(chain.blocks.head.timestamp), clocks[-1]) + 60

        def teardown(self) -> None:
            clocks.append(self.clock)
            chain.restore(self.snapshot)

        # -------------------------------------------------------------- plumbing

        def tick(self) -> None:
            """Every transaction, the machine's own included, is mined at the machine's clock."""
            self.clock += 1
            chain.pending_timestamp = self.clock

        def attempt(self, call: Any, touched: bytes | None = None) -> Any:
            self.tick()
            try:
                tx = call()
            except ContractLogicError as error:
                name = error_name(error)
                assert name.startswith(("Escrow", "Registry")), f"refused oddly: {error!r}"
                return None
            assert chain.blocks.head.timestamp == self.clock, "the machine's clock did not hold"
            self.books.apply(tx, escrow, registry)
            if touched is not None:
                self.check_order(touched)
            return tx

        def check_order(self, order_id: bytes) -> None:
            book = self.books.orders[order_id]
            status = OrderStatus(escrow.orderOf(order_id).status)
            self.status[order_id] = status
            left = book.terms.amount - sum(book.paid)
            if status in FINAL:
                assert left == 0 and book.open_items == 0, "final order still owes"
            assert escrow.escrowedOf(book.terms.as_abi()) == (0 if status in FINAL else left)
            assert escrow.payerCreditOf(book.terms.as_abi()) == book.paid[0]

        def pick(self, data: st.DataObject, statuses: set[OrderStatus]) -> Terms:
            # Orders in the order they were opened, picked by a draw of fixed shape.
            candidates = [i for i, s in self.status.items() if s in statuses]
            order_id = candidates[data.draw(st.integers(0, 255)) % len(candidates)]
            return self.books.orders[order_id].terms

        def report(self, terms: Terms, kind: LogisticsKind, carrier: int, items: int = 0) -> None:
            batch = [update(terms.order_id, kind, items, carrier=carrier)]
            assigned = self.books.orders[terms.order_id].carrier
            tx = self.attempt(lambda: escrow.reportLogistics(batch, sender=oracle), terms.order_id)
            assert tx is not None, "a logistics batch reverted"
            rejected = tx.events.filter(escrow.LogisticsUpdateRejected)
            if carrier != assigned:
                wrong = encode_error(WRONG_CARRIER, terms.order_id, carrier, assigned)
                assert [bytes(e.reason) for e in rejected] == [wrong]

        # -------------------------------------------------------------- opening

        @precondition(lambda self: sum(s in OPEN for s in self.status.values()) < 4)
        @rule(
            asset=st.sampled_from([ETH, "stable"]),
            picks=st.lists(st.integers(0, 255), max_size=3),
            fresh=st.booleans(),
            extra=st.integers(0, 10**6),
            by_funder=st.booleans(),
        )
        def open(
            self, asset: str, picks: list[int], fresh: bool, extra: int, by_funder: bool
        ) -> None:
            """Fresh items, or items of earlier orders (held, sold, recalled or free again); at
            most four open orders, so that steps go to moving them rather than opening more."""
            if fresh or not self.items:
                chosen = []
                for _ in picks:
                    self.tick()
                    chosen.append(register_item())
                self.items += chosen
            else:
                chosen = [self.items[p % len(self.items)] for p in picks]
            token = ETH if asset == ETH else str(stable.address)
            terms = Terms(
                buyer=buyer.address,
                merchant=merchant.address,
                payer=funder.address if by_funder else buyer.address,
                token=token,
                amount=(10**18 if token == ETH else 100 * 10**6) + extra,
                ship_by=self.clock + 3 * DAY,
                deliver_by=self.clock + 5 * DAY,
                dispute_window=DAY,
                fee_bps=fee_bps,
                order_ref=h("sku"),
                salt=next(salts),
                item_ids=tuple(chosen),
            )
            value = terms.amount if token == ETH else 0
            opener = escrow.openFor if by_funder else escrow.open
            sender = funder if by_funder else buyer
            tx = self.attempt(lambda: opener(terms.as_abi(), value=value, sender=sender))
            books = self.books
            free = not any(i in books.holder or i in books.recalled for i in chosen)
            assert (tx is not None) == (free and len(set(chosen)) == len(chosen))
            if tx is not None:
                books.opened(terms)
                self.check_order(terms.order_id)

        @initialize(by_funder=st.booleans(), count=st.integers(0, 3), shipped=st.booleans())
        def first_order(self, by_funder: bool, count: int, shipped: bool) -> None:
            self.open("stable", [0] * count, True, 3, by_funder)
            abi, order_id = (t := list(self.books.orders.values())[-1].terms).as_abi(), t.order_id
            if shipped:
                self.attempt(lambda: escrow.ship(abi, CARRIER, h("t"), sender=merchant), order_id)

        # -------------------------------------------------------------- carriers and logistics

        @having(OrderStatus.FUNDED)
        @rule(
            data=st.data(),
            carrier=CARRIERS,
            how=st.sampled_from(["ship", "ship", "assign", "pickup"]),
        )
        def ship(self, data: st.DataObject, carrier: int, how: str) -> None:
            """The merchant names a carrier, or ships; or a carrier reports the pickup."""
            terms = self.pick(data, {OrderStatus.FUNDED})
            abi = terms.as_abi()
            if how == "pickup":
                self.report(terms, LogisticsKind.SHIPPED, carrier)
                return
            if how == "ship":
                call = lambda: escrow.ship(abi, carrier, h("t"), sender=merchant)  # noqa: E731
            else:
                call = lambda: escrow.assignCarrier(abi, carrier, sender=merchant)  # noqa: E731
            if self.attempt(call, terms.order_id) is not None:
                assert self.books.orders[terms.order_id].carrier == carrier

        @having(OrderStatus.FUNDED, OrderStatus.SHIPPED)
        @rule(data=st.data(), carrier=CARRIERS, items=st.sampled_from([0, 0, 1, 2, 4]))
        def deliver(self, data: st.DataObject, carrier: int, items: int) -> None:
            terms = self.pick(data, {OrderStatus.FUNDED, OrderStatus.SHIPPED})
            self.report(terms, LogisticsKind.DELIVERED, carrier, items)

        # -------------------------------------------------------------- releases and refunds

        @having(*UNDISPUTED)
        @rule(data=st.data(), who=st.sampled_from(ROLES), items=st.integers(-1, 7))
        def release(self, data: st.DataObject, who: str, items: int) -> None:
            """The buyer confirms all (items 0) or some items, others release delivered items;
            or anyone releases the remainder after the window (items -1)."""
            terms, sender = self.pick(data, UNDISPUTED), accounts[who]
            abi = terms.as_abi()
            if items < 0:
                call = lambda: escrow.release(abi, sender=sender)  # noqa: E731
            elif items == 0:
                call = lambda: escrow.confirmReceipt(abi, sender=sender)  # noqa: E731
            else:
                call = lambda: escrow.releaseItems(abi, items, sender=sender)  # noqa: E731
            self.attempt(call, terms.order_id)

        @having(*OPEN)
        @rule(data=st.data(), who=st.sampled_from(ROLES))
        def cancel(self, data: st.DataObject, who: str) -> None:
            terms, sender = self.pick(data, OPEN), accounts[who]
            self.attempt(lambda: escrow.cancel(terms.as_abi(), sender=sender), terms.order_id)

        @precondition(lambda self: any(i not in self.books.recalled for i in self.items))
        @rule(data=st.data())
        def recall(self, data: st.DataObject) -> None:
            """The merchant recalls one of its items, in an order or not."""
            live = [i for i in self.items if i not in self.books.recalled]
            item = live[data.draw(st.integers(0, 255)) % len(live)]
            self.tick()
            registry.recallItem(item, h("recall"), sender=merchant)
            self.books.recalled.add(item)

        @having(*OPEN)
        @rule(data=st.data(), who=st.sampled_from(ROLES), items=st.integers(-1, 7))
        def refund_recalled(self, data: st.DataObject, who: str, items: int) -> None:
            """Anyone asks a refund of some items (-1: of every recalled item of the order)."""
            terms, sender = self.pick(data, OPEN), accounts[who]
            if items < 0:
                recalled = self.books.recalled
                items = sum(1 << i for i, item in enumerate(terms.item_ids) if item in recalled)
            self.attempt(
                lambda: escrow.refundRecalled(terms.as_abi(), items, sender=sender),
                terms.order_id,
            )

        # -------------------------------------------------------------- disputes and offers

        @having(*SENT)
        @rule(data=st.data(), carrier=CARRIERS, by_buyer=st.booleans())
        def dispute(self, data: st.DataObject, carrier: int, by_buyer: bool) -> None:
            """The buyer disputes, or a carrier reports a broken condition."""
            terms = self.pick(data, SENT)
            if not by_buyer:
                self.report(terms, LogisticsKind.CONDITION_BREACHED, carrier)
                return
            abi = terms.as_abi()
            self.attempt(lambda: escrow.dispute(abi, h("e"), sender=buyer), terms.order_id)

        @having(OrderStatus.DISPUTED)
        @rule(
            data=st.data(),
            who=st.sampled_from(ROLES),
            step=st.sampled_from(["evidence", "ruling", "timeout"]),
            bps=st.integers(0, BPS),
        )
        def arbitration(self, data: st.DataObject, who: str, step: str, bps: int) -> None:
            """A party adds evidence, the arbiter rules, or anyone applies the timeout."""
            terms = self.pick(data, {OrderStatus.DISPUTED})
            abi, sender = terms.as_abi(), accounts[who]
            calls = {
                "evidence": lambda: escrow.submitEvidence(abi, h("e"), sender=sender),
                "ruling": lambda: escrow.resolveDispute(abi, bps, h("r"), sender=arbiter),
                "timeout": lambda: escrow.resolveExpiredDispute(abi, sender=shopper),
            }
            self.attempt(calls[step], terms.order_id)

        @having(*OPEN)
        @rule(
            data=st.data(),
            who=st.sampled_from(ROLES),
            bps=st.integers(0, BPS),
            ttl=st.sampled_from([HOUR, 2 * DAY]),
            withdraw=st.booleans(),
        )
        def offer(self, data: st.DataObject, who: str, bps: int, ttl: int, withdraw: bool) -> None:
            terms, sender = self.pick(data, OPEN), accounts[who]
            abi = terms.as_abi()
            if withdraw:
                call = lambda: escrow.withdrawOffer(abi, sender=sender)  # noqa: E731
            else:
                expires = self.clock + 1 + ttl
                call = lambda: escrow.offerSettlement(abi, bps, expires, sender=sender)  # noqa: E731
            self.attempt(call, terms.order_id)

        @having(*OPEN)
        @rule(data=st.data(), who=st.sampled_from(ROLES), matching=st.booleans())
        def accept(self, data: st.DataObject, who: str, matching: bool) -> None:
            terms, sender = self.pick(data, OPEN), accounts[who]
            bps = int(escrow.offerOf(terms.order_id).buyerBps) if matching else 1
            self.attempt(
                lambda: escrow.acceptSettlement(terms.as_abi(), bps, sender=sender),
                terms.order_id,
            )

        # -------------------------------------------------------------- anything, time, money

        @precondition(lambda self: bool(self.status))
        @rule(data=st.data(), action=st.sampled_from(CHAOS), who=st.sampled_from(ROLES))
        def anything_on_any_order(self, data: st.DataObject, action: str, who: str) -> None:
            """Any call on any order, final ones included: refusals must leave the books intact."""
            terms = self.pick(data, set(OrderStatus))
            abi, sender = terms.as_abi(), accounts[who]
            calls = {
                "ship": lambda: escrow.ship(abi, CARRIER, h("t"), sender=sender),
                "confirm": lambda: escrow.confirmReceipt(abi, sender=sender),
                "release": lambda: escrow.release(abi, sender=sender),
                "cancel": lambda: escrow.cancel(abi, sender=sender),
                "dispute": lambda: escrow.dispute(abi, h("e"), sender=sender),
                "timeout": lambda: escrow.resolveExpiredDispute(abi, sender=sender),
                "recall": lambda: escrow.refundRecalled(abi, 1, sender=sender),
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
            assert chain.get_balance(escrow.address) == self.books.owed(ETH)
            assert stable.balanceOf(escrow) == self.books.owed(str(stable.address))

        @invariant()
        def registry_holds_exactly_the_items_of_open_and_sold_orders(self) -> None:
            for item in self.items:
                held = bool(registry.itemOf(item).held)
                assert held == (item in self.books.holder), "the registry's hold is out of step"

    run_state_machine_as_test(
        EscrowMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
