"""The one home of what a verdict says in words: the JSON answer's ``explanation`` (English: the
API's clients are programs) and the page's banner, reason and explanation in English and
Simplified Chinese, for every ``VerdictReason``.

Say only what the chain and the service know. An item nothing speaks for is not called
counterfeit: the service cannot tell a fake from a genuine item whose merchant has not published
the batch it came in, and says which of the two it can rule out.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from app.api.page_language import Lang, Phrase
from app.shop.schemas import VerdictReason

# The banner's colour: green, red, or grey for "cannot say yet".
Tone = Literal["ok", "bad", "unsure"]


class VerdictWording(NamedTuple):
    banner: Phrase  # the page's headline
    reason: Phrase | None  # why, under the banner (None: the banner says it)
    explanation: Phrase  # one sentence on the page; its English is the JSON answer's
    tone: Tone

    def title(self, lang: Lang) -> str:
        banner = self.banner.say(lang)
        if self.reason is None:
            return banner
        return f"{banner}{'：' if lang is Lang.ZH else ': '}{self.reason.say(lang)}"


NOT_AUTHENTIC = Phrase("Not authentic", "非正品")
VERDICT_WORDING: dict[VerdictReason, VerdictWording] = {
    VerdictReason.AUTHENTIC: VerdictWording(
        Phrase("Authentic", "正品"),
        None,
        Phrase(
            "Registered on chain by an active, verified merchant; not flagged and not recalled.",
            "由一家在册且经过核验的商家在链上登记；未被举报为假冒，也未被召回。",
        ),
        "ok",
    ),
    VerdictReason.RECALLED: VerdictWording(
        NOT_AUTHENTIC,
        Phrase("Recalled by the merchant", "已被商家召回"),
        Phrase("The merchant recalled this item.", "商家已召回此件商品。"),
        "bad",
    ),
    VerdictReason.BATCH_RECALLED: VerdictWording(
        NOT_AUTHENTIC,
        Phrase("Batch recalled by the merchant", "所属批次已被商家召回"),
        Phrase(
            "The merchant recalled the batch this item belongs to.",
            "商家已召回此件商品所属的批次。",
        ),
        "bad",
    ),
    VerdictReason.FLAGGED: VerdictWording(
        NOT_AUTHENTIC,
        Phrase("Reported counterfeit (confirmed)", "被举报为假冒（已确认）"),
        Phrase(
            "A verifier confirmed a report against this item.",
            "核验方已确认针对此件商品的一项举报。",
        ),
        "bad",
    ),
    VerdictReason.MERCHANT_SUSPENDED: VerdictWording(
        NOT_AUTHENTIC,
        Phrase("Merchant suspended", "商家已被暂停"),
        Phrase(
            "The merchant that registered this item is suspended.",
            "登记此件商品的商家已被暂停。",
        ),
        "bad",
    ),
    VerdictReason.UNKNOWN: VerdictWording(
        Phrase("Unknown item", "未知商品"),
        None,
        Phrase(
            "No registered item or published batch matches this link.",
            "没有任何已登记的商品或已公布的批次与此链接相符。",
        ),
        "unsure",
    ),
    VerdictReason.BATCH_UNPUBLISHED: VerdictWording(
        Phrase("Not yet verifiable", "暂时无法核验"),
        None,
        Phrase(
            "The merchant holding this GTIN's company prefix has registered a batch on chain but "
            "has not published the batch's item list, so this item cannot be checked yet.",
            "持有此 GTIN 厂商识别代码的商家已在链上登记了批次，但尚未公布该批次的商品清单，"
            "因此暂时无法核验此件商品。",
        ),
        "unsure",
    ),
}
