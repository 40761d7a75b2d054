"""API fuzzing: schemathesis against every operation of the service's OpenAPI document,
as ``tests/app/apifuzz`` runs it in ``make test`` but with many more examples per operation
(``VERIFY_API_FUZZ_EXAMPLES``, default 1,000). The test writes its tallies (requests per
operation, answers by status) to a file this campaign reads; a 5xx or a schema mismatch fails the
test, and so the campaign."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.environment import ROOT
from verify.model import Cell, Section
from verify.scale import pick

EXAMPLES = int(os.environ.get("VERIFY_API_FUZZ_EXAMPLES", pick("1000", "10")))
# The whole campaign's time limit per example an operation: 1,000 examples took 27 minutes here,
# so 6 s (100 minutes at 1,000) leaves room for a machine several times slower, and still ends a
# hung run.
SECONDS_PER_EXAMPLE_BUDGET = 6


def run() -> Section:
    with tempfile.TemporaryDirectory(prefix="verify-apifuzz-") as scratch:
        report = Path(scratch) / "tallies.json"
        env = {
            **os.environ,
            "TRUSTMALL_API_FUZZ_EXAMPLES": str(EXAMPLES),
            "TRUSTMALL_API_FUZZ_PHASES": "examples,coverage,fuzzing",
            "TRUSTMALL_API_FUZZ_REPORT": str(report),
        }
        completed = subprocess.run(
            [
                *(sys.executable, "-m", "pytest", "-q", "-p", "no:warnings"),
                # The campaign is one test (an operation a subtest), so the suite's 600 s a test
                # would cut it at the fifteenth operation or so and fail whatever ran then.
                *("-o", f"timeout={max(600, EXAMPLES * SECONDS_PER_EXAMPLE_BUDGET)}"),
                "tests/app/apifuzz",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        tallies = json.loads(report.read_text()) if report.exists() else {}
    examples: dict[str, int] = tallies.get("examples", {})
    statuses = Counter({key: int(count) for key, count in tallies.get("statuses", {}).items()})
    rows: list[dict[str, Cell]] = []
    for operation, count in sorted(examples.items()):
        answers = {
            key.rsplit(" ", 1)[1]: n
            for key, n in statuses.items()
            if key.rsplit(" ", 1)[0] == operation
        }
        rows.append(
            {
                "Operation": operation,
                "Requests": count,
                "5xx": sum(n for status, n in answers.items() if status.startswith("5")),
                "Answers": ", ".join(f"{s}: {n}" for s, n in sorted(answers.items())),
            }
        )
    passed = completed.returncode == 0 and bool(rows)
    checks = ", ".join(tallies.get("checks", [])) or "none reported (the run wrote no tallies)"
    notes = [
        f"schemathesis {EXAMPLES} examples per operation (coverage, examples and fuzzing "
        f"phases), checks as the test applies them: {checks}. Carriers' and bureaus' "
        "operations are signed over the exact bytes sent. 503 is counted as 5xx; /readyz answers "
        "503 only when not ready (it is ready during the run).",
    ]
    if completed.returncode != 0:
        notes.append(
            "What failed, and how to send it again: " + " / ".join(failures(completed.stdout))
        )
        notes.append("pytest output (tail): " + completed.stdout[-600:])
    return Section(
        key="apifuzz",
        title="API fuzzing: schemathesis on every operation",
        columns=["Operation", "Requests", "5xx", "Answers"],
        rows=rows,
        passed=passed,
        notes=notes,
    )


# The lines of schemathesis's report that say what failed: the failure, the check (with our
# check's own words, which name the service's refusal code), the part of the request, and the
# curl line that sends it again (the tail of a long run shows none of them).
_FAILURE_LINE = re.compile(
    r"SUBFAILED .*|Custom check failed: .*|schemathesis\.core\.failures\.\w+: .*|"
    r"well-formed data refused as malformed .*|Invalid component: .*|Expected: .*|curl -X .*|"
    r"Failed: Timeout .*|\+{3,} Timeout \+{3,}"
)
MAX_FAILURE_LINES = 24


def failures(output: str) -> list[str]:
    """What schemathesis said failed in ``output``, each line once, at most a screenful."""
    found = dict.fromkeys(match.group(0).strip() for match in _FAILURE_LINE.finditer(output))
    return list(found)[:MAX_FAILURE_LINES]
