"""The root of the domain's exceptions."""

from __future__ import annotations


class TrustMallError(Exception):
    """Root of every error TrustMall's Python code raises on purpose."""


class InvalidGtin(TrustMallError, ValueError):
    """A GTIN is not 8, 12, 13 or 14 digits with a valid check digit."""


class InvalidSerial(TrustMallError, ValueError):
    """A GS1 serial is empty, longer than 20 characters, or outside GS1 character set 82."""


class ItemNotInBatch(TrustMallError, LookupError):
    """An item is not a leaf of the Merkle batch asked about."""


class NotADigitalLink(TrustMallError, LookupError):
    """A URI is not a GS1 Digital Link of a GTIN as the resolver reads them: a segment that is
    no key qualifier, qualifiers out of the standard's order or repeated, a key without a value."""


class InvalidDigitalLinkValue(TrustMallError, ValueError):
    """A Digital Link's lot (AI 10) or consumer product variant (AI 22) is empty, longer than 20
    characters, or outside GS1 character set 82."""
