"""The one home of what a verdict says in words: the JSON answer's ``explanation`` and the page's
banner and reason, for every ``VerdictReason``.

Say only what the chain and the service know. An item nothing speaks for is not called
counterfeit: the service cannot tell a fake from a genuine item whose merchant has not published
the batch it came in, and says which of the two it can rule out.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from app.shop.schemas import VerdictReason

# The banner's colour: green, red, or grey for "cannot say yet".
Tone = Literal["ok", "bad", "unsure"]


class VerdictWording(NamedTuple):
    banner: str  # the page's headline
    reason: str | None  # why, under the banner (None: the banner says it)
    explanation: str  # one sentence, in the JSON answer and on the page
    tone: Tone

    @property
    def title(self) -> str:
        return f"{self.banner}: {self.reason}" if self.reason else self.banner


NOT_AUTHENTIC = "Not authentic"
VERDICT_WORDING: dict[VerdictReason, VerdictWording] = {
    VerdictReason.AUTHENTIC: VerdictWording(
        "Authentic",
        None,
        "Registered on chain by an active, verified merchant; not flagged and not recalled.",
        "ok",
    ),
    VerdictReason.RECALLED: VerdictWording(
        NOT_AUTHENTIC, "Recalled by the merchant", "The merchant recalled this item.", "bad"
    ),
    VerdictReason.BATCH_RECALLED: VerdictWording(
        NOT_AUTHENTIC,
        "Batch recalled by the merchant",
        "The merchant recalled the batch this item belongs to.",
        "bad",
    ),
    VerdictReason.FLAGGED: VerdictWording(
        NOT_AUTHENTIC,
        "Reported counterfeit (confirmed)",
        "A verifier confirmed a report against this item.",
        "bad",
    ),
    VerdictReason.MERCHANT_SUSPENDED: VerdictWording(
        NOT_AUTHENTIC,
        "Merchant suspended",
        "The merchant that registered this item is suspended.",
        "bad",
    ),
    VerdictReason.UNKNOWN: VerdictWording(
        "Unknown item",
        None,
        "No registered item or published batch matches this link.",
        "unsure",
    ),
    VerdictReason.BATCH_UNPUBLISHED: VerdictWording(
        "Not yet verifiable",
        None,
        "The merchant holding this GTIN's company prefix has registered a batch on chain but "
        "has not published the batch's item list, so this item cannot be checked yet.",
        "unsure",
    ),
}
