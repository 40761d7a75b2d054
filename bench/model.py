"""What a benchmark reports: rows of measured values, each with an optional target and peer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Target:
    """A bound the measured value must stay within."""

    limit: float
    comparison: Literal["<=", ">="] = "<="

    def met_by(self, value: float) -> bool:
        return value <= self.limit if self.comparison == "<=" else value >= self.limit

    def to_json(self) -> dict[str, Any]:
        return {"comparison": self.comparison, "limit": self.limit}


@dataclass(frozen=True)
class Peer:
    """The same quantity measured, in the same run, on a well-known peer contract."""

    label: str
    value: float

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value}


@dataclass(frozen=True)
class Row:
    """One measured metric.

    ``key`` is stable across runs (results.json is keyed by it); ``metric`` is the human label.
    """

    key: str
    metric: str
    value: float
    unit: str
    target: Target | None = None
    peer: Peer | None = None
    note: str = ""

    @property
    def passed(self) -> bool | None:
        """True or False against the target; None when the row has no target."""
        return None if self.target is None else self.target.met_by(self.value)

    def to_json(self, section: str) -> dict[str, Any]:
        return {
            "section": section,
            "metric": self.metric,
            "value": self.value,
            "unit": self.unit,
            "target": None if self.target is None else self.target.to_json(),
            "peer": None if self.peer is None else self.peer.to_json(),
            "pass": self.passed,
            "note": self.note,
        }


@dataclass(frozen=True)
class Section:
    """The rows one suite measured, under its heading."""

    title: str
    rows: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    """A whole run: where and with what it ran, and every section."""

    generated_at: str
    machine: dict[str, str]
    versions: dict[str, str]
    sections: list[Section]

    @property
    def rows(self) -> list[Row]:
        return [row for section in self.sections for row in section.rows]

    @property
    def all_targets_met(self) -> bool:
        return all(row.passed is not False for row in self.rows)
