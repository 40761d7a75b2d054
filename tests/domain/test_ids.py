"""app.domain.ids: GTIN normalisation, GS1 serials, item ids and GS1 Digital Link paths."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import InvalidGtin, InvalidSerial, TrustMallError
from app.domain.ids import (
    abi_encode_strings,
    gs1_company_prefixes,
    gs1_digital_link_path,
    item_id_from_gs1,
    item_id_from_sku,
    item_id_of_key,
    item_key,
    manifest_item_key,
    normalize_gtin,
    validate_serial,
)
from app.domain.vocab import IdScheme

CHARACTER_SET_82 = (
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
MERCHANT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


@pytest.mark.parametrize(
    ("gtin", "gtin14"),
    [
        ("9506000134352", "09506000134352"),  # GS1 Digital Link example GTIN-13
        ("09506000134352", "09506000134352"),
        ("96385074", "00000096385074"),  # EAN-8
        ("036000291452", "00036000291452"),  # UPC-A (GTIN-12)
        ("4006381333931", "04006381333931"),  # EAN-13
        ("10614141000415", "10614141000415"),  # GTIN-14
    ],
)
def test_normalize_gtin_pads_valid_gtins_to_fourteen_digits(gtin: str, gtin14: str) -> None:
    assert normalize_gtin(gtin) == gtin14


@pytest.mark.parametrize(
    "gtin",
    [
        "9506000134353",
        "96385075",
        "",
        "1234567",
        "950600013",
        "95060001343",
        "095060001343520",
        "95060001343a2",
        " 950600013435",
        "+506000134352",
        "".join(chr(0x0660 + int(d)) for d in "9506000134352"),  # Arabic-Indic digits
        "".join(chr(0xFF10 + int(d)) for d in "96385074"),  # fullwidth digits
        "²" * 8,  # str.isdigit() is true for superscripts
    ],
)
def test_normalize_gtin_rejects_invalid_gtins(gtin: str) -> None:
    with pytest.raises(InvalidGtin):
        normalize_gtin(gtin)


@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_exactly_one_check_digit_completes_every_gtin13_body(body: str) -> None:
    valid = [d for d in "0123456789" if _is_valid(body + d)]

    assert len(valid) == 1


def _is_valid(gtin: str) -> bool:
    try:
        normalize_gtin(gtin)
    except InvalidGtin:
        return False
    return True


@pytest.mark.parametrize(
    "serial", ["A1", "!", '"', "%", "?", "_", "z", "A" * 20, CHARACTER_SET_82[:20]]
)
def test_validate_serial_accepts_set_82_serials_of_1_to_20_characters(serial: str) -> None:
    assert validate_serial(serial) == serial


@pytest.mark.parametrize(
    "serial", ["", "A" * 21, "A B", "#", "$", "@", "[", "\\", "`", "~", "é", "A\n", "\n"]
)
def test_validate_serial_rejects_other_serials(serial: str) -> None:
    with pytest.raises(InvalidSerial):
        validate_serial(serial)


def test_validate_serial_accepts_exactly_the_82_characters() -> None:
    accepted = [chr(c) for c in range(0x250) if _serial_ok(chr(c))]

    assert "".join(accepted) == "".join(sorted(CHARACTER_SET_82))


def _serial_ok(serial: str) -> bool:
    try:
        validate_serial(serial)
    except InvalidSerial:
        return False
    return True


def test_domain_errors_are_value_errors_and_trustmall_errors() -> None:
    for error in (InvalidGtin, InvalidSerial):
        assert issubclass(error, ValueError)
        assert issubclass(error, TrustMallError)


def test_item_id_from_sku_is_keccak_of_abi_encoded_merchant_sku_serial() -> None:
    expected = keccak(encode(["address", "string", "string"], [MERCHANT, "SKU-1", "7"]))

    assert item_id_from_sku(MERCHANT, "SKU-1", "7") == expected


def test_item_id_from_sku_ignores_address_case() -> None:
    assert item_id_from_sku(MERCHANT.lower(), "SKU", "1") == item_id_from_sku(MERCHANT, "SKU", "1")


def test_item_id_from_gs1_is_keccak_of_abi_encoded_gs1_gtin14_serial() -> None:
    expected = keccak(encode(["string", "string", "string"], ["gs1", "09506000134352", "A1"]))

    assert item_id_from_gs1("9506000134352", "A1") == expected


@given(st.lists(st.text(max_size=70), min_size=0, max_size=4))
def test_abi_encode_strings_is_eth_abis_encoding_of_strings(values: list[str]) -> None:
    assert abi_encode_strings(*values) == encode(["string"] * len(values), values)


def test_item_id_from_gs1_is_the_same_for_every_padding() -> None:
    ids = {item_id_from_gs1(g, "X") for g in ("96385074", "000096385074", "00000096385074")}

    assert len(ids) == 1


def test_item_id_from_gs1_checks_gtin_before_serial() -> None:
    with pytest.raises(InvalidGtin):
        item_id_from_gs1("123", "")
    with pytest.raises(InvalidSerial):
        item_id_from_gs1("9506000134352", "")


def test_gs1_digital_link_path_uses_gtin14_and_serial() -> None:
    assert gs1_digital_link_path("9506000134352", "A1") == "/01/09506000134352/21/A1"
    assert gs1_digital_link_path("96385074", "12345") == "/01/00000096385074/21/12345"
    assert gs1_digital_link_path("10614141000415", "ABC-1") == "/01/10614141000415/21/ABC-1"


def test_gs1_digital_link_path_rejects_invalid_parts() -> None:
    with pytest.raises(InvalidGtin):
        gs1_digital_link_path("9506000134353", "A1")
    with pytest.raises(InvalidSerial):
        gs1_digital_link_path("9506000134352", "A B")


@pytest.mark.parametrize(
    ("serial", "encoded"),
    [
        ("A/B", "A%2FB"),
        ("1?x=2", "1%3Fx%3D2"),
        ("50%", "50%25"),
        ("a&b+c", "a%26b%2Bc"),
        ("\"!'()*,:;<>", "%22%21%27%28%29%2A%2C%3A%3B%3C%3E"),
        ("A-1.b_2", "A-1.b_2"),
    ],
)
def test_gs1_digital_link_path_percent_encodes_uri_delimiters_in_serial(
    serial: str, encoded: str
) -> None:
    assert gs1_digital_link_path("9506000134352", serial) == f"/01/09506000134352/21/{encoded}"


@given(st.text(alphabet=CHARACTER_SET_82, min_size=1, max_size=20))
def test_gs1_digital_link_path_has_four_segments_and_decodes_to_the_serial(serial: str) -> None:
    path = gs1_digital_link_path("96385074", serial)

    assert path.split("/")[1:4] == ["01", "00000096385074", "21"]
    assert len(path.split("/")) == 5
    assert "?" not in path
    assert "#" not in path
    assert unquote(path.split("/")[4]) == serial


def test_item_key_is_the_abi_tuple_and_its_id_is_derived_as_the_registry_does() -> None:
    assert item_key(IdScheme.SKU, "MUG-01", "0001") == (0, "MUG-01", "0001")
    assert item_key(IdScheme.GS1, "9506000134352", "A1") == (1, "9506000134352", "A1")
    assert item_id_of_key(MERCHANT, IdScheme.SKU, "MUG-01", "0001") == item_id_from_sku(
        MERCHANT, "MUG-01", "0001"
    )
    assert item_id_of_key(MERCHANT, IdScheme.GS1, "9506000134352", "A1") == item_id_from_gs1(
        "9506000134352", "A1"
    )


def test_item_key_checks_a_gs1_key_before_it_reaches_the_chain() -> None:
    with pytest.raises(InvalidGtin):
        item_key(IdScheme.GS1, "9506000134353", "A1")
    with pytest.raises(InvalidSerial):
        item_key(IdScheme.GS1, "9506000134352", "")


def test_gs1_company_prefixes_are_digits_two_onward_of_the_gtin14() -> None:
    prefixes = gs1_company_prefixes("9506000134352")
    assert prefixes[0] == "9506"
    assert "9506000" in prefixes
    assert prefixes[-1] == "950600013435"
    assert [len(p) for p in prefixes] == list(range(4, 13))


@pytest.mark.parametrize(
    ("item", "key"),
    [
        ({"sku": "MUG-01", "serial": "0001"}, (IdScheme.SKU, "MUG-01", "0001")),
        ({"gtin": "09506000134352", "serial": "A1"}, (IdScheme.GS1, "09506000134352", "A1")),
        ({"serial": "0001"}, None),
        ({"sku": "MUG-01"}, None),
        ({"sku": "MUG-01", "gtin": "09506000134352", "serial": "1"}, None),
        ({"sku": 7, "serial": "1"}, None),
    ],
)
def test_manifest_item_key_reads_sku_or_gtin_and_serial(
    item: dict[str, object], key: tuple[IdScheme, str, str] | None
) -> None:
    assert manifest_item_key(item) == key
