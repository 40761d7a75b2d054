"""``parse_digital_link``: GS1 Digital Link URIs of a GTIN as the standard writes them, their
structure and their values checked, and the canonical path back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.digital_link import DigitalLink, parse_digital_link
from app.domain.errors import InvalidDigitalLinkValue, InvalidGtin, InvalidSerial, NotADigitalLink
from app.domain.ids import item_id_from_gs1
from tests.domain.test_ids import CHARACTER_SET_82

GTIN14 = "09506000134352"


@pytest.mark.parametrize(
    ("uri", "link"),
    [
        (f"/01/{GTIN14}/21/A1", DigitalLink(GTIN14, serial="A1")),
        (f"/01/{GTIN14}/21/A1/", DigitalLink(GTIN14, serial="A1")),
        ("/01/9506000134352/21/A1", DigitalLink(GTIN14, serial="A1")),  # GTIN-13 padded
        (f"/01/{GTIN14}/21/A%2F1%3F", DigitalLink(GTIN14, serial="A/1?")),
        (f"/01/{GTIN14}/10/L%2F24/21/7", DigitalLink(GTIN14, lot="L/24", serial="7")),
        (f"/01/{GTIN14}/22/V2/10/L1/21/7", DigitalLink(GTIN14, cpv="V2", lot="L1", serial="7")),
        (f"/01/{GTIN14}/10/L1", DigitalLink(GTIN14, lot="L1")),
        (f"/01/{GTIN14}", DigitalLink(GTIN14)),
        (
            f"/01/{GTIN14}/21/7?17=261231&linkType=gs1:pip",
            DigitalLink(GTIN14, serial="7", link_type="gs1:pip"),
        ),
        (
            f"https://id.example.com/01/{GTIN14}/21/7?linkType=https%3A%2F%2Fgs1.org%2Fvoc%2Fpip",
            DigitalLink(GTIN14, serial="7", link_type="gs1:pip"),
        ),
        (f"/01/{GTIN14}/21/7?linkType=", DigitalLink(GTIN14, serial="7")),
    ],
)
def test_a_link_of_the_standard_is_read_as_its_gtin_qualifiers_and_link_type(
    uri: str, link: DigitalLink
) -> None:
    assert parse_digital_link(uri) == link


@pytest.mark.parametrize(
    "uri",
    [
        f"/01/{GTIN14}/21/A1/extra",
        f"/01/{GTIN14}/21/A1/10/L1",  # out of order
        f"/01/{GTIN14}/21/A1/21/A2",  # repeated
        f"/01/{GTIN14}/17/261231",  # a data attribute belongs in the query
        f"/01/{GTIN14}/21",
        f"/01/{GTIN14}//21/A1",
        f"/01/{GTIN14}/21/A1//",
        "/01/",
        "/414/9506000000001",
    ],
)
def test_another_structure_is_not_a_digital_link(uri: str) -> None:
    with pytest.raises(NotADigitalLink):
        parse_digital_link(uri)


def test_each_value_is_checked_as_its_key_takes_it() -> None:
    with pytest.raises(InvalidGtin):
        parse_digital_link("/01/09506000134353/21/A1")
    with pytest.raises(InvalidSerial):
        parse_digital_link(f"/01/{GTIN14}/21/{'x' * 21}")
    with pytest.raises(InvalidDigitalLinkValue, match="lot"):
        parse_digital_link(f"/01/{GTIN14}/10/{'L' * 21}/21/A1")
    with pytest.raises(InvalidDigitalLinkValue, match="variant"):
        parse_digital_link(f"/01/{GTIN14}/22/a%20%C3%A9/21/A1")
    with pytest.raises(InvalidDigitalLinkValue):
        parse_digital_link(f"/01/{GTIN14}/10/%FF/21/A1")  # not UTF-8


def test_the_item_id_is_gtin_and_serial_whatever_the_lot() -> None:
    plain = parse_digital_link(f"/01/{GTIN14}/21/A1")
    with_lot = parse_digital_link(f"/01/{GTIN14}/22/V/10/L9/21/A1")

    assert plain.item_id == with_lot.item_id == item_id_from_gs1(GTIN14, "A1")
    assert parse_digital_link(f"/01/{GTIN14}/10/L9").item_id is None


@given(
    st.text(alphabet=CHARACTER_SET_82, min_size=1, max_size=20),
    st.none() | st.text(alphabet=CHARACTER_SET_82, min_size=1, max_size=20),
    st.none() | st.text(alphabet=CHARACTER_SET_82, min_size=1, max_size=20),
)
def test_the_canonical_path_reads_back_as_the_same_link(
    serial: str, lot: str | None, cpv: str | None
) -> None:
    link = DigitalLink(GTIN14, cpv=cpv, lot=lot, serial=serial)

    assert parse_digital_link(link.path) == link
    assert parse_digital_link(link.path + "/") == link
