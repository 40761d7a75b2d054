"""Files of rows people write (CSV or JSON): items to register, custody events to append.

Every row is validated before anything is done with it. Problems name the row: ``line N`` (the CSV
line where the record starts; the header is line 1) or ``index N`` (0-based, in a JSON array), and
the field; all of them are reported together in an :class:`InputFileError`. A column unknown or
missing is said once for the whole file. The rows themselves are ``app.domain.item_rows`` and
``app.domain.custody_rows``.
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

from pydantic import BaseModel, ValidationError

from app.domain.errors import TrustMallError
from app.domain.metadata import NotCanonicalizable, loads_strict

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


class ModelFileError(TrustMallError, ValueError):
    """A JSON file that cannot be read as what it should hold; the message names the file."""


def read_model(path: Path, model: type[M], what: str) -> M:
    """The JSON file at ``path`` as ``model`` (``what`` names it: "an order file")."""
    try:
        return model.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror}") from None
    except ValidationError as exc:
        raise ModelFileError(f"{path} is not {what}: {summary(exc)}") from None


# Pydantic's words for a key that is not in the model, and for one that is missing, in ours.
PLAIN_ERRORS = {
    "extra_forbidden": "not a known key",
    "unexpected_keyword_argument": "not a known key",
    "missing": "missing",
}


def _message(item: Any, missing: list[str]) -> str:
    """One pydantic error in plain words; an unknown key names the missing key it resembles."""
    message = PLAIN_ERRORS.get(item["type"]) or str(item["msg"]).removeprefix("Value error, ")
    if item["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        near = difflib.get_close_matches(str(item["loc"][-1]), missing, n=1)
        message += f" (did you mean {near[0]!r}?)" if near else ""
    return message


def _messages(error: ValidationError) -> list[tuple[str, str]]:
    """Each error's dotted place and its message in plain words."""
    items = error.errors()
    missing = [str(item["loc"][-1]) for item in items if item["type"] == "missing" and item["loc"]]
    return [
        (".".join(str(part) for part in item["loc"]), _message(item, missing)) for item in items
    ]


def summary(error: ValidationError) -> str:
    """A whole file's pydantic errors on one line: ``terms.amount: missing; terms.amout: ...``."""
    return "; ".join(f"{field or 'file'}: {message}" for field, message in _messages(error))


def describe(error: ValidationError, where: str) -> list[str]:
    """One line per pydantic error: ``line 3, field 'gtin': wrong check digit``."""
    return [
        f"{where}, field '{field}': {message}" if field else f"{where}: {message}"
        for field, message in _messages(error)
    ]


def duplicates(pairs: Iterable[tuple[Any, str]], name: Callable[[Any], str]) -> list[str]:
    seen: dict[Any, list[str]] = defaultdict(list)
    for key, where in pairs:
        seen[key].append(where)
    return [
        f"{', '.join(places)}: the same {name(key)} appears more than once"
        for key, places in seen.items()
        if len(places) > 1
    ]
