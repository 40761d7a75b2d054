"""GS1 Digital Link URIs of a GTIN, read as the GS1 Digital Link standard (URI syntax) writes
them: the primary key ``/01/{gtin}``, then the GTIN's key qualifiers, each at most once and in the
standard's order ``/22/{cpv}`` (consumer product variant), ``/10/{lot}`` (lot or batch),
``/21/{serial}``; a trailing slash allowed; data attributes in the query string, of which only
``linkType`` (which of the GTIN's links is asked for) matters here.

One parser for every reader of such links (the resolver, passports, label sheets): it checks the
structure and the values, and says nothing of what the link resolves to.

The path is split on ``/`` before its segments are percent-decoded, so a ``/`` in a value is only
ever an encoded one (``%2F``): give ``parse_digital_link`` the path as sent, not decoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

from app.domain.errors import InvalidDigitalLinkValue, NotADigitalLink
from app.domain.ids import (
    MAX_SERIAL_LENGTH,
    in_character_set_82,
    item_id_from_gs1,
    normalize_gtin,
    validate_serial,
)

GTIN_KEY = "01"
CPV, LOT, SERIAL = "22", "10", "21"
# The GTIN's key qualifiers in the only order the standard allows them.
KEY_QUALIFIERS = (CPV, LOT, SERIAL)
QUALIFIER_NAMES = {CPV: "consumer product variant", LOT: "lot", SERIAL: "serial"}
LINK_TYPE = "linkType"
# A link type may be written in full or as a compact URI; both name the same GS1 vocabulary term.
GS1_COMPACT = "gs1:"
_GS1_VOCABULARIES = ("https://gs1.org/voc/", "https://ref.gs1.org/voc/", "http://gs1.org/voc/")


@dataclass(frozen=True)
class DigitalLink:
    """What a GS1 Digital Link of a GTIN names. ``link_type`` is a GS1 term as ``gs1:pip``, or
    None when the link does not ask for one (its default link)."""

    gtin: str  # GTIN-14
    cpv: str | None = None
    lot: str | None = None
    serial: str | None = None
    link_type: str | None = None

    @property
    def item_id(self) -> bytes | None:
        """The item's id (GTIN and serial; a lot or variant does not change it), or None when
        the link names no serial (a product or a lot, not one item)."""
        return item_id_from_gs1(self.gtin, self.serial) if self.serial is not None else None

    @property
    def path(self) -> str:
        """The link's canonical path: GTIN-14, its qualifiers in order, values percent-encoded."""
        values = {CPV: self.cpv, LOT: self.lot, SERIAL: self.serial}
        qualifiers = "".join(
            f"/{key}/{quote(value, safe='')}"
            for key in KEY_QUALIFIERS
            if (value := values[key]) is not None
        )
        return f"/{GTIN_KEY}/{self.gtin}{qualifiers}"


def parse_digital_link(uri: str) -> DigitalLink:
    """The GTIN link ``uri`` (an absolute URI, or a path with its query) names, its values
    checked.

    Raises ``NotADigitalLink`` for a structure the standard does not allow (an unknown segment,
    qualifiers repeated or out of order, a key without a value); ``InvalidGtin``,
    ``InvalidSerial`` or ``InvalidDigitalLinkValue`` for a value that is not what its key takes.
    """
    parts = urlsplit(uri)
    segments = parts.path.split("/")[1:]
    if segments and segments[-1] == "" and len(segments) > 1:
        segments.pop()  # one trailing slash is allowed
    if len(segments) < 2 or segments[0] != GTIN_KEY:
        raise NotADigitalLink(f"a GTIN link starts /{GTIN_KEY}/{{gtin}}, not {parts.path!r}")
    if "" in segments:
        raise NotADigitalLink(f"{parts.path!r} has an empty segment")
    if len(segments) % 2:
        raise NotADigitalLink(f"{segments[-1]!r} at the end of {parts.path!r} has no value")
    gtin = normalize_gtin(_decoded(segments[1]))
    qualifiers: dict[str, str] = {}
    previous = -1
    for at in range(2, len(segments), 2):
        key, value = segments[at], _decoded(segments[at + 1])
        if key not in KEY_QUALIFIERS:
            raise NotADigitalLink(
                f"{key!r} is not a key qualifier of a GTIN (only {', '.join(KEY_QUALIFIERS)}, "
                "in that order)"
            )
        if KEY_QUALIFIERS.index(key) <= previous:
            raise NotADigitalLink(
                f"{key} comes after {KEY_QUALIFIERS[previous]}: the qualifiers of a GTIN come "
                f"once each, in the order {', '.join(KEY_QUALIFIERS)}"
            )
        previous = KEY_QUALIFIERS.index(key)
        qualifiers[key] = _checked(key, value)
    return DigitalLink(
        gtin=gtin,
        cpv=qualifiers.get(CPV),
        lot=qualifiers.get(LOT),
        serial=qualifiers.get(SERIAL),
        link_type=_link_type(parts.query),
    )


def _decoded(segment: str) -> str:
    # Undecodable bytes become U+FFFD, which no GS1 character set holds: the value check refuses.
    return unquote(segment, errors="replace")


def _checked(key: str, value: str) -> str:
    if key == SERIAL:
        return validate_serial(value)
    if not in_character_set_82(value):
        raise InvalidDigitalLinkValue(
            f"GS1 {QUALIFIER_NAMES[key]} ({key}) must be 1-{MAX_SERIAL_LENGTH} characters of "
            f"GS1 character set 82, got {value!r}"
        )
    return value


def _link_type(query: str) -> str | None:
    """The ``linkType`` attribute as a compact GS1 term (``gs1:pip``), None when absent."""
    values = parse_qs(query, keep_blank_values=True).get(LINK_TYPE)
    if not values or not values[0]:
        return None
    link_type = values[0]
    for vocabulary in _GS1_VOCABULARIES:
        if link_type.startswith(vocabulary):
            return GS1_COMPACT + link_type.removeprefix(vocabulary)
    return link_type


def link_type_pattern(terms: Iterable[str], plain: Iterable[str] = ()) -> str:
    """The pattern of the ``linkType`` values that name one of ``terms`` (compact GS1 terms as
    ``gs1:pip``), compact or in full, or one of the ``plain`` values as they are (the standard's
    own, as ``linkset``), or the empty value (as absent: the default link)."""
    prefixes = "|".join(re.escape(prefix) for prefix in (GS1_COMPACT, *_GS1_VOCABULARIES))
    names = "|".join(re.escape(term.removeprefix(GS1_COMPACT)) for term in terms)
    values = "".join(f"|{re.escape(value)}" for value in plain)
    return f"^(?:(?:{prefixes})(?:{names}){values})?$"
