"""What a merchant's item or custody file is refused for, each in words that name the line or
index and the field: files that cannot be rows at all, and rows whose fields cannot be an item
key, a custody event or its metadata. Nothing in a refused file is used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.domain.custody_rows import load_custody
from app.domain.input_files import InputFileError, read_rows
from app.domain.item_rows import load_items
from app.domain.units import parse_duration, parse_moment

MERCHANT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
ITEM = "0x" + "ab" * 32


def problems_of(path: Path, load: str = "items") -> list[str]:
    with pytest.raises(InputFileError) as refused:
        if load == "items":
            load_items(path, MERCHANT)
        else:
            load_custody(path, MERCHANT)
    return refused.value.problems


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("items.txt", "sku,serial\n", "unsupported file type '.txt': use .csv or .json"),
        ("empty.csv", "", "line 1: the file is empty; expected a header row"),
        ("twice.csv", "sku,sku\nA,1\n", "line 1: header has empty or repeated column names"),
        ("short.csv", "sku,serial,metadata_uri\nA,1\n", "line 2: has 2 cells, the header has 3"),
        ("bad.json", "{not json", "not valid JSON"),
        ("object.json", '{"rows": []}', "expected a JSON array, or an object with 'items'"),
        ("mixed.json", '[{"sku": "A"}, 7]', "index 1: expected an object, got int"),
        ("header.csv", "sku,serial,metadata,metadata_uri\n", "the file has no rows"),
    ],
)
def test_a_file_that_cannot_be_rows_is_refused_in_one_line(
    tmp_path: Path, name: str, text: str, said: str
) -> None:
    problems = problems_of(write(tmp_path / name, text))

    assert any(said in problem for problem in problems), problems


def test_a_missing_file_is_named() -> None:
    with pytest.raises(InputFileError, match="no such file"):
        read_rows(Path("/nonexistent/items.csv"), "items")


def test_item_rows_name_each_field_they_cannot_take(tmp_path: Path) -> None:
    rows = [
        {"sku": "A", "gtin": "4006381333931", "serial": "1", "metadata": {}, "metadata_uri": "u"},
        {"serial": "1", "metadata": {}, "metadata_uri": "u"},
        {"sku": "A", "metadata": {}, "metadata_uri": "u"},
        {"sku": "A", "serial": 7, "metadata": "[1, 2]", "metadata_uri": "u"},
        {"sku": "A", "serial": "8", "metadata": "{not json", "metadata_uri": "u"},
        {"sku": "A", "serial": "9", "metadata": {"x": 2**60}, "metadata_uri": "u"},
        {"sku": "A", "serial": "10", "metadata_file": "absent.json", "metadata_uri": "u"},
        {"sku": "A", "serial": "11", "metadata_file": "list.json", "metadata_uri": "u"},
        {"sku": "A", "serial": "12", "metadata_file": "broken.json", "metadata_uri": "u"},
        {"sku": "A", "serial": "13", "metadata_file": "huge.json", "metadata_uri": "u"},
    ]
    write(tmp_path / "list.json", "[1]")
    write(tmp_path / "broken.json", "{")
    write(tmp_path / "huge.json", '{"grams": 1152921504606846976}')

    problems = problems_of(write(tmp_path / "items.json", json.dumps(rows)))

    expected = [
        "index 0: give either sku or gtin, not both",
        "index 1: name the item with sku and serial, or gtin and serial",
        "index 2: serial is required with sku or gtin",
        "index 3, field 'metadata': must be a JSON object",
        "index 4, field 'metadata': not valid JSON",
        "index 5, field 'metadata': $.x: integer 1152921504606846976 is outside",
        "index 6, field 'metadata_file': no such file",
        "index 7, field 'metadata_file': list.json must hold a JSON object",
        "index 8, field 'metadata_file': broken.json is not valid JSON",
        "index 9, field 'metadata_file': huge.json: $.grams: integer",
    ]
    for said in expected:
        assert any(problem.startswith(said) for problem in problems), (said, problems)


def test_custody_rows_name_each_field_they_cannot_take(tmp_path: Path) -> None:
    rows = [
        {"item_id": "0x12", "action": "shipped", "occurred_at": 1},
        {"item_id": ITEM, "action": 3, "occurred_at": 1},
        {"item_id": ITEM, "action": "shipped", "occurred_at": "yesterday"},
        {"item_id": ITEM, "action": "shipped", "occurred_at": 1, "event_id": True},
        {"item_id": ITEM, "action": "shipped", "occurred_at": 1, "event_id": "seven"},
        {"item_id": ITEM, "sku": "A", "serial": "1", "action": "shipped", "occurred_at": 1},
        {"item_id": ITEM, "action": "shipped", "occurred_at": 1, "context": "a", "reference": "b"},
    ]

    problems = problems_of(write(tmp_path / "events.json", json.dumps(rows)), "custody")

    expected = [
        "index 0, field 'item_id': must be 0x followed by 64 hex digits",
        "index 1, field 'action': must be one of the action names, got 3",
        "index 2, field 'occurred_at': not unix seconds nor an ISO-8601 time",
        "index 3, field 'event_id': must be an unsigned integer",
        "index 4, field 'event_id': must be an unsigned integer, got 'seven'",
        "index 5: give item_id, or sku/gtin with serial, not both",
        "index 6: give context or reference, not both",
    ]
    for said in expected:
        assert any(problem.startswith(said) for problem in problems), (said, problems)


def test_custody_times_and_ids_are_read_as_people_write_them(tmp_path: Path) -> None:
    rows = [
        {"item_id": ITEM, "action": "shipped", "occurred_at": "1700000000", "event_id": "0x10"},
        {"item_id": ITEM, "action": "delivered", "occurred_at": "2023-11-14T22:13:20Z",
         "event_id": "17"},
    ]  # fmt: skip

    entries = load_custody(write(tmp_path / "events.json", json.dumps(rows)), MERCHANT)

    assert [(e.occurred_at, e.event_id) for e in entries] == [
        (1_700_000_000, 16),
        (1_700_000_000, 17),
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [("", "is not a duration"), ("7 days", "is not a duration"), ("3x", "is not a duration")],
)
def test_a_duration_people_cannot_mean_is_refused(text: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("@soon", "after @ give unix seconds"),
        ("2026-13-01T00:00:00Z", "is not an ISO-8601 time"),
        ("2026-12-01T00:00:00", "has no UTC offset"),
    ],
)
def test_a_moment_people_cannot_mean_is_refused(text: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        parse_moment(text, 0)


def test_moments_are_relative_to_the_chains_now_or_absolute() -> None:
    assert parse_moment("+1h", 1_000) == 4_600
    assert parse_moment("90m", 1_000) == 6_400
    assert parse_moment("@1700000000", 1_000) == 1_700_000_000
    assert parse_duration(" 3600 ") == 3_600
