"""``python -m verify``: run the reliability campaigns, write RELIABILITY.md and results.json.

``--only KEY`` re-runs one campaign and keeps the others' last results. Exits 1 when a campaign
fails its bar (the reports are written first).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench.environment import ROOT, first_line, machine
from verify import apifuzz, faults, invariants, load, report, static
from verify.model import Reliability, Section

# Each campaign: a key and a function that runs it in full and returns its Section.
Campaign = Callable[[], Section]
CAMPAIGNS: dict[str, Campaign] = {
    "invariants": invariants.run,
    "static": static.run,
    "faults": faults.run,
    "apifuzz": apifuzz.run,
    "load": load.run,
}

RESULTS = ROOT / "verify" / "results.json"
MARKDOWN = ROOT / "RELIABILITY.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verify", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(CAMPAIGNS), action="append", default=[])
    args = parser.parse_args(argv)

    earlier = _earlier_sections() if args.only else {}
    chosen = args.only or list(CAMPAIGNS)
    sections: dict[str, Section] = dict(earlier)
    for key in chosen:
        print(f"verify: {key} ...", flush=True)
        started = time.monotonic()
        section = CAMPAIGNS[key]()
        section.seconds = time.monotonic() - started
        section.measured_at = _now()
        print(
            f"verify: {key} {'passed' if section.passed else 'FAILED'} in {section.seconds:.0f} s",
            flush=True,
        )
        sections[key] = section
    result = Reliability(
        generated_at=_now(),
        machine=machine(),
        versions=_versions(),
        sections=[sections[key] for key in CAMPAIGNS if key in sections],
    )
    MARKDOWN.write_text(report.markdown(result))
    RESULTS.write_text(result.model_dump_json(indent=2) + "\n")
    print(f"verify: wrote {MARKDOWN.name} and verify/{RESULTS.name}")
    return 0 if result.passed else 1


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _earlier_sections() -> dict[str, Section]:
    if not RESULTS.exists():
        return {}
    earlier = Reliability.model_validate(json.loads(RESULTS.read_text()))
    for section in earlier.sections:
        section.measured_at = section.measured_at or earlier.generated_at
    return {section.key: section for section in earlier.sections if section.key in CAMPAIGNS}


def _versions() -> dict[str, str]:
    bin_dir = Path(sys.prefix) / "bin"
    found = {"python": platform.python_version()}
    for package in ("eth-ape", "web3", "slither-analyzer", "schemathesis", "hypothesis"):
        found[package] = version(package)
    for tool in ("forge", "anvil"):
        found[tool] = first_line([str(bin_dir / tool), "--version"]).split("Version: ")[-1]
    found["solc"] = _pinned_solc()
    return found


def _pinned_solc() -> str:
    manifest = json.loads((ROOT / "node_modules" / "solc" / "package.json").read_text())
    return f"{manifest['version']} (solcjs)"


if __name__ == "__main__":
    sys.exit(main())
