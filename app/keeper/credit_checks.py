"""What the keeper reads of CreditLines before it simulates a credit duty, and the call it then
simulates: the contract's own views, not its rules.

* ``settle_refund``: ``refundOf(terms)`` must be above zero (the escrow credited the line for the
  order more than was applied);
* ``accrue``: ``lineOf(borrower)`` must still have the due time the index saw drawn at (else the
  line was repaid since), and the stage's period, read from the line's policy
  (``policyTier(version, band).gracePeriod`` for the late fee, ``policyRules(version).defaultAfter``
  for the default), must have passed by the chain's time: before it, an accrual charges nothing.
  A late fee not charged yet and the default period passed too make one ``default`` duty (one
  accrual charges both)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from web3.contract import Contract

from app.domain.orders import OrderTerms
from app.keeper.credit_duties import DEFAULT, LATE_FEE, accrue_stage
from app.keeper.due import DueDuty
from app.outbox.kinds.keeper_credit import (
    CREDIT_FUNCTIONS,
    accrue_calldata,
    accrue_payload,
    settle_refund_calldata,
    settle_refund_payload,
)

# LineView's fields by position (ICreditLines.LineView).
LINE_POLICY_VERSION, LINE_BAND, LINE_DUE_AT = 2, 3, 9
TIER_GRACE = 3  # ICreditPolicies.Tier.gracePeriod
RULES_DEFAULT_AFTER = 2  # ICreditPolicies.PolicyRules.defaultAfter


@dataclass(frozen=True)
class CreditCall:
    """A credit duty ready to simulate: the duty (its stage settled), its calldata and record."""

    duty: DueDuty
    calldata: bytes
    payload: dict[str, Any]
    details: dict[str, Any]


class CreditChecks:
    """The keeper's reads of one CreditLines contract (policies cached: a published version
    never changes)."""

    def __init__(self, lines: Contract) -> None:
        self.lines = lines
        self._periods: dict[tuple[int, int], tuple[int, int]] = {}

    def settle_refund(self, duty: DueDuty, terms: OrderTerms) -> CreditCall | str:
        """The call, or why there is nothing to settle."""
        pending = int(self.lines.functions.refundOf(terms.as_abi()).call())
        if pending == 0:
            return "refundOf(terms) = 0: nothing to settle"
        payload = settle_refund_payload(terms, int(duty.detail))
        details = _details(duty) | {"refund": str(pending)}
        return CreditCall(duty, settle_refund_calldata(terms), payload, details)

    def accrue(self, duty: DueDuty, now: int) -> CreditCall | None:
        """The call, or None while the stage's period has not passed (or the line was repaid)."""
        due_at, stage = accrue_stage(duty.detail)
        line = self.lines.functions.lineOf(duty.subject).call()
        if int(line[LINE_DUE_AT]) != due_at:
            return None  # repaid (due time cleared) since the index saw the draw
        grace, default_after = self._policy(int(line[LINE_POLICY_VERSION]), int(line[LINE_BAND]))
        if now > due_at + default_after:
            stage, passed = DEFAULT, due_at + default_after + 1
        elif stage == LATE_FEE and now > due_at + grace:
            passed = due_at + grace + 1
        else:
            return None
        duty = replace(duty, due_at=passed, detail=f"{due_at}:{stage}")
        details = _details(duty) | {"stage": stage, "line_due_at": due_at}
        payload = accrue_payload(duty.subject, due_at, stage)
        return CreditCall(duty, accrue_calldata(duty.subject), payload, details)

    def _policy(self, version: int, band: int) -> tuple[int, int]:
        key = (version, band)
        if key not in self._periods:
            tier = self.lines.functions.policyTier(version, band).call()
            rules = self.lines.functions.policyRules(version).call()
            self._periods[key] = (int(tier[TIER_GRACE]), int(rules[RULES_DEFAULT_AFTER]))
        return self._periods[key]


def _details(duty: DueDuty) -> dict[str, Any]:
    return {"function": CREDIT_FUNCTIONS[duty.duty][0], "due_at": duty.due_at}
