"""Order files and the units people type (no chain): terms hash as the contract hashes them,
edited files are refused, durations, moments and amounts parse exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.domain.input_files import ModelFileError
from app.domain.orders import (
    ETH,
    OrderFile,
    OrderTerms,
    read_order_file,
    text_hash,
    write_order_file,
)
from app.domain.units import format_amount, parse_amount, parse_duration, parse_moment
from tests.contracts.escrow.helpers import Terms

BUYER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"
MERCHANT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
ESCROW = "0x610178dA211FEF7D417bC0e6FeD39F05609AD788"


def terms(**changes: object) -> OrderTerms:
    values: dict[str, object] = {
        "buyer": BUYER,
        "merchant": MERCHANT,
        "payer": BUYER,
        "token": ETH,
        "amount": 2**200 + 1,
        "ship_by": 1_800_000_000,
        "deliver_by": 1_800_600_000,
        "dispute_window": 259_200,
        "fee_bps": 100,
        "order_ref": text_hash("PO-7"),
        "salt": 2**255 + 7,
        "item_ids": ("0x" + "ab" * 32, "0x" + "cd" * 32),
    }
    values.update(changes)
    return OrderTerms.model_validate(values)


def test_order_id_equals_the_escrow_tests_independent_hash_of_the_same_terms() -> None:
    ours = terms()
    theirs = Terms(
        BUYER,
        MERCHANT,
        BUYER,
        ETH,
        ours.amount,
        ours.ship_by,
        ours.deliver_by,
        ours.dispute_window,
        ours.fee_bps,
        bytes.fromhex(ours.order_ref[2:]),
        ours.salt,
        tuple(bytes.fromhex(i[2:]) for i in ours.item_ids),
    )
    assert ours.order_id == "0x" + theirs.order_id.hex()


def test_terms_rebuild_from_a_decoded_event_as_tuple_or_as_named_fields() -> None:
    original = terms()
    values = original.as_abi()
    names = ("buyer", "merchant", "payer", "token", "amount", "shipBy", "deliverBy")
    names += ("disputeWindow", "feeBps", "orderRef", "salt", "itemIds")
    assert OrderTerms.from_abi(values) == original
    assert OrderTerms.from_abi(dict(zip(names, values, strict=True))) == original


def test_order_file_round_trips_with_uint256_values_as_decimal_strings(tmp_path: Path) -> None:
    order = OrderFile(chain_id=1337, escrow=ESCROW, order_id=terms().order_id, terms=terms())
    path = tmp_path / "order.json"

    write_order_file(path, order)

    data = json.loads(path.read_text())
    assert data["terms"]["amount"] == str(2**200 + 1)
    assert data["terms"]["salt"] == str(2**255 + 7)
    assert read_order_file(path) == order


def test_order_file_whose_terms_were_edited_is_refused(tmp_path: Path) -> None:
    order = OrderFile(chain_id=1337, escrow=ESCROW, order_id=terms().order_id, terms=terms())
    data = order.model_dump(mode="json")
    data["terms"]["amount"] = "1"
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))

    with pytest.raises(ModelFileError, match="is not the hash of the terms"):
        read_order_file(path)


@pytest.mark.parametrize(
    "address",
    [
        MERCHANT[:-1] + "c",  # a wrong EIP-55 checksum: a mistyped address
        MERCHANT[2:].lower(),  # no 0x
        "0X" + MERCHANT[2:].upper(),
        MERCHANT + "0",
    ],
)
def test_addresses_are_0x_hex_and_a_mixed_case_one_is_its_checksum(address: str) -> None:
    with pytest.raises(ValueError, match="buyer"):
        terms(buyer=address)
    one_case = (MERCHANT.lower(), "0x" + MERCHANT[2:].upper())
    assert [terms(buyer=address).buyer for address in one_case] == [MERCHANT, MERCHANT]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1_800), ("36h", 129_600), ("7d", 604_800), ("1d12h", 129_600)],
)
def test_durations_parse_with_units(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


def test_moments_are_relative_to_chain_time_or_absolute_with_an_offset() -> None:
    now = 1_800_000_000
    assert parse_moment("7d", now) == parse_moment("+7d", now) == now + 604_800
    assert parse_moment("@1800000123", now) == 1_800_000_123
    assert parse_moment("2027-01-15T08:00:00+01:00", now) == 1_799_996_400
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_moment("2027-01-15T08:00:00", now)


def test_amounts_parse_exactly_and_refuse_more_decimals_than_the_token_has() -> None:
    assert parse_amount("19.99", 6) == 19_990_000
    assert (
        parse_amount("123456789012345678901234567.5", 18)
        == 123456789012345678901234567500000000000000000
    )
    assert format_amount(19_990_000, 6, "mUSD") == "19.99 mUSD"
    with pytest.raises(ValueError, match="more than 6 decimals"):
        parse_amount("0.0000001", 6)
    with pytest.raises(ValueError, match="positive"):
        parse_amount("0", 18)


@pytest.mark.parametrize(
    ("units", "decimals", "min_places", "text"),
    [
        (25 * 10**16, 18, 0, "0.25 ETH"),
        (10**18, 18, 0, "1 ETH"),
        (10**18, 18, 2, "1.00 ETH"),
        (25 * 10**16, 18, 2, "0.25 ETH"),
        (3 * 10**15, 18, 2, "0.003 ETH"),
        (480 * 10**6, 6, 2, "480.00 ETH"),
        (480_500_000, 6, 2, "480.50 ETH"),
        (7, 0, 2, "7 ETH"),  # a token without decimals has no places to show
        (0, 18, 2, "0.00 ETH"),
    ],
)
def test_amounts_format_without_trailing_zeros_beyond_the_places_asked(
    units: int, decimals: int, min_places: int, text: str
) -> None:
    assert format_amount(units, decimals, "ETH", min_places=min_places) == text
