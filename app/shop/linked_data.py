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

The product itself, from the passport the merchant published under the item's on-chain hash and
only while its text hashes to that hash (``metadataCheck`` ``match``): ``gs1:productName`` and
``gs1:productDescription`` (one value per language given, tagged), ``gs1:countryOfOrigin``,
``gs1:manufacturer`` (its name and GLN), ``schema:image`` (the picture as the service serves it),
``schema:productionDate``, and the passport's lot as ``gs1:hasBatchLotNumber`` where the link
names none.
"""

from __future__ import annotations

from typing import Any

from app.domain.digital_link import DigitalLink
from app.domain.passport import LanguageTag, ProductPassport
from app.shop.schemas import ItemVerdictPublic, MetadataCheck

MEDIA_TYPE = "application/ld+json"
LINKSET_MEDIA_TYPE = "application/linkset+json"
CONTEXT = {"gs1": "https://ref.gs1.org/voc/", "schema": "https://schema.org/"}
# The linkset's relation types are the GS1 Web Vocabulary's link types, in full (RFC 9264 §4.2).
GS1_VOCABULARY = "https://gs1.org/voc/"


def wants_linked_data(weights: dict[str, float]) -> bool:
    """Whether a client's ``Accept`` (as ``accept_weights`` reads it) ranks JSON-LD above any
    page: a program asking for linked data, not a browser."""
    return _ranked_above_page(weights, MEDIA_TYPE)


def wants_linkset(weights: dict[str, float]) -> bool:
    """Whether a client's ``Accept`` ranks a linkset (RFC 9264's JSON) above any page."""
    return _ranked_above_page(weights, LINKSET_MEDIA_TYPE)


def _ranked_above_page(weights: dict[str, float], media_type: str) -> bool:
    wanted = weights.get(media_type, 0.0)
    page = max(weights.get("text/html", 0.0), weights.get("application/xhtml+xml", 0.0))
    return wanted > 0 and wanted > page


def linkset_header(link: DigitalLink) -> str:
    """The ``Link`` header every answer at a link carries: where its linkset is."""
    return f'<{link.path}?linkType=linkset>; rel="linkset"; type="{LINKSET_MEDIA_TYPE}"'


def linkset_document(link: DigitalLink, item_id: str, base_url: str) -> dict[str, Any]:
    """Every link the resolver has for the item ``link`` names, as the GS1-Conformant Resolver
    standard's linkset (RFC 9264 JSON, anchored at the link's canonical URI under ``base_url``):
    the item's page (``pip``, also its ``defaultLink``), in English and Simplified Chinese, and
    its record as JSON (``verificationService``)."""
    base = base_url.rstrip("/")
    uri = base + link.path
    page = {
        "href": uri,
        "title": "Item page: is this item authentic, and its passport and trail",
        "type": "text/html",
        "hreflang": ["en", "zh-CN"],
    }
    record = {
        "href": f"{base}/v1/items/{item_id}",
        "title": "The item's record on chain (verdict, trail, metadata check) as JSON",
        "type": "application/json",
    }
    return {
        "linkset": [
            {
                "anchor": uri,
                f"{GS1_VOCABULARY}pip": [page],
                f"{GS1_VOCABULARY}defaultLink": [page],
                f"{GS1_VOCABULARY}verificationService": [record],
            }
        ]
    }


def item_document(
    verdict: ItemVerdictPublic,
    link: DigitalLink,
    base_url: str,
    passport: ProductPassport | None = None,
) -> dict[str, Any]:
    """The JSON-LD of the item ``link`` names (its ``verdict`` from the index, and the
    ``passport`` kept under its on-chain hash, if any), identified by the link's canonical URI
    under ``base_url``."""
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
    product = _product_terms(verdict, passport, base_url)
    passport_lot = product.pop("gs1:hasBatchLotNumber", None)
    if named["gs1:hasBatchLotNumber"] is None:
        named["gs1:hasBatchLotNumber"] = passport_lot  # the link's own lot comes first
    return {
        "@context": CONTEXT,
        "@id": uri,
        "@type": ["gs1:Product", "schema:IndividualProduct"],
        **{term: value for term, value in named.items() if value is not None},
        **product,
        "schema:hasGS1DigitalLink": {"@id": uri},
        "gs1:pip": {"@id": f"{uri}?linkType=gs1:pip"},
        "gs1:verificationService": {"@id": f"{base_url.rstrip('/')}/v1/items/{verdict.item_id}"},
        "schema:additionalProperty": [
            {"@type": "schema:PropertyValue", "schema:propertyID": name, "schema:value": value}
            for name, value in facts.items()
            if value is not None
        ],
    }


def _product_terms(
    verdict: ItemVerdictPublic, passport: ProductPassport | None, base_url: str
) -> dict[str, Any]:
    """The passport's terms, or none unless the passport checks against the on-chain hash."""
    metadata = verdict.metadata
    if passport is None or metadata is None or metadata.check != MetadataCheck.MATCH:
        return {}
    terms: dict[str, Any] = {"gs1:productName": _tagged(passport.name)}
    if passport.description is not None:
        terms["gs1:productDescription"] = _tagged(passport.description)
    if passport.origin is not None:
        terms["gs1:countryOfOrigin"] = {
            "@type": "gs1:Country",
            "gs1:countryCode": passport.origin.country,
        }
    if passport.manufacturer is not None:
        maker = {
            "@type": "gs1:Organization",
            "gs1:organizationName": _tagged(passport.manufacturer.name),
        }
        if passport.manufacturer.gln is not None:
            maker["gs1:globalLocationNumber"] = passport.manufacturer.gln
        terms["gs1:manufacturer"] = maker
    if passport.image is not None:
        terms["schema:image"] = {"@id": f"{base_url.rstrip('/')}/v1/media/{passport.image.hash}"}
    if passport.production_date is not None:
        terms["schema:productionDate"] = passport.production_date.isoformat()
    if passport.lot is not None:
        terms["gs1:hasBatchLotNumber"] = passport.lot
    return terms


def _tagged(text: str | dict[LanguageTag, str]) -> str | list[dict[str, str]]:
    """A passport text as JSON-LD: as given when in one language, else one value per tag."""
    if isinstance(text, str):
        return text
    return [{"@value": value, "@language": tag} for tag, value in text.items()]
