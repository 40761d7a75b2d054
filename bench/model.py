"""What a benchmark reports: rows of measured values, each with an optional target and peer, and
the figure the same row had in the baseline run it is compared with."""

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
    ``compare_to`` names the baseline's key when the row is compared with a differently keyed
    row of the baseline (a measurement that changed shape); by default the row's own key.
    ``breakdown`` says where a transaction's gas went, read from the node's opcode trace.
    """

    key: str
    metric: str
    value: float
    unit: str
    target: Target | None = None
    peer: Peer | None = None
    note: str = ""
    compare_to: str | None = None
    breakdown: str = ""

    @property
    def baseline_key(self) -> str:
        return self.compare_to or self.key

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
            "breakdown": self.breakdown or None,
        }


@dataclass(frozen=True)
class Section:
    """The rows one suite measured, under its heading.

    ``retired`` maps baseline keys this suite no longer measures to the reason, so that every row
    of the baseline is accounted for in the report.
    """

    title: str
    rows: list[Row] = field(default_factory=list)
    retired: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Before:
    """A row's figure in the baseline run, and the change to this run's."""

    key: str
    value: float

    def change(self, now: float) -> float:
        return now - self.value

    def relative(self, now: float) -> float | None:
        """The change as a fraction of the baseline figure; None when that figure is 0."""
        return None if self.value == 0 else (now - self.value) / self.value


@dataclass(frozen=True)
class Baseline:
    """A previous run's results.json, kept in the repository to compare every row with.

    ``source`` says where the file came from (e.g. the commit whose results it copies).
    """

    source: str
    generated_at: str
    values: dict[str, float]
    labels: dict[str, str]
    units: dict[str, str]

    def before(self, row: Row) -> Before | None:
        key = row.baseline_key
        return Before(key, self.values[key]) if key in self.values else None


@dataclass(frozen=True)
class Report:
    """A whole run: where and with what it ran, and every section."""

    generated_at: str
    machine: dict[str, str]
    versions: dict[str, str]
    sections: list[Section]
    baseline: Baseline | None = None

    @property
    def rows(self) -> list[Row]:
        return [row for section in self.sections for row in section.rows]

    @property
    def all_targets_met(self) -> bool:
        return all(row.passed is not False for row in self.rows)
