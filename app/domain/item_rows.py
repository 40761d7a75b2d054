"""Items to register, as a merchant's file (or request) names them.

Item rows:
    ``sku,serial`` (id = ``item_id_from_sku(merchant, sku, serial)``) or ``gtin,serial``
    (id = ``item_id_from_gs1(gtin, serial)``), sent as the registry's ``ItemKey`` from which it
    derives the same id; ``metadata`` (a JSON object, inline: a JSON text in CSV, an object in
    JSON) or ``metadata_file`` (a JSON file, relative to the input file); ``metadata_uri`` (where
    the metadata is published). The metadata hash is ``keccak256(canonical_json(metadata))`` (see
    ``app.domain.metadata``). Files are read as ``app.domain.input_files`` says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.domain.ids import (
    item_id_from_gs1,
    item_id_from_sku,
    item_key,
    normalize_gtin,
    validate_serial,
)
from app.domain.input_files import duplicates, finish, validated
from app.domain.metadata import NotCanonicalizable, canonical_json, loads_strict, metadata_hash
from app.domain.vocab import IdScheme


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class ItemKeyFields(_Row):
    """How a row names its item: SKU and serial, or GTIN and serial."""

    sku: str | None = None
    gtin: str | None = None
    serial: str | None = None

    @field_validator("sku", "gtin", "serial", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        # JSON numbers are accepted as serials/GTINs only when they are integers.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("gtin")
    @classmethod
    def _valid_gtin(cls, value: str | None) -> str | None:
        if value is not None:
            normalize_gtin(value)
        return value

    def _check_key(self, *, required: bool) -> None:
        if self.sku is not None and self.gtin is not None:
            raise ValueError("give either sku or gtin, not both")
        if self.sku is None and self.gtin is None:
            if required:
                raise ValueError("name the item with sku and serial, or gtin and serial")
            return
        if self.serial is None:
            raise ValueError("serial is required with sku or gtin")
        if self.gtin is not None:
            validate_serial(self.serial)

    def key_id(self, merchant: str) -> bytes:
        """The id the SKU or GTIN and serial name (SKU ids depend on the merchant)."""
        if self.gtin is not None:
            return item_id_from_gs1(self.gtin, str(self.serial))
        return item_id_from_sku(merchant, str(self.sku), str(self.serial))

    def abi_key(self) -> tuple[int, str, str]:
        """``IProductRegistry.ItemKey``: the registry derives the id from it (a SKU under the
        registering merchant, a GTIN under a company prefix granted to it)."""
        if self.gtin is not None:
            return item_key(IdScheme.GS1, self.gtin, str(self.serial))
        return item_key(IdScheme.SKU, str(self.sku), str(self.serial))

    @property
    def label(self) -> str:
        if self.gtin is not None:
            return f"gtin {self.gtin} serial {self.serial}"
        return f"sku {self.sku} serial {self.serial}"


class ItemRow(ItemKeyFields):
    """An item to register."""

    metadata: dict[str, Any] | None = None
    metadata_file: str | None = None
    metadata_uri: str = Field(min_length=1)

    @field_validator("metadata", mode="before")
    @classmethod
    def _parse_metadata(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = loads_strict(value)
            except (json.JSONDecodeError, NotCanonicalizable) as exc:
                raise ValueError(f"not valid JSON: {exc}") from None
            if not isinstance(value, dict):
                raise ValueError("must be a JSON object")
        return value

    @field_validator("metadata")
    @classmethod
    def _canonicalizable(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            try:
                canonical_json(value)
            except NotCanonicalizable as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _complete(self) -> ItemRow:
        self._check_key(required=True)
        if (self.metadata is None) == (self.metadata_file is None):
            raise ValueError("give exactly one of metadata (inline JSON) or metadata_file")
        return self


@dataclass(frozen=True)
class ItemEntry:
    """A validated item row: the id and metadata hash it registers."""

    where: str
    row: ItemRow
    item_id: bytes
    metadata_hash: bytes
    metadata_uri: str

    @property
    def label(self) -> str:
        return self.row.label

    @property
    def key(self) -> tuple[int, str, str]:
        return self.row.abi_key()


def load_items(path: Path, merchant: str) -> list[ItemEntry]:
    """Validated items of a file, ids computed for ``merchant``; raises :class:`InputFileError`
    listing every bad row, including ids that appear on more than one row."""
    rows, problems = validated(path, "items", ItemRow, ("serial", "sku|gtin", "metadata_uri"))
    entries: list[ItemEntry] = []
    for where, row in rows:
        metadata = row.metadata
        if metadata is None:
            metadata, problem = _metadata_from_file(path.parent, str(row.metadata_file))
            if problem:
                problems.append(f"{where}, field 'metadata_file': {problem}")
                continue
        entries.append(
            ItemEntry(
                where=where,
                row=row,
                item_id=row.key_id(merchant),
                metadata_hash=metadata_hash(metadata),
                metadata_uri=row.metadata_uri,
            )
        )
    labels = {e.item_id: e.label for e in entries}
    problems.extend(
        duplicates(((e.item_id, e.where) for e in entries), lambda i: _item_text(i, labels[i]))
    )
    finish(path, entries, problems)
    return entries


def _metadata_from_file(base: Path, name: str) -> tuple[dict[str, Any], str | None]:
    target = (base / name).resolve()
    if not target.is_file():
        return {}, f"no such file: {target}"
    try:
        value = loads_strict(target.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, NotCanonicalizable, UnicodeDecodeError) as exc:
        return {}, f"{name} is not valid JSON: {exc}"
    if not isinstance(value, dict):
        return {}, f"{name} must hold a JSON object"
    try:
        canonical_json(value)
    except NotCanonicalizable as exc:
        return {}, f"{name}: {exc}"
    return value, None


def _item_text(item_id: bytes, label: str) -> str:
    return f"item ({label}, id 0x{item_id.hex()})"
