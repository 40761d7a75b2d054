"""The newest attestation decides, whatever order attestations arrive in: a denied newer one
holds the line, and an older one sent afterwards is denied as not newer.

The attack each test closes: a borrower whose new score is denied keeps drawing on the old band
(the hold), or sends an older, better attestation it kept back (not newer)."""

from __future__ import annotations

from typing import Any

import ape

from tests.contracts.credit.helpers import (
    DAY,
    DEFAULT_TIERS,
    USD,
    DenialReason,
    LineStatus,
    Rules,
    Standing,
    reasons,
)


def _denied(lines: Any, tx: Any) -> int:
    return int(tx.events.filter(lines.CreditDenied)[0].reasons)


def test_a_denied_newer_attestation_holds_the_line_until_a_newer_one_is_approved(
    lines: Any, attest: Any, borrower: Any, draw_order: Any, travel: Any, now: Any
) -> None:
    approved = attest(band=2)
    lines.applyForCredit(*approved.args, sender=borrower)
    draw_order(250 * USD)
    travel(60)
    worse = attest(band=0)
    tx = lines.applyForCredit(*worse.args, sender=borrower)
    assert _denied(lines, tx) == reasons(DenialReason.BAND_BELOW_MINIMUM)
    line = lines.lineOf(borrower)
    assert (line.status, line.standing) == (LineStatus.ACTIVE, Standing.DENIED)
    assert line.deniedAt == worse.attestation.issued_at
    # The debt already drawn keeps its terms: the band and tier are the approved ones.
    assert (line.band, line.principal) == (2, 250 * USD)
    with ape.reverts(
        lines.CreditLineDenied,
        borrower=borrower.address,
        attestedAt=approved.attestation.issued_at,
        deniedAt=worse.attestation.issued_at,
    ):
        draw_order(1 * USD)
    travel(60)
    lines.applyForCredit(*attest(band=3).args, sender=borrower)
    assert lines.lineOf(borrower).standing == Standing.ELIGIBLE
    draw_order(1 * USD)
    assert lines.lineOf(borrower).principal == 251 * USD


def test_an_older_better_attestation_sent_after_a_newer_denial_is_denied_as_not_newer(
    lines: Any, attest: Any, borrower: Any, draw_order: Any, now: Any
) -> None:
    """The borrower holds back a good attestation (one awaiting its cosignature, say) and sends
    it after the newer one was denied: too late, with a line or without one."""
    issued = now()
    lines.applyForCredit(*attest(band=1, issued_at=issued - 300).args, sender=borrower)
    better = attest(band=3, issued_at=issued - 100)
    lines.applyForCredit(*attest(band=0, issued_at=issued).args, sender=borrower)
    tx = lines.applyForCredit(*better.args, sender=borrower)
    assert _denied(lines, tx) == reasons(DenialReason.ATTESTATION_NOT_NEWER)
    line = lines.lineOf(borrower)
    assert (line.band, line.standing) == (1, Standing.DENIED)
    with ape.reverts(lines.CreditLineDenied):
        draw_order(1 * USD)


def test_an_applicant_without_a_line_cannot_open_one_with_an_attestation_older_than_its_denial(
    lines: Any, attest: Any, borrower: Any, now: Any
) -> None:
    issued = now()
    better = attest(band=3, issued_at=issued - 100)
    tx = lines.applyForCredit(*attest(band=0, issued_at=issued).args, sender=borrower)
    assert _denied(lines, tx) == reasons(DenialReason.BAND_BELOW_MINIMUM)
    tx = lines.applyForCredit(*better.args, sender=borrower)
    assert _denied(lines, tx) == reasons(DenialReason.ATTESTATION_NOT_NEWER)
    assert lines.lineOf(borrower).status == LineStatus.NONE
    # A newer approval opens the line as for anyone.
    lines.applyForCredit(*attest(band=2, issued_at=issued + 1).args, sender=borrower)
    assert lines.lineOf(borrower).standing == Standing.ELIGIBLE


def test_a_held_line_is_still_repaid_accrued_and_defaulted_and_repaying_does_not_lift_the_hold(
    lines: Any, stable: Any, attest: Any, borrower: Any, draw_order: Any, chain: Any
) -> None:
    lines.applyForCredit(*attest(band=2).args, sender=borrower)
    _, drawn = draw_order(250 * USD)
    lines.applyForCredit(*attest(band=0, issued_at=drawn.timestamp + 1).args, sender=borrower)
    due = int(lines.lineOf(borrower).dueAt)
    chain.pending_timestamp = due + Rules().default_after + 1
    tx = lines.accrue(borrower, sender=borrower)
    assert tx.events.filter(lines.CreditLineDefaulted)
    assert lines.lineOf(borrower).standing == Standing.DEFAULTED
    stable.mint(borrower, 1_000 * USD, sender=borrower)
    stable.approve(lines, 1_000 * USD, sender=borrower)
    tx = lines.repay(borrower, 1_000 * USD, sender=borrower)
    assert tx.events.filter(lines.CreditLineRestored)
    line = lines.lineOf(borrower)
    assert (line.status, line.standing, line.principal) == (LineStatus.ACTIVE, Standing.DENIED, 0)


def test_an_older_attestation_denied_as_not_newer_does_not_hold_a_line_approved_since(
    lines: Any, attest: Any, borrower: Any, draw_order: Any, now: Any, travel: Any
) -> None:
    """Only a newer attestation's denial holds: a stale or older one arriving late changes
    nothing, so nobody can freeze a line by replaying an old, worse attestation."""
    issued = now()
    older_worse = attest(band=0, issued_at=issued - 10 * DAY, valid_for=30 * DAY)
    lines.applyForCredit(*attest(band=2, issued_at=issued).args, sender=borrower)
    tx = lines.applyForCredit(*older_worse.args, sender=borrower)
    assert _denied(lines, tx) == reasons(
        DenialReason.BAND_BELOW_MINIMUM, DenialReason.ATTESTATION_NOT_NEWER
    )
    assert lines.lineOf(borrower).standing == Standing.ELIGIBLE
    travel(60)
    draw_order(1 * USD)


def test_an_older_attestation_denied_at_the_late_fee_moment_keeps_the_accrual_it_caused(
    lines: Any,
    vault: Any,
    stable: Any,
    attest: Any,
    borrower: Any,
    shopper: Any,
    chain: Any,
    now: Any,
) -> None:
    """The application accrues the line first (late fee, impairment in the vault): a denial as
    not newer must store that too, or the next touch charges and impairs again, and once the
    impairment passes what is lent, nothing can repay the line."""
    tier = DEFAULT_TIERS[2]
    issued = now()
    older = attest(band=2, issued_at=issued - 10, valid_for=120 * DAY)
    lines.applyForCredit(*attest(band=2, issued_at=issued).args, sender=borrower)
    drawn = lines.drawToWallet(1_000 * USD, sender=borrower)
    chain.pending_timestamp = drawn.timestamp + tier.term + tier.grace_period + 1
    tx = lines.applyForCredit(*older.args, sender=shopper)
    assert _denied(lines, tx) == reasons(
        DenialReason.ATTESTATION_STALE, DenialReason.ATTESTATION_NOT_NEWER
    )
    assert len(tx.events.filter(lines.CreditLateFeeCharged)) == 1
    assert vault.impairedAssets() == 1_000 * USD
    tx = lines.accrue(borrower, sender=shopper)
    assert not tx.events.filter(lines.CreditLateFeeCharged)
    assert vault.impairedAssets() == 1_000 * USD
    stable.mint(borrower, 2_000 * USD, sender=borrower)
    stable.approve(lines, 2_000 * USD, sender=borrower)
    lines.repay(borrower, 2_000 * USD, sender=borrower)
    assert lines.debtOf(borrower) == 0
    assert vault.impairedAssets() == 0


def test_a_denial_only_for_the_lines_default_does_not_hold_it_once_repaid(
    lines: Any, stable: Any, attest: Any, borrower: Any, draw_order: Any, chain: Any
) -> None:
    """A fresh report sent while the line is in default is denied for the default alone: it
    says nothing new of the borrower, so repaying in full restores a drawable line."""
    lines.applyForCredit(*attest(band=2).args, sender=borrower)
    draw_order(250 * USD)
    due = int(lines.lineOf(borrower).dueAt)
    chain.pending_timestamp = due + Rules().default_after + 1
    lines.accrue(borrower, sender=borrower)
    newer = attest(band=3, issued_at=due + Rules().default_after + 1)
    tx = lines.applyForCredit(*newer.args, sender=borrower)
    assert _denied(lines, tx) == reasons(DenialReason.LINE_DEFAULTED)
    assert lines.lineOf(borrower).deniedAt == 0
    stable.mint(borrower, 1_000 * USD, sender=borrower)
    stable.approve(lines, 1_000 * USD, sender=borrower)
    lines.repay(borrower, 1_000 * USD, sender=borrower)
    assert lines.lineOf(borrower).standing == Standing.ON_HOLD  # its own attestation aged out
    # The spent report was not newer than nothing: a fresh one approves as ever.
    lines.applyForCredit(*attest(band=2).args, sender=borrower)
    assert lines.lineOf(borrower).standing == Standing.ELIGIBLE


def test_a_newer_attestation_denied_only_as_stale_does_not_hold_a_line_still_eligible(
    lines: Any, admin: Any, attest: Any, borrower: Any, draw_order: Any, now: Any, travel: Any
) -> None:
    """A later policy shortens the refresh period: a newer report sent late is stale by it,
    which says nothing of the borrower; the line keeps its own version's terms."""
    issued = now()
    lines.applyForCredit(*attest(band=2, issued_at=issued).args, sender=borrower)
    lines.publishPolicy(
        Rules(refresh_period=5 * DAY).as_abi(), [t.as_abi() for t in DEFAULT_TIERS], sender=admin
    )
    late = attest(band=2, issued_at=issued + DAY, valid_for=30 * DAY)
    travel(10 * DAY)
    tx = lines.applyForCredit(*late.args, sender=borrower)
    assert _denied(lines, tx) == reasons(DenialReason.ATTESTATION_STALE)
    line = lines.lineOf(borrower)
    assert (line.deniedAt, line.standing) == (0, Standing.ELIGIBLE)
    draw_order(1 * USD)
