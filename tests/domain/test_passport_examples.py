"""The examples' product passports: every document the example item lists commit to is a
passport, and every picture one names is in ``examples/pictures`` (the demo publishes both)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from app.domain.passport import ProductPassport
from app.shop.publish import media_type_of

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _listed() -> list[str]:
    names: set[str] = set()
    for listing in ("items.csv", "batch.csv"):
        with (EXAMPLES / listing).open(newline="") as rows:
            names.update(row["metadata_file"] for row in csv.DictReader(rows))
    return sorted(names)


@pytest.mark.parametrize("name", _listed())
def test_each_listed_document_is_a_bilingual_passport_whose_picture_is_in_the_examples(
    name: str,
) -> None:
    document = ProductPassport.model_validate_json((EXAMPLES / name).read_bytes(), strict=True)

    assert isinstance(document.name, dict) and set(document.name) == {"en", "zh-CN"}
    assert document.image is not None
    pictures = {
        "0x" + keccak(path.read_bytes()).hex(): path
        for path in (EXAMPLES / "pictures").glob("*.png")
    }
    picture = pictures[document.image.hash]
    assert media_type_of(picture.read_bytes()) == "image/png"
    assert picture.stat().st_size < 4_096  # small enough to keep in the repository
