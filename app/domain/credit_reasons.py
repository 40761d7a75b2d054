"""The words for why a credit application was denied: the one place they are written, in English
and Simplified Chinese, for the scripts, the service's API and its pages.

The reasons themselves are the contract's (``ICreditLines.DenialReason``; bit ``int(reason)`` of
``CreditDenied.reasons``), twinned by ``app.domain.vocab.DenialReason``: the contract decides,
this only says in words what it decided. Each is a principal reason in the sense of Regulation B's
adverse-action notice (12 CFR 1002.9): specific to the applicant's case, and saying what would
change the outcome.
"""

from __future__ import annotations

from typing import NamedTuple

from app.domain.vocab import DenialReason


class ReasonWords(NamedTuple):
    """One reason in both languages."""

    en: str
    zh: str


DENIAL_REASON_WORDS: dict[DenialReason, ReasonWords] = {
    DenialReason.BAND_BELOW_MINIMUM: ReasonWords(
        "The score band the credit bureau attested is below the lowest band this policy approves.",
        "征信机构证明的信用分档低于本政策批准的最低分档。",
    ),
    DenialReason.BAND_NOT_IN_POLICY: ReasonWords(
        "The score band the credit bureau attested has no terms in this policy version.",
        "征信机构证明的信用分档在此政策版本中没有授信条款。",
    ),
    DenialReason.ATTESTATION_STALE: ReasonWords(
        "The bureau's attestation is older than the policy's refresh period; "
        "a newer report is needed.",
        "征信机构的证明已超过政策规定的更新期限，需要一份更新的报告。",
    ),
    DenialReason.ATTESTATION_NOT_NEWER: ReasonWords(
        "The attestation is not newer than the newest one already decided for this borrower.",
        "该证明并不比此借款人已获裁决的最新证明更新。",
    ),
    DenialReason.LINE_DEFAULTED: ReasonWords(
        "The credit line is in default; it must be repaid in full first.",
        "此信用额度已违约，须先全额还款。",
    ),
    DenialReason.IDENTITY_BOUND_ELSEWHERE: ReasonWords(
        "The attested identity already has a credit line under another address "
        "(one identity, one line).",
        "所证明的身份已在另一个地址下拥有信用额度（一个身份只能有一个额度）。",
    ),
}


def reason_code(reason: DenialReason) -> str:
    """A reason's machine-readable code: its name in the contract, in snake case
    (``band_below_minimum``)."""
    return reason.name.lower()


def denial_words(reason: DenialReason) -> ReasonWords:
    return DENIAL_REASON_WORDS[reason]
