"""The pure rules both sources of an answer share: which registration speaks for an item after
verifiers' reassignments (``app.shop.facts.ItemRecord``), the verdict's order
(``app.shop.assemble.judge``) and what an order adds to its merchant's seller record
(``app.index.seller_records.order_counts``). No chain: these are the rules alone."""

from __future__ import annotations

import pytest

from app.domain.vocab import MerchantStatus, OrderStatus
from app.index.seller_records import OrderOutcome, order_counts, seller_records
from app.shop.assemble import judge
from app.shop.facts import ItemRecord, Reassignment, Recall, Ref, Registration
from app.shop.schemas import VerdictReason
from app.shop.wording import NOT_AUTHENTIC, VERDICT_WORDING

MERCHANT, RIGHTFUL = "0x" + "aa" * 20, "0x" + "bb" * 20
ROOT = "0x" + "cc" * 32
FLOOR = 1_000


def _ref(block: int) -> Ref:
    return Ref("0x" + f"{block:064x}", block, 0, 1_700_000_000 + block)


def _activated(block: int) -> Registration:
    return Registration(_ref(block), MERCHANT, "0x" + "dd" * 32, None, ROOT)


def _reassigned(block: int, to: str | None) -> Reassignment:
    return Reassignment(_ref(block), MERCHANT, to, "0x" + "ee" * 32)


def test_an_item_no_verifier_touched_is_its_registration_in_its_batch() -> None:
    record = ItemRecord.resolve(_activated(10), [])
    assert (record.merchant, record.root, record.left_root) == (MERCHANT, ROOT, None)


def test_a_move_names_the_new_merchant_takes_the_item_out_of_its_batch_and_carries_a_recall() -> (
    None
):
    record = ItemRecord.resolve(_activated(10), [_reassigned(20, RIGHTFUL)])
    assert (record.merchant, record.root, record.left_root) == (RIGHTFUL, None, ROOT)
    before, after = Recall(_ref(15), "0x01"), Recall(_ref(25), "0x02")
    assert record.carried(before) == before  # made under the batch: stays with the goods
    assert record.carried(after) is None  # the item had left the batch


def test_a_revocation_deletes_the_record_and_what_happened_to_it_before() -> None:
    record = ItemRecord.resolve(_activated(10), [_reassigned(20, None)])
    assert (record.registration, record.merchant, record.left_root) == (None, None, None)
    assert record.current([Recall(_ref(15), "0x01"), Recall(_ref(30), "0x02")]) == [
        Recall(_ref(30), "0x02")
    ]
    again = Registration(_ref(40), MERCHANT, "0x" + "dd" * 32, "ipfs://x", None)
    assert ItemRecord.resolve(again, [_reassigned(20, None)]).merchant == MERCHANT


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({"item_recalled": True, "batch_recalled": True, "flagged": True}, "recalled"),
        ({"batch_recalled": True, "flagged": True}, "batch_recalled"),
        ({"flagged": True, "merchant": None}, "flagged"),
        ({"merchant": None}, "unknown"),
        ({"merchant": None, "unpublished_batches": True}, "batch_unpublished"),
        ({"flagged": True, "merchant": None, "unpublished_batches": True}, "flagged"),
        ({"unpublished_batches": True}, "authentic"),  # a record speaks for the item
        ({"status": MerchantStatus.SUSPENDED}, "merchant_suspended"),
        ({}, "authentic"),
    ],
)
def test_the_verdict_follows_the_registrys_order(facts: dict[str, object], reason: str) -> None:
    given: dict[str, object] = {
        "item_recalled": False,
        "batch_recalled": False,
        "flagged": False,
        "merchant": MERCHANT,
        "status": MerchantStatus.ACTIVE,
        "unpublished_batches": False,
    }
    assert judge(**{**given, **facts}) is VerdictReason(reason)  # type: ignore[arg-type]


def _order(
    status: OrderStatus, amount: int = FLOOR, disputed: bool = False, bps: int = 0
) -> OrderOutcome:
    return OrderOutcome(MERCHANT, "0x" + "00" * 20, amount, status, disputed, bps)


@pytest.mark.parametrize(
    ("order", "counts"),
    [
        (_order(OrderStatus.RELEASED, amount=FLOOR - 1), (0, 0, 0, 0, 0)),  # dust: left out
        (_order(OrderStatus.FUNDED), (1, 0, 0, 0, 0)),
        (_order(OrderStatus.RELEASED), (1, 1, 0, 0, 0)),
        (_order(OrderStatus.REFUNDED), (1, 0, 1, 0, 0)),
        (_order(OrderStatus.REFUNDED, disputed=True), (1, 0, 1, 1, 1)),
        (_order(OrderStatus.SETTLED, disputed=True, bps=5_001), (1, 0, 0, 1, 1)),
        (_order(OrderStatus.SETTLED, disputed=True, bps=5_000), (1, 0, 0, 1, 0)),
        (_order(OrderStatus.SETTLED, bps=10_000), (1, 0, 0, 0, 0)),  # agreed without a dispute
        (_order(OrderStatus.DISPUTED, disputed=True), (1, 0, 0, 1, 0)),
    ],
)
def test_what_an_order_adds_to_its_merchants_record(
    order: OrderOutcome, counts: tuple[int, ...]
) -> None:
    assert order_counts(order, FLOOR) == counts


def test_a_token_without_a_floor_counts_every_order() -> None:
    dust = _order(OrderStatus.RELEASED, amount=1)
    assert seller_records([dust, dust], {}) == {MERCHANT: (2, 2, 0, 0, 0)}
    assert seller_records([dust], {dust.token: FLOOR}) == {MERCHANT: (0, 0, 0, 0, 0)}


def test_every_reason_is_worded_and_no_unknown_item_is_called_not_authentic() -> None:
    assert set(VERDICT_WORDING) == set(VerdictReason)
    for reason in (VerdictReason.UNKNOWN, VerdictReason.BATCH_UNPUBLISHED):
        wording = VERDICT_WORDING[reason]
        assert wording.banner != NOT_AUTHENTIC and wording.tone != "bad"
        assert "counterfeit" not in wording.explanation.en.lower()
        assert "假冒" not in wording.explanation.zh


def test_every_verdict_is_worded_in_both_languages() -> None:
    for wording in VERDICT_WORDING.values():
        phrases = [wording.banner, wording.explanation]
        phrases += [wording.reason] if wording.reason is not None else []
        for phrase in phrases:
            assert phrase.en and phrase.zh and phrase.en != phrase.zh
