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
