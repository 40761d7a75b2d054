"""``python -m bench``: start Anvil, run every suite, print the table, write the reports.

Exits 1 when a measured value misses its target (the reports are written first).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from bench import (
    baseline,
    credit,
    escrow,
    keeper,
    registry,
    relay,
    report,
    signed_requests,
    verify,
)
from bench.context import BenchContext
from bench.environment import ROOT, SPEED_TEXT, machine, python_speed, versions
from bench.model import Report, Row, Section
from harness.nodes import anvil_command, free_port, running

# Each suite: a module with SECTION (its heading), run(ctx) -> list[Row] and optionally RETIRED
# (baseline keys it no longer measures -> why). Add new ones here.
SUITES: tuple[ModuleType, ...] = (registry, escrow, credit, verify, relay, keeper, signed_requests)
# The gas suites run on a node that keeps every transaction's opcode steps, which the rows'
# breakdowns read; the service suites measure throughput, so they get a node without that work.
TRACED: tuple[ModuleType, ...] = (registry, escrow, credit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument(
        "--only",
        action="append",
        choices=[_name(suite) for suite in SUITES],
        help="run only this suite (repeatable); the report then holds only the suites run",
    )
    args = parser.parse_args(argv)
    suites = [suite for suite in SUITES if args.only is None or _name(suite) in args.only]

    from ape import project
    from ape.logging import LogLevel, logger

    logger.set_level(LogLevel.WARNING)
    started = time.monotonic()
    traced = [suite for suite in suites if suite in TRACED]
    plain = [suite for suite in suites if suite not in TRACED]
    load_at_start = os.getloadavg()[0]
    speed_at_start = python_speed()
    sections = _on_new_node(traced, "--steps-tracing")
    before, clock = _Cpu.now(), time.monotonic()
    sections += _on_new_node(plain)
    others = _Cpu.now().others_since(before, time.monotonic() - clock)
    sections.sort(key=lambda section: [s.SECTION for s in SUITES].index(section.title))

    result = Report(
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        # The speed measured twice: the machine's speed changes within a run too.
        machine=machine(f"{SPEED_TEXT}: {speed_at_start} at the start, {python_speed()} at the end")
        | {"load": _load_note(load_at_start, others if plain else None)},
        versions=versions(project),
        sections=sections,
        baseline=baseline.load(),
    )
    print(report.table(result))
    args.markdown.write_text(report.markdown(result))
    args.json.write_text(report.results_json(result))
    print(
        f"\nWrote {_shown(args.markdown)} and {_shown(args.json)} "
        f"in {time.monotonic() - started:.0f} s."
    )
    return 0 if result.all_targets_met else 1


def _on_new_node(suites: list[ModuleType], *anvil_args: str) -> list[Section]:
    """Runs ``suites`` one after the other on a fresh Anvil node of their own."""
    if not suites:
        return []
    from ape import accounts, networks, project

    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as scratch,
        running(anvil_command(port, *anvil_args), port, Path(scratch) / "anvil.log") as node,
        networks.parse_network_choice(f"ethereum:local:{node.rpc_url}"),
    ):
        test_accounts = accounts.test_accounts
        ctx = BenchContext(
            project=project,
            rpc_url=node.rpc_url,
            admin=test_accounts[0],
            verifier=test_accounts[1],
            merchant=test_accounts[2],
            oracle=test_accounts[3],
            shopper=test_accounts[4],
        )
        return [_run_suite(suite, ctx) for suite in suites]


def _run_suite(suite: ModuleType, ctx: BenchContext) -> Section:
    run: Callable[[BenchContext], list[Row]] = suite.run
    print(f"Measuring: {suite.SECTION} ...", flush=True)
    retired: dict[str, str] = getattr(suite, "RETIRED", {})
    return Section(title=suite.SECTION, rows=run(ctx), retired=retired)


@dataclass(frozen=True)
class _Cpu:
    """CPU seconds used so far by the whole machine, and by this process and the children it
    has waited for (nodes and services, stopped at the end of each phase)."""

    machine: float
    ours: float

    @classmethod
    def now(cls) -> _Cpu:
        # /proc/stat's first line: user nice system idle iowait irq softirq steal (clock ticks).
        ticks = [int(value) for value in Path("/proc/stat").read_text().split()[1:9]]
        busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
        times = os.times()
        ours = times.user + times.system + times.children_user + times.children_system
        return cls(busy, ours)

    def others_since(self, start: _Cpu, seconds: float) -> float:
        """Cores other processes kept busy on average since ``start``."""
        return max(0.0, (self.machine - start.machine) - (self.ours - start.ours)) / seconds


def _load_note(load_at_start: float, others: float | None) -> str:
    """Gas does not depend on the load; the service suites' throughput and latency do."""
    note = f"load average {load_at_start:.2f} (1 min) at the start"
    if others is not None:
        note += (
            f"; other processes kept {others:.2f} of {os.cpu_count()} cores busy on average"
            " while the service suites ran"
        )
    return note


def _name(suite: ModuleType) -> str:
    return suite.__name__.rsplit(".", 1)[-1]


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
