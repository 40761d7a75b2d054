"""The item a GS1 Digital Link names, as JSON-LD for programs that ask the resolver for it
(``Accept: application/ld+json``): the same URI a browser is answered a page at.

Terms from the GS1 Web Vocabulary (``https://ref.gs1.org/voc/``, an extension of schema.org):
the item is a ``gs1:Product`` and a ``schema:IndividualProduct`` (the link names one item, by
GTIN and serial), with its ``gs1:gtin``, ``gs1:hasSerialNumber``, ``gs1:hasBatchLotNumber`` and
``gs1:consumerProductVariant`` as the link gives them, and its link types as the vocabulary's
properties (``gs1:pip``, ``gs1:verificationService``). What the chain says of it has no term in
either vocabulary: it is ``schema:additionalProperty`` values, each named by ``propertyID``
(``verdict``, ``reason``, ``explanation``, ``itemId``, ``merchant``, ``asOfBlock``,
``metadataHash``, ``metadataCheck``), worded as the item's JSON record words them.
"""

from __future__ import annotations

from typing import Any

from app.domain.digital_link import DigitalLink
from app.shop.schemas import ItemVerdictPublic

MEDIA_TYPE = "application/ld+json"
CONTEXT = {"gs1": "https://ref.gs1.org/voc/", "schema": "https://schema.org/"}


def wants_linked_data(weights: dict[str, float]) -> bool:
    """Whether a client's ``Accept`` (as ``accept_weights`` reads it) ranks JSON-LD above any
    page: a program asking for linked data, not a browser."""
    linked = weights.get(MEDIA_TYPE, 0.0)
    page = max(weights.get("text/html", 0.0), weights.get("application/xhtml+xml", 0.0))
    return linked > 0 and linked > page


def item_document(verdict: ItemVerdictPublic, link: DigitalLink, base_url: str) -> dict[str, Any]:
    """The JSON-LD of the item ``link`` names (its ``verdict`` from the index), identified by the
    link's canonical URI under ``base_url``."""
    uri = base_url.rstrip("/") + link.path
    named = {
        "gs1:gtin": link.gtin,
        "gs1:hasSerialNumber": link.serial,
        "gs1:hasBatchLotNumber": link.lot,
        "gs1:consumerProductVariant": link.cpv,
    }
    facts: dict[str, Any] = {
        "verdict": verdict.verdict.value,
        "reason": verdict.reason.value,
        "explanation": verdict.explanation,
        "itemId": verdict.item_id,
        "asOfBlock": verdict.as_of_block,
        "merchant": verdict.merchant.address if verdict.merchant else None,
        "metadataHash": verdict.metadata.hash if verdict.metadata else None,
        "metadataCheck": verdict.metadata.check.value if verdict.metadata else None,
    }
    return {
        "@context": CONTEXT,
        "@id": uri,
        "@type": ["gs1:Product", "schema:IndividualProduct"],
        **{term: value for term, value in named.items() if value is not None},
        "schema:hasGS1DigitalLink": {"@id": uri},
        "gs1:pip": {"@id": f"{uri}?linkType=gs1:pip"},
        "gs1:verificationService": {"@id": f"{base_url.rstrip('/')}/v1/items/{verdict.item_id}"},
        "schema:additionalProperty": [
            {"@type": "schema:PropertyValue", "schema:propertyID": name, "schema:value": value}
            for name, value in facts.items()
            if value is not None
        ],
    }
