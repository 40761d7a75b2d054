"""The baseline every row is compared with: a previous run's results.json kept in the repository.

``bench/baseline.json`` is ``bench/results.json`` as committed at 2be83e2, the last run before
the hardened contracts of SECURITY.md (copied once, byte for byte: ``git show
2be83e2:bench/results.json`` gives it back). The report shows each row's figure there and the
change, computed here, never typed.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.environment import ROOT
from bench.model import Baseline, Report

BASELINE_PATH = ROOT / "bench" / "baseline.json"
BASELINE_SOURCE = "bench/results.json of commit 2be83e2, before the hardened contracts"


def load(path: Path = BASELINE_PATH, source: str = BASELINE_SOURCE) -> Baseline | None:
    """The baseline at ``path``, or None when there is none."""
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    metrics = data["metrics"]
    return Baseline(
        source=source,
        generated_at=str(data.get("generated_at", "unknown")),
        values={key: float(m["value"]) for key, m in metrics.items()},
        labels={key: str(m["metric"]) for key, m in metrics.items()},
        units={key: str(m["unit"]) for key, m in metrics.items()},
    )


def unaccounted(report: Report) -> list[str]:
    """Baseline keys that no row of this run is compared with and no suite retired: rows of a
    suite that did not run, or that a suite dropped without saying why."""
    if report.baseline is None:
        return []
    seen = {row.baseline_key for row in report.rows}
    for section in report.sections:
        seen |= set(section.retired)
    return [key for key in report.baseline.values if key not in seen]
