"""The product passport: the document a merchant commits to with an item's ``metadataHash`` and
publishes to the service, shaped after the EU Digital Product Passport's minimum (what the
product is, who made it, where and when, from what, how to care for it and dispose of it) and
named by the item's GS1 Digital Link.

The hash is the one every item's metadata has (``app.domain.metadata``): ``keccak256`` of the
document's canonical JSON. The schema here only says which documents the service shows as a
passport; it never changes what is hashed.

Texts a shopper reads are in English, Simplified Chinese or both: a plain string (shown in
either language) or ``{"en": …, "zh-CN": …}`` with at least one of the two. No text holds a
control character (a description may hold line breaks). A picture is named by the ``keccak256``
of its bytes, published beside the document (``POST /v1/media``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.domain.abi_types import Bytes32

PASSPORT_SCHEMA = "trustmall.passport/1"
# A document bigger than this is not a passport (a DPP's minimum fits in a few kilobytes).
MAX_DOCUMENT_BYTES = 32_768
# Text on one line: no control characters.
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
# Text of several lines: line feeds allowed, no other control characters.
PASSAGE_PATTERN = r"^[^\x00-\x09\x0b-\x1f\x7f]*$"

Line = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=LINE_PATTERN)]
Passage = Annotated[str, StringConstraints(min_length=1, max_length=2_000, pattern=PASSAGE_PATTERN)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Gln = Annotated[str, StringConstraints(pattern=r"^[0-9]{13}$")]

_STRICT = ConfigDict(extra="forbid", strict=True)
# The languages a text may be given in, as BCP 47 tags (the page's languages).
LanguageTag = Literal["en", "zh-CN"]
LineIn = Annotated[dict[LanguageTag, Line], Field(min_length=1)]
PassageIn = Annotated[dict[LanguageTag, Passage], Field(min_length=1)]
LocalLine = Line | LineIn
LocalPassage = Passage | PassageIn


class MediaRef(BaseModel):
    """A picture published to the service, named by the keccak256 of its bytes."""

    model_config = _STRICT

    hash: Bytes32 = Field(description="keccak256 of the picture's bytes (POST /v1/media)")
    alt: LocalLine | None = Field(default=None, description="What the picture shows")


class Attribute(BaseModel):
    """One property of the product: size, colour, capacity…"""

    model_config = _STRICT

    name: LocalLine
    value: LocalLine


class Origin(BaseModel):
    """Where the product was made."""

    model_config = _STRICT

    country: CountryCode = Field(description="ISO 3166-1 alpha-2 code, e.g. DE, CN")
    place: LocalLine | None = Field(default=None, description="Town, region or site")


class Manufacturer(BaseModel):
    """Who made the product (the DPP's manufacturer or economic operator)."""

    model_config = _STRICT

    name: LocalLine
    gln: Gln | None = Field(default=None, description="The site's GS1 Global Location Number")


class Material(BaseModel):
    """A material the product is made of, and its share by weight if known."""

    model_config = _STRICT

    name: LocalLine
    percent: int | None = Field(default=None, ge=0, le=100)


class ProductPassport(BaseModel):
    """A product's passport, as a merchant publishes it (``POST /v1/metadata``)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "schema": PASSPORT_SCHEMA,
                    "name": {"en": "Stoneware mug", "zh-CN": "粗陶马克杯"},
                    "origin": {"country": "PT", "place": "Aveiro"},
                    "production_date": "2026-03-01",
                    "lot": "WO-88",
                    "attributes": [{"name": {"en": "Colour", "zh-CN": "颜色"}, "value": "blue"}],
                }
            ]
        },
    )

    schema_id: Literal["trustmall.passport/1"] = Field(
        alias="schema", description="This schema's name and version"
    )
    name: LocalLine
    description: LocalPassage | None = None
    image: MediaRef | None = None
    attributes: list[Attribute] = Field(default_factory=list, max_length=40)
    origin: Origin | None = None
    production_date: date | None = Field(default=None, description="ISO 8601 date")
    lot: Line | None = Field(default=None, description="Production lot or batch")
    manufacturer: Manufacturer | None = None
    materials: list[Material] = Field(default_factory=list, max_length=20)
    care: LocalPassage | None = Field(default=None, description="Use, care and repair")
    end_of_life: LocalPassage | None = Field(
        default=None, description="Take-back, recycling or disposal"
    )


def in_language(text: str | dict[LanguageTag, str], tag: LanguageTag) -> str:
    """A text in the language tagged ``tag``, else in the other one given."""
    if isinstance(text, str):
        return text
    found = text.get(tag)
    return found if found is not None else next(iter(text.values()))
