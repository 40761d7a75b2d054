"""``python -m verify``: run the reliability campaigns, write RELIABILITY.md and results.json.

``--only KEY`` re-runs one campaign and keeps the others' last results. Exits 1 when a campaign
fails its bar (the reports are written first).

``--smoke`` runs every campaign (or those named by ``--only``) at a few minutes' scale
(verify/scale.py) and writes its reports to a temporary directory, never over the committed ones:
CI's check that the campaigns still run. The load campaign's bars are rates held for minutes, so
at smoke scale its section is reported but not judged.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench.environment import ROOT, first_line, machine
from verify import report
from verify.model import Reliability, Section

# Each campaign: a key and a function that runs it and returns its Section.
Campaign = Callable[[], Section]
KEYS = ("invariants", "static", "faults", "cluster", "apifuzz", "postgres", "load")
# Bars of rates held for minutes: a smoke's seconds say nothing of them.
NOT_JUDGED_IN_SMOKE = {"load"}


def campaigns() -> dict[str, Campaign]:
    """The campaigns, imported only now: each reads its scale (VERIFY_SCALE) on import."""
    from verify import apifuzz, cluster, faults, invariants, load, postgres, static

    found: dict[str, Campaign] = {
        "invariants": invariants.run,
        "static": static.run,
        "faults": faults.run,
        "cluster": cluster.run,
        "apifuzz": apifuzz.run,
        "postgres": postgres.run,
        "load": load.run,
    }
    return found


RESULTS = ROOT / "verify" / "results.json"
MARKDOWN = ROOT / "RELIABILITY.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verify", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(KEYS), action="append", default=[])
    parser.add_argument("--smoke", action="store_true", help="Every campaign at smoke scale.")
    args = parser.parse_args(argv)
    if args.smoke:
        os.environ["VERIFY_SCALE"] = "smoke"
        return _smoke(args.only or list(KEYS))

    earlier = _earlier_sections() if args.only else {}
    chosen = args.only or list(KEYS)
    sections = _run(chosen, dict(earlier))
    result = _result(sections)
    MARKDOWN.write_text(report.markdown(result))
    RESULTS.write_text(result.model_dump_json(indent=2) + "\n")
    print(f"verify: wrote {MARKDOWN.name} and verify/{RESULTS.name}")
    return 0 if result.passed else 1


def _smoke(chosen: list[str]) -> int:
    sections = _run(chosen, {})
    result = _result(sections)
    scratch = Path(tempfile.mkdtemp(prefix="verify-smoke-"))
    (scratch / MARKDOWN.name).write_text(report.markdown(result))
    (scratch / RESULTS.name).write_text(result.model_dump_json(indent=2) + "\n")
    judged = [s for s in result.sections if s.key not in NOT_JUDGED_IN_SMOKE]
    failed = [s.key for s in judged if not s.passed]
    unrun = [s.key for s in result.sections if not s.rows]
    print(f"verify: smoke reports in {scratch}")
    print(f"verify: {len(judged) - len(failed)} passed, {len(failed)} failed")
    return 0 if not failed and not unrun else 1


def _run(chosen: list[str], sections: dict[str, Section]) -> dict[str, Section]:
    found = campaigns()
    for key in chosen:
        print(f"verify: {key} ...", flush=True)
        started = time.monotonic()
        section = found[key]()
        section.seconds = time.monotonic() - started
        section.measured_at = _now()
        verdict = "passed" if section.passed else "FAILED"
        if not section.passed and _smoke_scale() and key in NOT_JUDGED_IN_SMOKE:
            verdict = "below its bars (not judged at smoke scale)"
        print(f"verify: {key} {verdict} in {section.seconds:.0f} s", flush=True)
        if not section.passed:
            # CI keeps only this output, not the reports' directory: say there what failed.
            for note in section.notes:
                print(f"verify: {key}: {note}", flush=True)
        sections[key] = section
    return sections


def _smoke_scale() -> bool:
    return os.environ.get("VERIFY_SCALE") == "smoke"


def _result(sections: dict[str, Section]) -> Reliability:
    return Reliability(
        generated_at=_now(),
        machine=machine(),
        versions=_versions(),
        sections=[sections[key] for key in KEYS if key in sections],
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _earlier_sections() -> dict[str, Section]:
    if not RESULTS.exists():
        return {}
    earlier = Reliability.model_validate(json.loads(RESULTS.read_text()))
    for section in earlier.sections:
        section.measured_at = section.measured_at or earlier.generated_at
    return {section.key: section for section in earlier.sections if section.key in KEYS}


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
