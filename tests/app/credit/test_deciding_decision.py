"""The decision a borrower's page leads with is the one that decided the newest attestation: an
older attestation sent later is denied as not newer and changes nothing (ICreditLines), so it
must not be shown as the line's decision."""

from __future__ import annotations

from app.credit.line_facts import deciding_first
from app.domain.vocab import DenialReason
from app.index.models import CreditDecisionRow

NOT_NEWER = DenialReason.bitmap(DenialReason.ATTESTATION_NOT_NEWER)
STALE_AND_NOT_NEWER = DenialReason.bitmap(
    DenialReason.ATTESTATION_STALE, DenialReason.ATTESTATION_NOT_NEWER
)
BELOW_MINIMUM = DenialReason.bitmap(DenialReason.BAND_BELOW_MINIMUM)


def _decision(block: int, approved: bool, reasons: int = 0) -> CreditDecisionRow:
    return CreditDecisionRow(
        borrower="0x" + "11" * 20,
        policy_version=1,
        band=2,
        approved=approved,
        denial_reasons=reasons,
        block_number=block,
        log_index=0,
        tx_hash="0x" + f"{block:064x}",
        block_time=block,
    )


def test_later_not_newer_denials_follow_the_approval_they_left_standing() -> None:
    approved = _decision(10, True)
    late = [_decision(12, False, STALE_AND_NOT_NEWER), _decision(11, False, NOT_NEWER)]
    ordered = deciding_first([*late, approved])
    assert ordered == [approved, *late]


def test_a_newer_denial_leads_and_the_approval_before_it_follows() -> None:
    approved, denied = _decision(10, True), _decision(11, False, BELOW_MINIMUM)
    assert deciding_first([denied, approved]) == [denied, approved]


def test_only_not_newer_denials_keep_their_order() -> None:
    rows = [_decision(11, False, NOT_NEWER), _decision(10, False, NOT_NEWER)]
    assert deciding_first(rows) == rows
