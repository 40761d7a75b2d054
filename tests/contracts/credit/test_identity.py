"""One identity, one line: the identity commitment of the first approved attestation binds to its
borrower, and another address attested with the same identity is denied."""

from __future__ import annotations

from typing import Any

from tests.contracts.credit.conftest import borrower_identity
from tests.contracts.credit.helpers import DenialReason, LineStatus, normalized, reasons

ZERO = "0x0000000000000000000000000000000000000000"


def test_approval_binds_the_identity_and_carries_it_in_the_event(
    lines: Any, attest: Any, borrower: Any
) -> None:
    identity = borrower_identity(borrower)
    assert lines.borrowerOfIdentity(identity) == ZERO
    signed = attest(identity=identity)
    tx = lines.applyForCredit(*signed.args, sender=borrower)
    [approved] = tx.events.filter(lines.CreditApproved)
    assert normalized(approved.attestation[1]) == identity
    assert normalized(approved.attestation) == normalized(signed.attestation.as_abi())
    assert lines.borrowerOfIdentity(identity) == borrower.address


def test_second_address_with_the_same_identity_is_denied(
    lines: Any, attest: Any, borrower: Any, shopper: Any
) -> None:
    identity = borrower_identity(borrower)
    lines.applyForCredit(*attest(identity=identity).args, sender=borrower)
    signed = attest(who=shopper, identity=identity)
    tx = lines.applyForCredit(*signed.args, sender=shopper)
    [denied] = tx.events.filter(lines.CreditDenied)
    assert denied.borrower == shopper.address
    assert denied.reasons == reasons(DenialReason.IDENTITY_BOUND_ELSEWHERE)
    assert normalized(denied.attestation[1]) == identity
    assert not tx.events.filter(lines.CreditApproved)
    assert lines.lineOf(shopper).status == LineStatus.NONE
    assert lines.borrowerOfIdentity(identity) == borrower.address


def test_the_bound_borrower_may_reapply_with_its_identity(
    lines: Any, attest: Any, borrower: Any, travel: Any
) -> None:
    identity = borrower_identity(borrower)
    lines.applyForCredit(*attest(identity=identity, band=1).args, sender=borrower)
    travel(60)
    tx = lines.applyForCredit(*attest(identity=identity, band=3).args, sender=borrower)
    assert tx.events.filter(lines.CreditApproved)
    assert lines.lineOf(borrower).band == 3


def test_a_denied_application_does_not_bind_the_identity(
    lines: Any, attest: Any, borrower: Any, shopper: Any
) -> None:
    """A denial (here band 0) reserves nothing: nobody can squat an identity with a bad score."""
    identity = borrower_identity(borrower)
    tx = lines.applyForCredit(*attest(who=shopper, identity=identity, band=0).args, sender=shopper)
    assert tx.events.filter(lines.CreditDenied)[0].reasons == reasons(
        DenialReason.BAND_BELOW_MINIMUM
    )
    assert lines.borrowerOfIdentity(identity) == ZERO
    lines.applyForCredit(*attest(identity=identity).args, sender=borrower)
    assert lines.borrowerOfIdentity(identity) == borrower.address
    assert lines.lineOf(borrower).status == LineStatus.ACTIVE


def test_identity_bound_elsewhere_is_reported_with_the_other_reasons(
    lines: Any, attest: Any, borrower: Any, shopper: Any
) -> None:
    identity = borrower_identity(borrower)
    lines.applyForCredit(*attest(identity=identity).args, sender=borrower)
    tx = lines.applyForCredit(*attest(who=shopper, identity=identity, band=7).args, sender=shopper)
    assert tx.events.filter(lines.CreditDenied)[0].reasons == reasons(
        DenialReason.BAND_NOT_IN_POLICY, DenialReason.IDENTITY_BOUND_ELSEWHERE
    )
