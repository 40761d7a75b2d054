"""The OpenAPI document states the format of every value a client sends: each path, query and
header parameter, and each string of a request body, carries the pattern, format or enum the
service checks it by (free text and credentials are named here, each with why). An id-like
parameter carries the pattern of its type, from the module that owns the id, so that no route
declares a looser copy of its own. ``test_openapi_fuzz`` checks that the service keeps to what
is stated. The document is built without a chain: this takes a second."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.credit.schemas import REPORT_ID_PATTERN
from app.domain.abi_types import ADDRESS_PATTERN, BYTES32_PATTERN
from app.domain.forward_requests import REQUEST_ID_PATTERN
from app.domain.ids import GS1_TEXT_PATTERN, GTIN_PATTERN
from app.ingest.schemas import IDEMPOTENCY_KEY_PATTERN
from app.main import create_app
from app.merchant.webhook_router import ENDPOINT_ID_PATTERN
from app.outbox.schemas import RELAY_ID_PATTERN
from app.settings import Environment, Settings
from app.shop.problem_report_schemas import RECEIPT_ID_PATTERN

# Each parameter naming an id, a key or an address, and the pattern it is documented with.
PARAMETER_PATTERNS = {
    "item_id": BYTES32_PATTERN,
    "order_id": BYTES32_PATTERN,
    "root": BYTES32_PATTERN,
    "address": ADDRESS_PATTERN,
    "merchant": ADDRESS_PATTERN,
    "signer": ADDRESS_PATTERN,
    "relay_id": RELAY_ID_PATTERN,
    "report_id": REPORT_ID_PATTERN,
    "endpoint_id": ENDPOINT_ID_PATTERN,
    "request_id": REQUEST_ID_PATTERN,
    "gtin": GTIN_PATTERN,
    "serial": GS1_TEXT_PATTERN,
    "lot": GS1_TEXT_PATTERN,
    "cpv": GS1_TEXT_PATTERN,
    "Idempotency-Key": IDEMPOTENCY_KEY_PATTERN,
    "receipt_id": RECEIPT_ID_PATTERN,
}
# Credentials: whatever their form, a wrong one is answered 401, never 422.
CREDENTIALS = {"TrustMall-Api-Key", "TrustMall-Signature"}
# Strings of request bodies whose content is free (within their lengths), by their place.
FREE_TEXT = {
    "body.location": "a carrier's location code (GLN, UN/LOCODE, its own)",
    "body.reference": "a carrier's shipment or proof-of-delivery reference",
    "body.model": "a bureau's scoring model: a name, or a 0x bytes32 id",
    "body.message": "an EIP-4361 message: its grammar is checked (siwe_message_invalid)",
    "body.description": "a merchant's note on its webhook endpoint",
    # A batch manifest's own fields, as the merchant's tool wrote them: kept as sent (their
    # content hash is signed), and checked against the chain when published (an item's key,
    # a SKU's or a GTIN's with its serial, must give its id: invalid_item_key).
    "body.manifest.items.metadata_uri": "an item's metadata URI",
    "body.manifest.items.label": "an item's label",
    "body.manifest.items.sku": "an item's SKU",
    "body.manifest.items.gtin": "an item's GTIN, checked with its key",
    "body.manifest.items.serial": "an item's serial (a SKU's is free text)",
    "body.manifest.leaf_encoding": "the leaf encoding, checked to be the registry's",
    # A shopper's problem report: their own words and how to reach them, kept as written (each
    # bounded by its maxLength) and escaped wherever shown.
    "body.details": "a shopper's words on what is wrong with an item",
    "body.contact": "how a shopper may be reached (an e-mail address, a phone number)",
}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = Path(tmp_path_factory.mktemp("openapi")) / "service.db"
    settings = Settings(
        _env_file=None, environment=Environment.TEST, database_url=f"sqlite:///{database}"
    )
    return create_app(settings).openapi()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def _non_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional value's schema without its null branch."""
    branches = [b for b in schema.get("anyOf", []) if b != {"type": "null"}]
    return branches[0] if len(branches) == 1 else schema


def _stated(schema: dict[str, Any]) -> bool:
    return any(key in schema for key in ("pattern", "format", "enum", "const"))


def _parameter_faults(label: str, operation: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for parameter in operation.get("parameters", []):
        name, schema = parameter["name"], _non_null(parameter["schema"])
        if name in CREDENTIALS or schema.get("type") != "string":
            continue
        expected = PARAMETER_PATTERNS.get(name)
        if expected is not None and schema.get("pattern") != expected:
            yield name, f"{label}: {name} is documented {schema}, not with pattern {expected}"
        elif not _stated(schema):
            yield name, f"{label}: {name} is documented as any string: {schema}"


def _strings(
    schema: Any, where: str, components: dict[str, Any], seen: frozenset[str] = frozenset()
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every string schema within ``schema`` (references followed once), by its dotted place."""
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name not in seen:
            yield from _strings(components[name], where, components, seen | {name})
        return
    if schema.get("type") == "string":
        yield where, schema
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            yield from _strings(branch, where, components, seen)
    for name, value in schema.get("properties", {}).items():
        yield from _strings(value, f"{where}.{name}", components, seen)
    yield from _strings(schema.get("items"), f"{where}[]", components, seen)


def _body_faults(
    label: str, operation: dict[str, Any], components: dict[str, Any]
) -> Iterator[str]:
    content = operation.get("requestBody", {}).get("content", {})
    for media in content.values():
        for where, schema in _strings(media.get("schema"), "body", components):
            if not _stated(schema) and where.replace("[]", "") not in FREE_TEXT:
                yield f"{label}: {where} is documented as any string: {schema}"


def test_every_value_a_client_sends_is_documented_with_its_format(
    document: dict[str, Any],
) -> None:
    components = document["components"]["schemas"]
    faults: list[str] = []
    for label, operation in _operations(document):
        faults += [fault for _name, fault in _parameter_faults(label, operation)]
        faults += _body_faults(label, operation, components)
    assert faults == []


def test_the_pages_are_listed_as_html(document: dict[str, Any]) -> None:
    pages = {
        label: operation
        for label, operation in _operations(document)
        if label.startswith(("GET /verify/", "GET /01/"))
    }
    assert "GET /verify/{item_id}" in pages
    assert "GET /01/{gtin}/21/{serial}" in pages
    assert "GET /01/{gtin}/22/{cpv}/10/{lot}/21/{serial}" in pages
    for label, operation in pages.items():
        for status in ("200", "404", "422"):
            assert "text/html" in operation["responses"][status]["content"], (label, status)
