"""Every standing the contract's ``lineOf`` can report (``Standing``, held to ICreditLines.sol by
test_vocab_matches_contracts) has its words on the borrower's page, in both languages."""

from __future__ import annotations

import re

from app.credit.line_wording import STANDINGS
from app.domain.vocab import Standing

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_standing_has_words_in_both_languages() -> None:
    assert set(STANDINGS) == {standing.name.lower() for standing in Standing}
    for name, phrase in STANDINGS.items():
        assert phrase.en and not HAN.search(phrase.en), name
        assert HAN.search(phrase.zh), name
    assert len({phrase.en for phrase in STANDINGS.values()}) == len(Standing)
