"""Renders the campaigns' results as RELIABILITY.md."""

from __future__ import annotations

from verify.model import Cell, Reliability, Section


def markdown(report: Reliability) -> str:
    lines = [
        "# Reliability",
        "",
        "Re-made by `make verify` (`python -m verify`; `--only KEY` re-runs one campaign and",
        "keeps the others): every figure below was measured by a campaign on the date shown;",
        "nothing is typed by hand.",
        "",
        f"Written {report.generated_at}.",
        "",
        "Machine: " + ", ".join(f"{key} {value}" for key, value in report.machine.items()) + ".",
        "",
        "Versions: " + ", ".join(f"{key} {value}" for key, value in report.versions.items()) + ".",
        "",
        "| Campaign | Result | Measured | Time |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {section.title} | {'passed' if section.passed else '**FAILED**'} | "
        f"{section.measured_at or report.generated_at} | {section.seconds:.0f} s |"
        for section in report.sections
    ]
    for section in report.sections:
        lines += ["", *_section(section)]
    return "\n".join(lines) + "\n"


def _section(section: Section) -> list[str]:
    lines = [f"## {section.title}", ""]
    if section.rows:
        lines.append("| " + " | ".join(section.columns) + " |")
        lines.append("|" + "---|" * len(section.columns))
        lines += [
            "| " + " | ".join(_cell(row.get(column, "")) for column in section.columns) + " |"
            for row in section.rows
        ]
    for note in section.notes:
        lines += ["", note]
    return lines


def _cell(value: Cell) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value).replace("|", "\\|").replace("\n", " ")
