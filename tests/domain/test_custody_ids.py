"""How custody event ids are handed out (``app.domain.custody_ids``): the one rule the relayer and
the merchant's script share."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from eth_abi.abi import encode

from app.domain.custody_ids import MAX_EVENT_ID, custody_key, first_unspent, free_ids, key_of_log


def spent_among(taken: set[int]):
    asked: list[list[int]] = []

    def flags(ids: Sequence[int]) -> list[bool]:
        asked.append(list(ids))
        return [i in taken for i in ids]

    return flags, asked


def test_a_sequence_goes_on_one_past_the_highest_id_ever_spent() -> None:
    assert first_unspent([]) == 0
    assert first_unspent([4, 0, 9]) == 10


def test_ids_follow_in_sequence_around_those_the_chain_shows_spent() -> None:
    flags, asked = spent_among({11, 12, 15})
    assert free_ids(10, 4, flags) == [10, 13, 14, 16]
    # Asked in windows of what is still missing, never an id twice.
    assert asked == [[10, 11, 12, 13], [14, 15], [16]]


def test_no_ids_asked_for_none() -> None:
    flags, asked = spent_among(set())
    assert free_ids(7, 0, flags) == []
    assert asked == []


def test_the_last_id_is_never_passed() -> None:
    flags, _ = spent_among(set())
    assert free_ids(MAX_EVENT_ID, 1, flags) == [MAX_EVENT_ID]
    with pytest.raises(ValueError, match="no custody event id left"):
        free_ids(MAX_EVENT_ID, 2, flags)


def test_a_submitter_whose_ids_are_all_taken_as_we_look_is_told_so() -> None:
    with pytest.raises(ValueError, match="no 3 free custody event ids"):
        free_ids(0, 3, lambda ids: [True] * len(ids))


def test_a_log_says_the_same_event_only_when_every_field_agrees() -> None:
    item, place, context = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    data = encode(["uint8", "uint40", "bytes32", "bytes32"], [3, 1_700_000_000, place, context])
    said = custody_key(item, 3, 1_700_000_000, place, context)
    assert key_of_log(item, data) == said
    assert key_of_log(item, data) != custody_key(item, 3, 1_700_000_001, place, context)
    assert key_of_log(b"\x09" * 32, data) != said
