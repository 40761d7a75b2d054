"""Hypothesis stateful test: random applications, draws (orders and wallet), refunds, repayments,
write-offs, lender deposits and withdrawals, pauses and time jumps, checking after every step:

- a draw never takes principal above the limit, and principal never exceeds the larger of the
  limit and what was owed when a re-application lowered the limit;
- the vault's assets equal its idle cash plus principal lent out minus principal written off
  (rebuilt from events), and the lent principal equals the sum of the lines' principal;
- lenders' total claim never exceeds the vault's assets;
- interest never goes negative: between payments, what a line owes in interest never falls;
- the lines contract holds exactly the refunds it withdrew and has not yet applied.
A refused step must be refused with one of the contracts' own custom errors (never a panic).
"""

from __future__ import annotations

import ast
from collections import Counter
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

from tests.contracts.credit.helpers import DAY, USD, LineStatus
from tests.contracts.escrow.helpers import Terms
from tests.support.campaign import examples

EXAMPLES = examples(short=10, long=200)
STEPS = examples(short=30, long=60)
HOUR = 3_600
ERROR_PREFIXES = ("Credit", "Attestation", "Escrow", "ERC4626", "EnforcedPause", "ExpectedPause")


def test_credit_books_balance_under_random_sequences(
    project: Any,
    lines: Any,
    vault: Any,
    escrow: Any,
    stable: Any,
    attestations: Any,
    admin: Any,
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
        for contract in (lines, vault, escrow, attestations)
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
            self.paid: set[str] = set()
            self.orders: dict[bytes, tuple[Terms, str]] = {}
            # Insertion-ordered, so picks by index replay identically.
            self.unsettled: dict[bytes, None] = {}
            self.orders_refunded: dict[bytes, Terms] = {}
            # The machine's own clock, set before every transaction: outcomes at deadline edges
            # must not depend on the wall clock, or Hypothesis cannot replay an example.
            self.clock = int(chain.blocks.head.timestamp) + 60

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
                name = event.event_name
                seen[name] += 1
                if name == "CreditDrawn":
                    self.out += int(event.amount)
                elif name in ("RepaymentReceived", "LossRecognized"):
                    self.out -= int(event.principal)
                elif name == "CreditRepaid":
                    self.paid.add(self.key_of(event.borrower))
            return tx

        def key_of(self, address: str) -> str:
            return next(k for k, a in borrowers.items() if a.address == address)

        def line(self, key: str) -> Any:
            return lines.lineOf(borrowers[key])

        def settle_allowed(self, key: str) -> Any:
            line = self.line(key)
            self.allowed[key] = max(int(line.limit), min(self.allowed[key], int(line.principal)))
            return line

        # -------------------------------------------------------------- rules

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
                line = self.settle_allowed(key)
                assert line.principal <= line.limit, "a draw went over the limit"

        @rule(key=st.sampled_from(sorted(borrowers)), amount=st.integers(1, 800 * USD))
        def draw_to_order(self, key: str, amount: int) -> None:
            who = borrowers[key]
            self.tick()
            terms = credit_terms(amount=amount, who=who)
            if self.attempt(lambda: lines.drawToOrder(terms.as_abi(), sender=who)):
                line = self.settle_allowed(key)
                assert line.principal <= line.limit, "a draw went over the limit"
                self.orders[terms.order_id] = (terms, key)

        @precondition(lambda self: bool(self.orders))
        @rule(data=st.data(), release=st.booleans())
        def close_order(self, data: st.DataObject, release: bool) -> None:
            """The buyer confirms receipt (the merchant is paid) or cancels (refund to the line)."""
            order_id = self.pick(data, self.orders)
            terms, key = self.orders.pop(order_id)
            who = borrowers[key]
            if release:
                self.attempt(lambda: escrow.confirmReceipt(terms.as_abi(), sender=who))
            elif self.attempt(lambda: escrow.cancel(terms.as_abi(), sender=who)):
                self.unsettled[order_id] = None
                self.orders_refunded[order_id] = terms

        @precondition(lambda self: bool(self.unsettled))
        @rule(data=st.data())
        def settle_refund(self, data: st.DataObject) -> None:
            order_id = self.pick(data, self.unsettled)
            terms = self.orders_refunded[order_id]
            if self.attempt(lambda: lines.settleRefund(terms.as_abi(), sender=admin)):
                del self.unsettled[order_id]
                self.settle_allowed(self.key_of(terms.buyer))

        @precondition(lambda self: any(self.principal.values()))
        @rule(key=st.sampled_from(sorted(borrowers)), amount=st.integers(1, 1_500 * USD))
        def repay(self, key: str, amount: int) -> None:
            who = borrowers[key]
            if self.attempt(lambda: lines.repay(who, amount, sender=who)):
                self.settle_allowed(key)

        @precondition(lambda self: any(self.principal.values()))
        @rule(key=st.sampled_from(sorted(borrowers)))
        def write_off(self, key: str) -> None:
            self.attempt(lambda: lines.accrue(borrowers[key], sender=admin))
            self.attempt(lambda: lines.writeOff(borrowers[key], sender=admin))

        @rule(who=st.sampled_from(sorted(lenders)), amount=st.integers(1, 5_000 * USD))
        def deposit(self, who: str, amount: int) -> None:
            account = lenders[who]
            self.attempt(lambda: vault.deposit(amount, account, sender=account))

        @rule(who=st.sampled_from(sorted(lenders)), part=st.integers(1, 100))
        def withdraw(self, who: str, part: int) -> None:
            account = lenders[who]
            assets = int(vault.maxWithdraw(account)) * part // 100
            assert assets <= vault.idleAssets()
            if assets:
                self.attempt(lambda: vault.withdraw(assets, account, account, sender=account))

        @precondition(lambda self: any(self.principal.values()))
        @rule(key=st.sampled_from(sorted(borrowers)))
        def paused_pool(self, key: str) -> None:
            """While the pool is paused draws and lenders' withdrawals stop; repayments go on."""
            who = borrowers[key]
            self.tick()
            vault.pause(sender=admin)
            assert self.attempt(lambda: lines.drawToWallet(USD, sender=who)) is None
            assert vault.maxWithdraw(lender) == 0
            if self.attempt(lambda: lines.repay(who, 50 * USD, sender=who)):
                self.settle_allowed(key)
            self.tick()
            vault.unpause(sender=admin)

        @rule(seconds=st.sampled_from([HOUR, 10 * DAY, 45 * DAY, 100 * DAY]))
        def travel(self, seconds: int) -> None:
            self.clock += seconds

        # -------------------------------------------------------------- invariants

        @invariant()
        def books_balance(self) -> None:
            books = lens.read(lines, vault, escrow, borrower_list, lender_list)
            # Principal within the limit (or what was owed when the limit was lowered).
            for key, line in zip(borrowers, books.lines, strict=True):
                assert line.principal <= max(int(line.limit), self.allowed[key])
            # Vault assets = idle cash + principal lent out - written off (events), = the lines'.
            assert books.lent == self.out
            assert books.totalAssets == books.idle + self.out
            on_lines = sum(
                int(line.principal)
                for line in books.lines
                if line.status in (LineStatus.ACTIVE, LineStatus.DEFAULTED)
            )
            assert on_lines == self.out
            # Lenders' claim never exceeds the assets.
            assert books.lenderClaims <= books.supplyClaim <= books.totalAssets
            # Interest never negative: between payments it never falls.
            for key, line in zip(borrowers, books.lines, strict=True):
                assert line.interest >= 0
                if key not in self.paid:
                    assert line.interest >= self.last_interest[key], "interest went down"
                self.last_interest[key] = int(line.interest)
                self.principal[key] = int(line.principal)
            self.paid.clear()
            # The lines contract holds exactly the refunds it has not applied yet (SKU orders
            # cancelled before release refund their whole amount).
            pending = sum(self.orders_refunded[o].amount for o in self.unsettled)
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
