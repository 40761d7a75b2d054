"""Item ids on chain: itemIdOf, gs1ItemId, and the Python twins in app.domain.ids."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from app.domain.ids import item_id_from_gs1, item_id_from_sku

# GS1 General Specifications, figure 7.11-1: the 82 characters a serial (AI 21) may use.
CHARACTER_SET_82 = (
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
ASCII_OUTSIDE_SET_82 = [chr(c) for c in range(128) if chr(c) not in CHARACTER_SET_82]

# Published examples with valid check digits.
GS1_EXAMPLE_GTIN13 = "9506000134352"  # GS1 Digital Link standard
EAN8 = "96385074"
UPC_A = "036000291452"
EAN13 = "4006381333931"
GTIN14 = "10614141000415"


def test_character_set_82_has_82_characters() -> None:
    assert len(set(CHARACTER_SET_82)) == 82
    assert len(ASCII_OUTSIDE_SET_82) == 128 - 82


def test_item_id_of_matches_python(registry: Any, merchant: Any) -> None:
    for sku, serial in [("SKU-1", "1"), ("", ""), ("Größe 42 👟", "序列号"), ("a" * 300, "b")]:
        assert registry.itemIdOf(merchant, sku, serial) == item_id_from_sku(
            merchant.address, sku, serial
        )


def test_item_id_of_depends_on_merchant_sku_and_serial(
    registry: Any, merchant: Any, other_merchant: Any
) -> None:
    ids = {
        registry.itemIdOf(merchant, "SKU", "1"),
        registry.itemIdOf(other_merchant, "SKU", "1"),
        registry.itemIdOf(merchant, "SKU2", "1"),
        registry.itemIdOf(merchant, "SKU", "2"),
        registry.itemIdOf(merchant, "SKU1", ""),
        registry.itemIdOf(merchant, "SK", "U1"),
    }
    assert len(ids) == 6


@pytest.mark.parametrize("gtin", [GS1_EXAMPLE_GTIN13, EAN8, UPC_A, EAN13, GTIN14])
def test_gs1_item_id_matches_python_for_valid_gtins(registry: Any, gtin: str) -> None:
    assert registry.gs1ItemId(gtin, "A1") == item_id_from_gs1(gtin, "A1")


@pytest.mark.parametrize(
    "forms",
    [
        (EAN8, "0000" + EAN8, "00000" + EAN8, "000000" + EAN8),
        (UPC_A, "0" + UPC_A, "00" + UPC_A),
        (GS1_EXAMPLE_GTIN13, "0" + GS1_EXAMPLE_GTIN13),
    ],
    ids=["gtin8", "gtin12", "gtin13"],
)
def test_gs1_item_id_is_the_same_for_every_padding_of_a_gtin(
    registry: Any, forms: tuple[str, ...]
) -> None:
    ids = {registry.gs1ItemId(gtin, "SER-1") for gtin in forms}

    assert len(ids) == 1


def test_gs1_item_id_differs_from_sku_item_id_and_by_serial(registry: Any, merchant: Any) -> None:
    a1 = registry.gs1ItemId(GS1_EXAMPLE_GTIN13, "A1")

    assert a1 != registry.gs1ItemId(GS1_EXAMPLE_GTIN13, "A2")
    assert a1 != registry.gs1ItemId(EAN13, "A1")
    assert a1 != registry.itemIdOf(merchant, GS1_EXAMPLE_GTIN13, "A1")


@pytest.mark.parametrize(
    "gtin",
    [
        "9506000134353",  # wrong check digit
        "96385075",
        "036000291450",
        "10614141000414",
        "",
        "1234567",  # 7 digits
        "950600013",  # 9
        "9506000134",  # 10
        "95060001343",  # 11
        "095060001343520",  # 15
        "95060001343a2",
        "950600013435 ",
        " 950600013435",
        "+506000134352",
        "-9638507",
        "950600013435/",  # "/" is just below "0"
        "950600013435:",  # ":" is just above "9"
        "".join(chr(0xFF10 + int(d)) for d in GS1_EXAMPLE_GTIN13),  # fullwidth digits
        "".join(chr(0x0660 + int(d)) for d in GS1_EXAMPLE_GTIN13),  # Arabic-Indic digits
        "".join(chr(0x0660 + int(d)) for d in EAN8[:4]),  # 4 of them make 8 bytes
        "0961234567\x00",
    ],
)
def test_gs1_item_id_reverts_for_invalid_gtin(registry: Any, gtin: str) -> None:
    with ape.reverts(registry.RegistryInvalidGtin, gtin=gtin):
        registry.gs1ItemId(gtin, "A1")


def test_gs1_item_id_reverts_for_invalid_gtin_before_looking_at_serial(registry: Any) -> None:
    with ape.reverts(registry.RegistryInvalidGtin, gtin="123"):
        registry.gs1ItemId("123", "")


def test_gs1_item_id_accepts_every_character_of_set_82(registry: Any) -> None:
    for start in range(0, len(CHARACTER_SET_82), 20):
        serial = CHARACTER_SET_82[start : start + 20]
        assert registry.gs1ItemId(EAN8, serial) == item_id_from_gs1(EAN8, serial)


@pytest.mark.parametrize("serial", ["!", '"', "%", "?", "A", "Z", "_", "a", "z", "0", "9"])
def test_gs1_item_id_accepts_edge_characters_of_set_82(registry: Any, serial: str) -> None:
    assert registry.gs1ItemId(EAN8, serial) == item_id_from_gs1(EAN8, serial)


def test_gs1_item_id_reverts_for_every_ascii_character_outside_set_82(registry: Any) -> None:
    for char in ASCII_OUTSIDE_SET_82:
        serial = f"AB{char}9"
        with ape.reverts(registry.RegistryInvalidSerial, serial=serial):
            registry.gs1ItemId(EAN8, serial)


@pytest.mark.parametrize(
    "serial",
    [
        "",
        "A" * 21,
        "0123456789abcdefghijK",
        "é",
        "ABCé",
        "€1",
        "😀",
        "A B",
        "A\tB",
        "#",
        "$",
        "@",
        "[",
        "`",
        "{",
        "~",
        "\x7f",
    ],
)
def test_gs1_item_id_reverts_for_invalid_serial(registry: Any, serial: str) -> None:
    with ape.reverts(registry.RegistryInvalidSerial, serial=serial):
        registry.gs1ItemId(GS1_EXAMPLE_GTIN13, serial)


def test_gs1_item_id_accepts_serial_of_exactly_twenty_characters(registry: Any) -> None:
    serial = "ABCDEFGHIJ0123456789"

    assert registry.gs1ItemId(GTIN14, serial) == item_id_from_gs1(GTIN14, serial)
