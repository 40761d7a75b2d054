"""The whole service suite on PostgreSQL: ``tests/app`` (the fault injection aside, which has a
campaign of its own) with every test's database on a PostgreSQL server the run starts from the
Debian package's binaries (``TRUSTMALL_TEST_DATABASE=postgresql``, ``tests/app/databases.py``).
``make test`` runs only the database-sensitive tests on both backends; this runs all of them.
At smoke scale: the shopper's reads, the indexer and the migrations."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from bench.environment import ROOT
from verify.model import Cell, Section
from verify.scale import pick

SELECTION = pick(
    ["tests/app", "--ignore=tests/app/faults"],
    ["tests/app/shop", "tests/app/index", "tests/app/test_migrations.py"],
)
_OUTCOME = re.compile(r"(\d+) (passed|failed|errors?|skipped|deselected)")


def run() -> Section:
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:warnings", "-n", "2",
         "--dist", "loadgroup", *SELECTION],
        cwd=ROOT,
        env={**os.environ, "TRUSTMALL_TEST_DATABASE": "postgresql"},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    summary = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""
    counts = {kind.rstrip("s"): int(n) for n, kind in _OUTCOME.findall(summary)}
    rows: list[dict[str, Cell]] = [
        {
            "Suite": " ".join(SELECTION),
            "Passed": counts.get("passed", 0),
            "Failed": counts.get("failed", 0) + counts.get("error", 0),
            "Seconds": round(seconds),
        }
    ]
    passed = completed.returncode == 0 and counts.get("passed", 0) > 0
    notes = [
        "Each test gets a database of its own (CREATE DATABASE on a server per xdist worker, "
        "started with fsync off: durability is the fault campaigns' concern); the schema comes "
        "from the Alembic migrations, as in production.",
    ]
    if not passed:
        notes.append("pytest output (tail): " + completed.stdout[-2000:])
    return Section(
        key="postgres",
        title="The service suite on PostgreSQL",
        columns=["Suite", "Passed", "Failed", "Seconds"],
        rows=rows,
        passed=passed,
        notes=notes,
    )
