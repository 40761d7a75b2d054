"""Every reason the contract can deny for (``DenialReason``, held to ICreditLines.sol by
test_vocab_matches_contracts) has its words in English and in Simplified Chinese, and a code
that is its name."""

from __future__ import annotations

import re

from app.domain.credit_reasons import DENIAL_REASON_WORDS, denial_words, reason_code
from app.domain.vocab import DenialReason

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_denial_reason_has_words_in_both_languages() -> None:
    assert set(DENIAL_REASON_WORDS) == set(DenialReason)
    for reason in DenialReason:
        words = denial_words(reason)
        assert words.en.endswith(".") and not HAN.search(words.en), reason
        assert words.zh.endswith("。") and HAN.search(words.zh), reason
    assert len({w.en for w in DENIAL_REASON_WORDS.values()}) == len(DenialReason)
    assert len({w.zh for w in DENIAL_REASON_WORDS.values()}) == len(DenialReason)


def test_a_reasons_code_is_its_contract_name_in_snake_case() -> None:
    assert reason_code(DenialReason.IDENTITY_BOUND_ELSEWHERE) == "identity_bound_elsewhere"
    assert [reason_code(r) for r in DenialReason.decode(0b100001)] == [
        "band_below_minimum",
        "identity_bound_elsewhere",
    ]
