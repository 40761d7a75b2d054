"""Validation of merchant input files: every problem names its row and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, ValidationError

from app.domain.custody_rows import load_custody
from app.domain.ids import item_id_from_gs1, item_id_from_sku
from app.domain.input_files import InputFileError, describe, summary
from app.domain.item_rows import load_items
from app.domain.metadata import metadata_hash
from app.domain.vocab import CustodyAction

MERCHANT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
GTIN = "09506000134352"


def problems_of(path: Path, loader: str = "items") -> list[str]:
    with pytest.raises(InputFileError) as caught:
        if loader == "items":
            load_items(path, MERCHANT)
        else:
            load_custody(path, MERCHANT)
    return caught.value.problems


def test_load_items_computes_sku_and_gs1_ids_and_hashes_metadata_files(tmp_path: Path) -> None:
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "shoe.json").write_text('{"size": "42", "name": "Shoe"}')
    path = tmp_path / "items.json"
    path.write_text(
        json.dumps(
            {
                "items": [
                    {
                        "sku": "MUG",
                        "serial": "7",
                        "metadata": {"name": "Mug"},
                        "metadata_uri": "u1",
                    },
                    {
                        "gtin": GTIN,
                        "serial": "S1",
                        "metadata_file": "meta/shoe.json",
                        "metadata_uri": "u2",
                    },
                ]
            }
        )
    )

    mug, shoe = load_items(path, MERCHANT)

    assert (mug.where, mug.item_id) == ("index 0", item_id_from_sku(MERCHANT, "MUG", "7"))
    assert mug.metadata_hash == metadata_hash({"name": "Mug"})
    assert (shoe.where, shoe.item_id) == ("index 1", item_id_from_gs1(GTIN, "S1"))
    assert shoe.metadata_hash == keccak(b'{"name":"Shoe","size":"42"}')


def test_load_items_names_csv_line_and_field_of_every_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(
        "sku,gtin,serial,metadata,metadata_file,metadata_uri\n"
        'A,,1,"{}",,u\n'
        ",12345,2,{},,u\n"
        'A,,3,"{}",missing.json,u\n'
        '"multi\nline",,4,"[1]",,u\n'
        ",,5,{},,u\n"
        f",{GTIN},bad serial,{{}},,u\n"
    )

    assert problems_of(path) == [
        "line 3, field 'gtin': GTIN must be 8, 12, 13 or 14 digits, got '12345'",
        "line 4: give exactly one of metadata (inline JSON) or metadata_file",
        "line 5, field 'metadata': must be a JSON object",
        "line 7: name the item with sku and serial, or gtin and serial",
        "line 8: GS1 serial must be 1-20 characters of GS1 character set 82, got 'bad serial'",
    ]


def test_load_items_reports_a_missing_metadata_file_and_unknown_columns(tmp_path: Path) -> None:
    path = tmp_path / "items.json"
    path.write_text(
        json.dumps(
            [
                {"sku": "A", "serial": "1", "metadata_file": "nope.json", "metadata_uri": "u"},
                {"sku": "A", "serial": "2", "metadata": {}, "metadata_uri": "u", "colour": "red"},
                "not an object",
            ]
        )
    )

    problems = problems_of(path)

    assert problems == ["index 2: expected an object, got str"]
    path.write_text(json.dumps(json.loads(path.read_text())[:2]))
    assert problems_of(path) == [
        "column 'colour' is not one this file takes (columns: gtin, metadata, metadata_file, "
        "metadata_uri, serial, sku)"
    ]
    path.write_text(json.dumps(json.loads(path.read_text())[:1]))
    (problem,) = problems_of(path)
    assert problem.startswith("index 0, field 'metadata_file': no such file: ")


def test_a_header_typo_and_a_missing_column_are_said_once_with_the_likely_name(
    tmp_path: Path,
) -> None:
    path = tmp_path / "items.csv"
    path.write_text("SKU,serial,metadata\nA,1,{}\nA,2,{}\nA,3,{}\n")

    assert problems_of(path) == [
        "column 'SKU' is not one this file takes (did you mean 'sku'?)",
        "column 'sku' or 'gtin' is missing: every row needs it",
        "column 'metadata_uri' is missing: every row needs it",
    ]


def test_a_wrong_gtin_check_digit_names_the_right_one(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("gtin,serial,metadata,metadata_uri\n09506000134353,S1,{},u\n")

    (problem,) = problems_of(path)

    assert problem == (
        "line 2, field 'gtin': GTIN '09506000134353' has a wrong check digit: it ends in 3, "
        "the digits before it give 2 (09506000134352)"
    )


def test_load_items_names_every_line_of_a_repeated_item(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("sku,serial,metadata,metadata_uri\nA,1,{},u\nB,1,{},u\nA,1,{},v\n")

    (problem,) = problems_of(path)

    item_id = item_id_from_sku(MERCHANT, "A", "1")
    assert problem == (
        f"line 2, line 4: the same item (sku A serial 1, id 0x{item_id.hex()}) "
        "appears more than once"
    )


def test_load_custody_parses_items_actions_times_and_hashes(tmp_path: Path) -> None:
    item = "0x" + "ab" * 32
    path = tmp_path / "custody.csv"
    path.write_text(
        "item_id,sku,serial,action,occurred_at,location,reference,event_id\n"
        f"{item},,,In-Transit,2025-03-01T10:00:00+01:00,GLN 1,SH-1,0x10\n"
        ",MUG,7,sold,1700000000,,,\n"
    )

    first, second = load_custody(path, MERCHANT)

    assert (first.item_id, first.action, first.event_id) == (
        bytes.fromhex("ab" * 32),
        CustodyAction.IN_TRANSIT,
        16,
    )
    assert first.occurred_at == 1740819600
    assert (first.location_hash, first.context_hash) == (keccak(b"GLN 1"), keccak(b"SH-1"))
    assert second.item_id == item_id_from_sku(MERCHANT, "MUG", "7")
    assert (second.action, second.occurred_at, second.event_id) == (
        CustodyAction.SOLD,
        1700000000,
        None,
    )
    assert second.location_hash == second.context_hash == bytes(32)


def test_load_custody_rejects_bad_actions_times_and_repeated_event_ids(tmp_path: Path) -> None:
    path = tmp_path / "custody.csv"
    path.write_text(
        "sku,serial,action,occurred_at,event_id\n"
        "A,1,teleported,1700000000,\n"
        "A,1,sold,2025-03-01T10:00:00,\n"
        "A,1,sold,1700000000,5\n"
        "A,2,sold,1700000001,5\n"
        "A,3,none,1700000000,-1\n"
    )

    problems = problems_of(path, "custody")

    assert problems[0].startswith("line 2, field 'action': unknown action 'teleported'")
    assert problems[1] == (
        "line 3, field 'occurred_at': '2025-03-01T10:00:00' has no UTC offset (add Z or +01:00)"
    )
    assert problems[2].startswith("line 6, field 'action': unknown action 'none'")
    assert problems[3].startswith("line 6, field 'event_id': Input should be greater than")
    assert problems[4] == "line 4, line 5: the same event_id 5 appears more than once"


def test_a_misspelt_key_is_said_in_plain_words_with_the_key_it_resembles() -> None:
    class Terms(BaseModel):
        model_config = ConfigDict(extra="forbid")
        refresh_period: int
        min_band: int

    with pytest.raises(ValidationError) as raised:
        Terms.model_validate({"refresh_period": 1, "min_bnd": 2})

    assert (
        summary(raised.value)
        == "min_band: missing; min_bnd: not a known key (did you mean 'min_band'?)"
    )
    assert describe(raised.value, "line 2") == [
        "line 2, field 'min_band': missing",
        "line 2, field 'min_bnd': not a known key (did you mean 'min_band'?)",
    ]
