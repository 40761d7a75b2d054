"""What a reliability campaign reports: one section per campaign, rows of measured figures."""

from __future__ import annotations

from pydantic import BaseModel, Field

Cell = str | int | float | bool


class Section(BaseModel):
    """One campaign's result. ``passed`` is the campaign's own verdict on its bar."""

    key: str = Field(description="stable identifier, e.g. 'invariants'; keys the JSON results")
    title: str
    columns: list[str]
    rows: list[dict[str, Cell]]
    passed: bool
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    measured_at: str = Field(default="", description="when the campaign ran (UTC)")


class Reliability(BaseModel):
    generated_at: str
    machine: dict[str, str]
    versions: dict[str, str]
    sections: list[Section]

    @property
    def passed(self) -> bool:
        return all(section.passed for section in self.sections)
