"""Hypothesis stateful test: random applications, draws (item orders and wallet), deliveries and
releases, cancels, recalls with partial refunds, incremental refund settlements, repayments,
impairments (a stranger's accrue), write-offs, deposits, queued redemptions and claims, pauses and
time jumps, checking after every step:

- a draw never takes principal above the limit, and principal never exceeds the larger of the
  limit and what was owed when a re-application lowered the limit;
- the books balance: vault assets = idle cash + principal lent - impaired - income still locked;
  lent (rebuilt from events) = the sum of the lines' pool principal (not written off); impaired =
  the sum of the principal of lines whose late fee was charged (rebuilt from events) and that are
  not written off;
- the queue: queued assets = the sum of the requests' values at request and queued shares = the
  vault's own share balance; cash owed to the queue is never lent; a claim pays at most the value
  at request; lenders' claims never exceed the vault's assets;
- interest never goes negative: between payments, what a line owes in interest never falls;
- the lines contract holds exactly the refunds the escrow credited and settleRefund has not
  applied yet (rebuilt from the escrow's and the lines' events).
A refused step must be refused with one of the contracts' own custom errors (never a panic).
"""

from __future__ import annotations

import ast
import time
from collections import Counter, defaultdict
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

from app.domain.vocab import LogisticsKind
from harness.campaign import examples
from tests.contracts.credit.conftest import CARRIER
from tests.contracts.credit.helpers import DAY, USD, LineStatus
from tests.contracts.escrow.helpers import FINAL, Terms, h

# A smoke of the state machine in make test; make test-long runs the campaign (200 examples).
EXAMPLES = examples(short=2, long=200)
STEPS = examples(short=30, long=60)
HOUR = 3_600
ERROR_PREFIXES = (
    "Credit",
    "Attestation",
    "Escrow",
    "Registry",
    "ERC4626",
    "ERC20",
    "EnforcedPause",
    "ExpectedPause",
)


def test_credit_books_balance_under_random_sequences(
    project: Any,
    lines: Any,
    vault: Any,
    escrow: Any,
    registry: Any,
    stable: Any,
    attestations: Any,
    admin: Any,
    merchant: Any,
    shopper: Any,
    logistics_oracle: Any,
    chain: Any,
    borrower: Any,
    other_borrower: Any,
    lender: Any,
    other_lender: Any,
    attest: Any,
    credit_terms: Any,
) -> None:
    borrowers = {"a": borrower, "b": other_borrower}
    lenders = {"l1": lender, "l2": other_lender}
    borrower_list = [b.address for b in borrowers.values()]
    lender_list = [a.address for a in lenders.values()]
    lens = project.CreditBooksLens.deploy(sender=admin)
    seen: Counter[str] = Counter()
    set_version = int(attestations.attesterSetVersion())
    stable.mint(other_lender, 10**12, sender=other_lender)
    stable.approve(vault, 2**256 - 1, sender=other_lender)
    selectors = {
        keccak(text=e.selector)[:4]: e.name
        for contract in (lines, vault, escrow, attestations, registry)
        for e in contract.contract_type.errors
    }

    def error_name(error: ContractLogicError) -> str:
        """The error's name; Ape leaves errors raised by a callee undecoded (raw bytes)."""
        name = type(error).__name__
        message = str(error.message or "")
        if name != "ContractLogicError":
            return name
        if message.startswith(("b'", 'b"')):
            return selectors.get(ast.literal_eval(message)[:4], name)
        if message.startswith("0x"):
            return selectors.get(bytes.fromhex(message[2:10]), name)
        return name

    class CreditMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            self.out = int(vault.lentAssets())  # principal lent out, from events
            self.allowed = dict.fromkeys(borrowers, 0)
            self.last_interest = dict.fromkeys(borrowers, 0)
            self.principal = dict.fromkeys(borrowers, 0)
            self.impaired = dict.fromkeys(borrowers, False)  # late fee charged, from events
            self.paid: set[str] = set()
            # Open orders, insertion-ordered so picks by index replay identically.
            self.orders: dict[bytes, tuple[Terms, str]] = {}
            self.terms: dict[bytes, Terms] = {}
            self.refunded: defaultdict[bytes, int] = defaultdict(int)  # escrow credit, events
            self.settled: defaultdict[bytes, int] = defaultdict(int)  # applied, events
            # The machine's own clock, set before every transaction: outcomes at deadline edges
            # must not depend on the wall clock, or Hypothesis cannot replay an example. The
            # in-process EVM will not mine a block before the wall clock, and every example starts
            # from the same snapshot: the clock starts an hour past whichever is later.
            self.clock = max(int(chain.blocks.head.timestamp), int(time.time())) + HOUR

        def teardown(self) -> None:
            chain.restore(self.snapshot)

        # -------------------------------------------------------------- plumbing

        def tick(self) -> None:
            self.clock += 1
            chain.pending_timestamp = self.clock

        def pick(self, data: st.DataObject, choices: dict[bytes, Any]) -> bytes:
            """One key, by a draw whose shape does not depend on the state."""
            keys = list(choices)
            return keys[data.draw(st.integers(0, 255)) % len(keys)]

        def attempt(self, call: Any) -> Any:
            self.tick()
            try:
                tx = call()
            except ContractLogicError as error:
                name = error_name(error)
                assert name.startswith(ERROR_PREFIXES), f"refused without our error: {error!r}"
                seen[f"refused: {name}"] += 1
                return None
            assert chain.blocks.head.timestamp == self.clock, "the machine's clock did not hold"
            for event in tx.events:
                self.record(event)
            return tx

        def record(self, event: Any) -> None:
            name = event.event_name
            seen[name] += 1
            if name == "CreditDrawn":
                self.out += int(event.amount)
            elif name in ("RepaymentReceived", "LossRecognized"):
                self.out -= int(event.principal)
            elif name == "CreditRepaid":
                self.paid.add(self.key_of(event.borrower))
            elif name == "CreditLateFeeCharged":
                self.impaired[self.key_of(event.borrower)] = True
            elif name in ("OrderRefunded", "OrderSettled") and bytes(event.orderId) in self.terms:
                self.refunded[bytes(event.orderId)] += int(event.payerAmount)
            elif name == "CreditRefundSettled":
                self.settled[bytes(event.orderId)] += int(event.refund)

        def key_of(self, address: str) -> str:
            return next(k for k, a in borrowers.items() if a.address == address)

        def books(self) -> Any:
            return lens.read(lines, vault, escrow, borrower_list, lender_list)

        def settle_allowed(self, key: str) -> Any:
            line = lines.lineOf(borrowers[key])
            self.allowed[key] = max(int(line.limit), min(self.allowed[key], int(line.principal)))
            return line

        def drawn(self, key: str) -> None:
            """After a draw: within the limit, and the cash owed to the queue was not lent."""
            line = self.settle_allowed(key)
            assert line.principal <= line.limit, "a draw went over the limit"
            assert vault.idleAssets() >= vault.queuedAssets(), "cash owed to the queue was lent"

        def close_if_final(self, order_id: bytes) -> None:
            if escrow.orderOf(order_id).status in FINAL:
                self.orders.pop(order_id, None)

        # -------------------------------------------------------------- borrowers

        @initialize(bands=st.tuples(st.integers(1, 3), st.integers(1, 3)))
        def first_applications(self, bands: tuple[int, int]) -> None:
            for key, band in zip(sorted(borrowers), bands, strict=True):
                self.apply(key, band, 0)

        @rule(
            key=st.sampled_from(sorted(borrowers)),
            band=st.integers(0, 4),
            age=st.sampled_from([0, 0, 0, 31 * DAY]),
        )
        def apply(self, key: str, band: int, age: int) -> None:
            who = borrowers[key]
            signed = attest(
                who=who,
                band=band,
                issued_at=self.clock - age,
                valid_for=age + 7 * DAY,
                set_version=set_version,
            )
            tx = self.attempt(lambda: lines.applyForCredit(*signed.args, sender=who))
            approved = tx.events.filter(lines.CreditApproved) if tx else []
            if approved:
                # Applying never moves principal: the last books' figure still holds.
                limit = int(approved[0].tier[0])
                self.allowed[key] = max(limit, self.principal[key])

        @rule(key=st.sampled_from(sorted(borrowers)), amount=st.integers(1, 800 * USD))
        def draw_to_wallet(self, key: str, amount: int) -> None:
            who = borrowers[key]
            if self.attempt(lambda: lines.drawToWallet(amount, sender=who)):
                self.drawn(key)

        @rule(
            key=st.sampled_from(sorted(borrowers)),
            amount=st.integers(3, 800 * USD),
            items=st.integers(1, 3),
        )
        def draw_to_order(self, key: str, amount: int, items: int) -> None:
            who = borrowers[key]
            self.tick()
            terms = credit_terms(amount=amount, who=who, items=items)
            self.terms[terms.order_id] = terms
            if self.attempt(lambda: lines.drawToOrder(terms.as_abi(), sender=who)):
                self.drawn(key)
                self.orders[terms.order_id] = (terms, key)

        @precondition(lambda self: bool(self.orders))
        @rule(data=st.data(), release=st.booleans())
        def close_order(self, data: st.DataObject, release: bool) -> None:
            """Delivered and confirmed by the buyer (the merchant is paid), or cancelled by the
            merchant (the open items are refunded to the lines)."""
            order_id = self.pick(data, self.orders)
            terms, key = self.orders[order_id]
            if release:
                if escrow.orderOf(order_id).carrier == 0:
                    self.attempt(
                        lambda: escrow.ship(terms.as_abi(), CARRIER, h("trk"), sender=merchant)
                    )
                report = (order_id, int(LogisticsKind.DELIVERED), CARRIER, 0, h("pod"))
                self.attempt(lambda: escrow.reportLogistics([report], sender=logistics_oracle))
                who = borrowers[key]
                self.attempt(lambda: escrow.confirmReceipt(terms.as_abi(), sender=who))
            else:
                self.attempt(lambda: escrow.cancel(terms.as_abi(), sender=merchant))
            self.close_if_final(order_id)

        @precondition(lambda self: bool(self.orders))
        @rule(data=st.data(), index=st.integers(0, 2))
        def recall_item(self, data: st.DataObject, index: int) -> None:
            """The merchant recalls an item of an open order; anyone refunds its share."""
            order_id = self.pick(data, self.orders)
            terms, _ = self.orders[order_id]
            index %= len(terms.item_ids)
            item = terms.item_ids[index]
            self.attempt(lambda: registry.recallItem(item, h("recall"), sender=merchant))
            self.attempt(lambda: escrow.refundRecalled(terms.as_abi(), 1 << index, sender=shopper))
            self.close_if_final(order_id)

        @precondition(lambda self: any(self.refunded[o] > self.settled[o] for o in self.refunded))
        @rule(data=st.data())
        def settle_refund(self, data: st.DataObject) -> None:
            due = {o: None for o in self.refunded if self.refunded[o] > self.settled[o]}
            terms = self.terms[self.pick(data, due)]
            if self.attempt(lambda: lines.settleRefund(terms.as_abi(), sender=shopper)):
                self.settle_allowed(self.key_of(terms.buyer))

        @precondition(lambda self: any(self.principal.values()))
        @rule(key=st.sampled_from(sorted(borrowers)), amount=st.integers(1, 1_500 * USD))
        def repay(self, key: str, amount: int) -> None:
            who = borrowers[key]
            if self.attempt(lambda: lines.repay(who, amount, sender=who)):
                self.settle_allowed(key)

        @precondition(lambda self: any(self.principal.values()))
        @rule(key=st.sampled_from(sorted(borrowers)), write_off=st.booleans())
        def accrue(self, key: str, write_off: bool) -> None:
            """A stranger applies what is due (impairment, default); the risk team may write off."""
            self.attempt(lambda: lines.accrue(borrowers[key], sender=shopper))
            if write_off:
                self.attempt(lambda: lines.writeOff(borrowers[key], sender=admin))

        # -------------------------------------------------------------- lenders

        @rule(who=st.sampled_from(sorted(lenders)), amount=st.integers(1, 5_000 * USD))
        def deposit(self, who: str, amount: int) -> None:
            account = lenders[who]
            self.attempt(lambda: vault.deposit(amount, account, sender=account))

        @rule(who=st.sampled_from(sorted(lenders)), part=st.integers(1, 100))
        def request_redeem(self, who: str, part: int) -> None:
            account = lenders[who]
            shares = int(vault.balanceOf(account)) * part // 100
            if shares:
                self.attempt(lambda: vault.requestRedeem(shares, account, account, sender=account))

        @rule(who=st.sampled_from(sorted(lenders)), part=st.integers(1, 100), wait=st.booleans())
        def claim(self, who: str, part: int, wait: bool) -> None:
            """The controller claims part of its request, after waiting out the cooldown or not."""
            account = lenders[who]
            queued, at_request, claimable_at = (int(v) for v in vault.redeemRequestOf(account))
            shares = queued * part // 100
            if not shares:
                return
            if wait:
                self.clock = max(self.clock, claimable_at)
            tx = self.attempt(lambda: vault.redeem(shares, account, account, sender=account))
            if tx:
                paid = int(tx.events.filter(vault.Withdraw)[0].assets)
                assert paid <= shares * at_request // queued, "a claim paid above its request"

        # -------------------------------------------------------------- the world

        @precondition(lambda self: any(self.principal.values()))
        @rule(key=st.sampled_from(sorted(borrowers)))
        def paused_pool(self, key: str) -> None:
            """While the pool is paused draws and claims stop; repayments go on."""
            who = borrowers[key]
            self.tick()
            vault.pause(sender=admin)
            assert self.attempt(lambda: lines.drawToWallet(USD, sender=who)) is None
            assert vault.maxRedeem(lender) == 0
            if self.attempt(lambda: lines.repay(who, 50 * USD, sender=who)):
                self.settle_allowed(key)
            self.tick()
            vault.unpause(sender=admin)

        @rule(seconds=st.sampled_from([HOUR, 3 * DAY, 10 * DAY, 45 * DAY, 100 * DAY]))
        def travel(self, seconds: int) -> None:
            self.clock += seconds

        # -------------------------------------------------------------- invariants

        @invariant()
        def books_balance(self) -> None:
            books = self.books()
            pool_lines = [line.status != LineStatus.WRITTEN_OFF for line in books.lines]
            for key, line in zip(borrowers, books.lines, strict=True):
                # Principal within the limit (or what was owed when the limit was lowered).
                assert line.principal <= max(int(line.limit), self.allowed[key])
                # A line paid off in full has its late fee (and impairment) cleared.
                if line.principal + line.interest + line.fees == 0:
                    self.impaired[key] = False
            # Assets = idle + lent - impaired - locked (never below zero).
            held = books.idle + books.lent - books.impaired
            assert books.totalAssets == max(held - books.locked, 0)
            # Lent = events = the lines' pool principal; impaired = impaired lines' principal.
            assert books.lent == self.out
            in_pool = zip(books.lines, pool_lines, strict=True)
            assert books.lent == sum(int(line.principal) for line, pooled in in_pool if pooled)
            assert books.impaired == sum(
                int(line.principal)
                for key, line, in_pool in zip(borrowers, books.lines, pool_lines, strict=True)
                if in_pool and self.impaired[key]
            )
            # The queue: its assets and shares are the requests', each claim within its request.
            assert books.queued == sum(int(r.assetsAtRequest) for r in books.requests)
            assert books.queuedShares == sum(int(r.shares) for r in books.requests)
            # Lenders' claims never exceed the assets.
            assert books.lenderClaims <= books.supplyClaim <= books.totalAssets
            # Interest never negative: between payments it never falls.
            for key, line in zip(borrowers, books.lines, strict=True):
                if key not in self.paid:
                    assert line.interest >= self.last_interest[key], "interest went down"
                self.last_interest[key] = int(line.interest)
                self.principal[key] = int(line.principal)
            self.paid.clear()
            # The lines hold exactly the refunds credited and not yet applied.
            pending = sum(self.refunded[o] - self.settled[o] for o in self.refunded)
            assert books.linesHeld == pending

    run_state_machine_as_test(
        CreditMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    print("\nEvents over all runs:", dict(sorted(seen.items())))
