"""Merchant input files: items to register and custody events to append (CSV or JSON).

Every row is validated before anything is sent. Problems name the row — ``line N`` (the CSV line
where the record starts; the header is line 1) or ``index N`` (0-based, in a JSON array) — and the
field, and all of them are reported together in an :class:`InputFileError`.

Item rows (register):
    ``sku,serial`` (id = ``item_id_from_sku(merchant, sku, serial)``) or ``gtin,serial``
    (id = ``item_id_from_gs1(gtin, serial)``), sent as the registry's ``ItemKey`` from which it
    derives the same id; ``metadata`` (a JSON object, inline: a JSON text
    in CSV, an object in JSON) or ``metadata_file`` (a JSON file, relative to the input file);
    ``metadata_uri`` (where the metadata is published). The metadata hash is
    ``keccak256(canonical_json(metadata))`` (see ``app.domain.metadata``).

Custody rows are read by ``scripts/_lib/custody_inputs.py``.
"""

from __future__ import annotations

import csv
import difflib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.domain.errors import TrustMallError
from app.domain.ids import (
    item_id_from_gs1,
    item_id_from_sku,
    item_key,
    normalize_gtin,
    validate_serial,
)
from app.domain.metadata import NotCanonicalizable, canonical_json, loads_strict, metadata_hash
from app.domain.vocab import IdScheme

UINT256_MAX = 2**256 - 1
M = TypeVar("M", bound=BaseModel)


class InputFileError(TrustMallError, ValueError):
    """An input file has problems; ``problems`` lists each, naming its row and field."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        listing = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{path}: {len(self.problems)} problem(s), nothing was sent:\n{listing}")


@dataclass(frozen=True)
class RawRow:
    """One record of an input file, before validation."""

    where: str
    data: dict[str, Any]


def read_rows(path: Path, list_key: str) -> list[RawRow]:
    """The records of a CSV file (header row first) or a JSON file (an array of objects, or an
    object holding the array under ``list_key``). Empty CSV cells count as absent."""
    if not path.is_file():
        raise InputFileError(path, [f"no such file: {path}"])
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".json":
        return _read_json(path, list_key)
    raise InputFileError(path, [f"unsupported file type {suffix!r}: use .csv or .json"])


def _read_csv(path: Path) -> list[RawRow]:
    rows: list[RawRow] = []
    problems: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise InputFileError(
                path, ["line 1: the file is empty; expected a header row"]
            ) from None
        names = [h.strip() for h in header]
        if len(set(names)) != len(names) or "" in names:
            raise InputFileError(path, ["line 1: header has empty or repeated column names"])
        end = reader.line_num
        for record in reader:
            start, end = end + 1, reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            where = f"line {start}"
            if len(record) != len(names):
                problems.append(
                    f"{where}: has {len(record)} cells, the header has {len(names)} columns"
                )
                continue
            data = {n: cell for n, cell in zip(names, record, strict=True) if cell.strip() != ""}
            rows.append(RawRow(where, data))
    if problems:
        raise InputFileError(path, problems)
    return rows


def _read_json(path: Path, list_key: str) -> list[RawRow]:
    try:
        document = loads_strict(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, NotCanonicalizable) as exc:
        raise InputFileError(path, [f"not valid JSON: {exc}"]) from None
    if isinstance(document, dict) and isinstance(document.get(list_key), list):
        document = document[list_key]
    if not isinstance(document, list):
        raise InputFileError(path, [f"expected a JSON array, or an object with {list_key!r}"])
    rows: list[RawRow] = []
    problems: list[str] = []
    for index, entry in enumerate(document):
        if not isinstance(entry, dict):
            problems.append(f"index {index}: expected an object, got {type(entry).__name__}")
            continue
        rows.append(RawRow(f"index {index}", {k: v for k, v in entry.items() if v is not None}))
    if problems:
        raise InputFileError(path, problems)
    return rows


def column_problems(rows: list[RawRow], model: type[BaseModel], needed: Sequence[str]) -> list[str]:
    """Unknown and missing columns, each said once for the whole file (a header typo, a column
    left out), rather than once per row. ``needed``: columns every row needs, ``a|b`` for
    either of two."""
    names = {key for row in rows for key in row.data}
    known = set(model.model_fields)
    problems = []
    for name in sorted(names - known):
        close = difflib.get_close_matches(name.lower(), sorted(known), n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else "columns: " + ", ".join(sorted(known))
        problems.append(f"column '{name}' is not one this file takes ({hint})")
    for need in needed:
        options = need.split("|")
        if rows and not names & set(options):
            said = " or ".join(f"'{o}'" for o in options)
            problems.append(f"column {said} is missing: every row needs it")
    return problems


def validated(
    path: Path, list_key: str, model: type[M], needed: Sequence[str]
) -> tuple[list[tuple[str, M]], list[str]]:
    """The rows of a file as ``model`` with where each stands, and the problems of the others;
    a column unknown or missing stops the file at once (said once, not per row)."""
    raws = read_rows(path, list_key)
    problems = column_problems(raws, model, needed)
    if problems:
        raise InputFileError(path, problems)
    rows = []
    for raw in raws:
        try:
            rows.append((raw.where, model.model_validate(raw.data)))
        except ValidationError as exc:
            problems.extend(describe(exc, raw.where))
    return rows, problems


def finish(path: Path, entries: Sequence[Any], problems: list[str]) -> None:
    if not entries and not problems:
        problems.append("the file has no rows")
    if problems:
        raise InputFileError(path, problems)


def summary(error: ValidationError) -> str:
    """A whole file's pydantic errors on one line: ``terms.amount: Input should be ...; ...``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'file'}: {item['msg']}"
        for item in error.errors()
    )


def describe(error: ValidationError, where: str) -> list[str]:
    """One line per pydantic error: ``line 3, field 'gtin': wrong check digit``."""
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}, field '{field}': {message}" if field else f"{where}: {message}")
    return lines


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


def duplicates(pairs: Iterable[tuple[Any, str]], name: Callable[[Any], str]) -> list[str]:
    seen: dict[Any, list[str]] = defaultdict(list)
    for key, where in pairs:
        seen[key].append(where)
    return [
        f"{', '.join(places)}: the same {name(key)} appears more than once"
        for key, places in seen.items()
        if len(places) > 1
    ]


def _item_text(item_id: bytes, label: str) -> str:
    return f"item ({label}, id 0x{item_id.hex()})"
