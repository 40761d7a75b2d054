"""Policies and applications: versioned rules, instant approvals and denials with reason codes."""

from __future__ import annotations

from typing import Any

import ape

from tests.contracts.credit.conftest import wire_lines
from tests.contracts.credit.helpers import (
    DAY,
    DEFAULT_TIERS,
    USD,
    DenialReason,
    LineStatus,
    Rules,
    Standing,
    Tier,
    normalized,
    reasons,
    reverts,
)


def _tier(values: Any) -> Tier:
    return Tier(*[int(v) for v in values])


# ------------------------------------------------------------------ policies


def test_publish_policy_makes_a_new_current_version(lines: Any, admin: Any) -> None:
    assert lines.currentPolicyVersion() == 1
    rules = Rules(min_band=2, refresh_period=10 * DAY, default_after=40 * DAY, wallet_draws=False)
    tiers = [t.as_abi() for t in DEFAULT_TIERS[:3]]
    tx = lines.publishPolicy(rules.as_abi(), tiers, sender=admin)
    event = tx.events.filter(lines.PolicyPublished)[0]
    assert event.version == 2
    assert normalized(event.rules) == rules.as_abi()
    assert normalized(event.tiers) == normalized(tiers)
    assert lines.currentPolicyVersion() == 2
    assert tuple(lines.policyRules(2)) == rules.as_abi()
    assert _tier(lines.policyTier(2, 1)) == DEFAULT_TIERS[1]
    assert lines.policyTier(2, 3).term == 0
    # Version 1 is unchanged.
    assert tuple(lines.policyRules(1)) == Rules().as_abi()
    assert _tier(lines.policyTier(1, 3)) == DEFAULT_TIERS[3]


def test_publish_policy_reverts_for_invalid_rules_and_tiers(lines: Any, admin: Any) -> None:
    good = [t.as_abi() for t in DEFAULT_TIERS]
    with ape.reverts(lines.CreditPolicyInvalidTier, index=0):
        lines.publishPolicy(Rules().as_abi(), [], sender=admin)
    with ape.reverts(
        lines.CreditPolicyInvalidRules, minBand=4, tierCount=4, refreshPeriod=30 * DAY
    ):
        lines.publishPolicy(Rules(min_band=4).as_abi(), good, sender=admin)
    with ape.reverts(lines.CreditPolicyInvalidRules, minBand=1, tierCount=4, refreshPeriod=0):
        lines.publishPolicy(Rules(refresh_period=0).as_abi(), good, sender=admin)
    no_term = Tier(100 * USD, 1_000, 0, DAY, USD).as_abi()
    with ape.reverts(lines.CreditPolicyInvalidTier, index=1):
        lines.publishPolicy(Rules().as_abi(), [good[0], no_term], sender=admin)
    usury = Tier(100 * USD, 10_001, DAY, DAY, USD).as_abi()
    with ape.reverts(lines.CreditPolicyInvalidTier, index=0):
        lines.publishPolicy(Rules().as_abi(), [usury, good[1]], sender=admin)
    long_grace = Tier(100 * USD, 1_000, DAY, 60 * DAY, USD).as_abi()
    with ape.reverts(lines.CreditPolicyInvalidTier, index=0):
        lines.publishPolicy(Rules().as_abi(), [long_grace, good[1]], sender=admin)
    assert lines.currentPolicyVersion() == 1


def test_publish_policy_reverts_without_a_cap_on_new_credit(lines: Any, admin: Any) -> None:
    """A policy must bound what all lines may lend per window: no zero window, no zero cap."""
    good = [t.as_abi() for t in DEFAULT_TIERS]
    for rules in (Rules(cap_period=0), Rules(period_cap=0)):
        with ape.reverts(
            lines.CreditPolicyInvalidRules, minBand=1, tierCount=4, refreshPeriod=30 * DAY
        ):
            lines.publishPolicy(rules.as_abi(), good, sender=admin)
    assert lines.currentPolicyVersion() == 1
    tx = lines.publishPolicy(Rules(cap_period=1, period_cap=1).as_abi(), good, sender=admin)
    assert tx.events.filter(lines.PolicyPublished)[0].version == 2


def test_publish_policy_reverts_without_policy_role(lines: Any, borrower: Any) -> None:
    with ape.reverts(
        lines.AccessControlUnauthorizedAccount,
        account=borrower.address,
        neededRole=lines.POLICY_ROLE(),
    ):
        lines.publishPolicy(Rules().as_abi(), [DEFAULT_TIERS[0].as_abi()], sender=borrower)


def test_apply_reverts_before_any_policy(
    project: Any, admin: Any, attestations: Any, vault: Any, escrow: Any, attest: Any, borrower: Any
) -> None:
    fresh = wire_lines(project, admin, attestations, vault, escrow)
    with ape.reverts(fresh.CreditNoPolicy):
        fresh.applyForCredit(*attest().args, sender=borrower)


# ------------------------------------------------------------------ approvals


def test_apply_approves_band_with_its_tier_and_carries_inputs(
    lines: Any, attest: Any, borrower: Any
) -> None:
    signed = attest(band=2)
    tx = lines.applyForCredit(*signed.args, sender=borrower)
    [event] = tx.events
    assert event.event_name == "CreditApproved"
    assert (event.borrower, event.policyVersion) == (borrower.address, 1)
    assert normalized(event.attestation) == normalized(signed.attestation.as_abi())
    assert normalized(event.tier) == DEFAULT_TIERS[2].as_abi()
    line = lines.lineOf(borrower)
    assert line.status == LineStatus.ACTIVE
    assert line.standing == Standing.ELIGIBLE
    assert (line.policyVersion, line.band) == (1, 2)
    assert (line.limit, line.aprBps) == (DEFAULT_TIERS[2].limit, DEFAULT_TIERS[2].apr_bps)
    assert line.attestedAt == signed.attestation.issued_at
    assert line.eligibleUntil == signed.attestation.issued_at + Rules().refresh_period


def test_anyone_may_submit_an_attestation_for_the_borrower(
    lines: Any, attest: Any, borrower: Any, shopper: Any
) -> None:
    lines.applyForCredit(*attest().args, sender=shopper)
    assert lines.lineOf(borrower).status == LineStatus.ACTIVE
    assert lines.lineOf(shopper).status == LineStatus.NONE


def test_reapply_raises_and_lowers_the_limit(
    lines: Any, attest: Any, borrower: Any, draw_order: Any, travel: Any
) -> None:
    lines.applyForCredit(*attest(band=1).args, sender=borrower)
    draw_order(400 * USD)
    travel(60)
    tx = lines.applyForCredit(*attest(band=3).args, sender=borrower)
    assert normalized(tx.events.filter(lines.CreditApproved)[0].tier) == DEFAULT_TIERS[3].as_abi()
    assert lines.lineOf(borrower).limit == DEFAULT_TIERS[3].limit
    draw_order(2_000 * USD)
    travel(60)
    lines.applyForCredit(*attest(band=1).args, sender=borrower)
    line = lines.lineOf(borrower)
    # Lowered below what is owed: the debt stands, new draws must wait.
    assert line.limit == DEFAULT_TIERS[1].limit
    assert line.principal == 2_400 * USD
    with ape.reverts(
        lines.CreditLimitExceeded,
        borrower=borrower.address,
        limit=DEFAULT_TIERS[1].limit,
        requested=2_401 * USD,
    ):
        draw_order(1 * USD)


def test_line_keeps_its_policy_version_until_it_reapplies(
    lines: Any, admin: Any, attest: Any, borrower: Any, travel: Any
) -> None:
    lines.applyForCredit(*attest(band=2).args, sender=borrower)
    cheaper = [Tier(3_000 * USD, 900, 45 * DAY, 7 * DAY, 5 * USD).as_abi()] * 4
    lines.publishPolicy(Rules().as_abi(), cheaper, sender=admin)
    line = lines.lineOf(borrower)
    assert (line.policyVersion, line.limit, line.aprBps) == (1, 2_000 * USD, 1_800)
    travel(60)
    lines.applyForCredit(*attest(band=2).args, sender=borrower)
    line = lines.lineOf(borrower)
    assert (line.policyVersion, line.limit, line.aprBps) == (2, 3_000 * USD, 900)


# ------------------------------------------------------------------ denials


def test_apply_denies_band_below_minimum_without_reverting(
    lines: Any, attest: Any, borrower: Any
) -> None:
    signed = attest(band=0)
    tx = lines.applyForCredit(*signed.args, sender=borrower)
    [event] = tx.events
    assert event.event_name == "CreditDenied"
    assert (event.borrower, event.policyVersion) == (borrower.address, 1)
    assert normalized(event.attestation) == normalized(signed.attestation.as_abi())
    assert event.reasons == reasons(DenialReason.BAND_BELOW_MINIMUM)
    assert lines.lineOf(borrower).status == LineStatus.NONE


def test_apply_denies_band_without_tier(lines: Any, attest: Any, borrower: Any) -> None:
    tx = lines.applyForCredit(*attest(band=7).args, sender=borrower)
    assert tx.events.filter(lines.CreditDenied)[0].reasons == reasons(
        DenialReason.BAND_NOT_IN_POLICY
    )


def test_apply_denies_attestation_older_than_refresh_period_with_all_reasons(
    lines: Any, attest: Any, borrower: Any, now: Any
) -> None:
    """Valid (not expired) but issued longer ago than the refresh period: stale. Every reason
    that applies is reported at once."""
    issued = now() - Rules().refresh_period - 1
    signed = attest(band=0, issued_at=issued, valid_for=60 * DAY)
    tx = lines.applyForCredit(*signed.args, sender=borrower)
    assert tx.events.filter(lines.CreditDenied)[0].reasons == reasons(
        DenialReason.BAND_BELOW_MINIMUM, DenialReason.ATTESTATION_STALE
    )


def test_apply_denies_attestation_not_newer_than_the_lines(
    lines: Any, attest: Any, borrower: Any, now: Any
) -> None:
    issued = now()
    older = attest(issued_at=issued - 100, band=3)
    lines.applyForCredit(*attest(issued_at=issued).args, sender=borrower)
    tx = lines.applyForCredit(*older.args, sender=borrower)
    assert tx.events.filter(lines.CreditDenied)[0].reasons == reasons(
        DenialReason.ATTESTATION_NOT_NEWER
    )
    assert lines.lineOf(borrower).band == 2


def test_apply_denies_defaulted_line(
    lines: Any, attest: Any, borrower: Any, draw_order: Any, travel: Any
) -> None:
    lines.applyForCredit(*attest().args, sender=borrower)
    draw_order()
    travel(30 * DAY + 60 * DAY + 1)
    tx = lines.applyForCredit(*attest(band=3).args, sender=borrower)
    assert tx.events.filter(lines.CreditLineDefaulted)
    assert tx.events.filter(lines.CreditDenied)[0].reasons == reasons(DenialReason.LINE_DEFAULTED)
    assert lines.lineOf(borrower).status == LineStatus.DEFAULTED


def test_denial_spends_the_attestation(
    lines: Any, attestations: Any, attest: Any, borrower: Any
) -> None:
    signed = attest(band=0)
    lines.applyForCredit(*signed.args, sender=borrower)
    with reverts(attestations.AttestationNonceUsed, nonce=signed.attestation.nonce):
        lines.applyForCredit(*signed.args, sender=borrower)
