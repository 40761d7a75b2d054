"""Path and query parameters whose values are contracts' (ids, roots, addresses): each declared
with one annotated type of ``app.domain.abi_types``, from which the OpenAPI document takes the
pattern it states and the service the rule it checks, so the two cannot part.

A malformed value is refused 422 with the parameter's own code (``invalid_item_id``, ...), the
code the API has always answered for it: ``app.api.errors`` answers a refusal of one such
parameter with its code. Operations that read their parameters themselves (the item verdict's hot
path, the HTML pages) document them with ``openapi_parameter`` and check them with ``checked``,
from the same types."""

from __future__ import annotations

import re
from collections import Counter
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from pydantic import BeforeValidator, TypeAdapter, ValidationError
from starlette.datastructures import QueryParams

from app.domain.abi_types import CODE_CONTEXT, Address, Bytes32, coded

_BYTES32 = "must be 0x followed by 64 hex digits"
ItemId = Annotated[Bytes32, coded("invalid_item_id", _BYTES32)]
OrderId = Annotated[Bytes32, coded("invalid_order_id", _BYTES32)]
BatchRoot = Annotated[Bytes32, coded("invalid_root", _BYTES32)]
MerchantAddress = Annotated[
    Address, coded("invalid_address", "must be a 0x-hex address (EIP-55 checksum if mixed case)")
]
ITEM_ID: TypeAdapter[str] = TypeAdapter(ItemId)

# A whole number as JSON writes one: decimal digits, and a fraction of zeros if any (JSON Schema's
# ``integer`` admits 31.0 as 31, so a client may send it).
_DECIMAL = re.compile(r"-?[0-9]{1,19}(?:\.0{1,19})?")


def _decimal_digits(value: object) -> object:
    """An integer in a query string or a path is a whole number in decimal digits, as the
    document's ``integer`` says ("31" or "31.0"): pydantic's lax reading would also take " 1",
    "+1" or "1_0" and answer another request than the one a client meant to send."""
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise ValueError("must be a whole number in decimal digits (at most 19), nothing else")
    return value


# Every integer query or path parameter ends its annotation with it, after its bounds (placed
# before them, it would hide them from the document): Annotated[int, Query(...), DECIMAL_DIGITS].
DECIMAL_DIGITS = BeforeValidator(_decimal_digits)
# How far a list may be paged: a bound the database's integers hold.
Offset = Annotated[int, Query(ge=0, le=1_000_000), DECIMAL_DIGITS]

Location = Literal["path", "query"]


def openapi_parameter(
    name: str, location: Location, kind: Any, description: str, *, required: bool = True
) -> dict[str, Any]:
    """The OpenAPI parameter object of a parameter of type ``kind`` read by the operation itself."""
    return {
        "name": name,
        "in": location,
        "required": required,
        "description": description,
        "schema": TypeAdapter(kind).json_schema(),
    }


T = TypeVar("T")


def checked(kind: TypeAdapter[T], value: str, location: Location, name: str) -> T:
    """``value`` as its type makes it; refused as a declared parameter of that type would be."""
    try:
        return kind.validate_python(value)
    except ValidationError as error:
        raise RequestValidationError(
            [{**item, "loc": (location, name)} for item in error.errors()]
        ) from None


def repeated_query_parameters(
    query_string: bytes, declared: frozenset[str]
) -> RequestValidationError | None:
    """The refusal of a query string that gives one of the ``declared`` parameters more than
    once, if it does. No operation declares a list, and a framework takes the last of repeated
    values: ``?limit=x&limit=1`` would be answered as ``limit=1``, a request the document calls
    malformed (an array where an integer is declared) quietly read as another."""
    # Counted in one pass: the query string is the client's, and a count per name would make
    # thousands of repeats cost seconds on the event loop.
    given = QueryParams(query_string).multi_items()
    counts = Counter(name for name, _ in given if name in declared)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if not repeated:
        return None
    return RequestValidationError(
        [
            {
                "type": "repeated_parameter",
                "loc": ("query", name),
                "msg": "is given more than once: give it once",
                "ctx": {CODE_CONTEXT: "repeated_parameter"},
            }
            for name in repeated
        ]
    )
