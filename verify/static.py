"""Static analysis: Slither over the project's own contracts, compiled by the pinned solc adapter.

The sources of contracts/registry, escrow, credit, common and tokens go to crytic-compile as one
standard-JSON input (the compiler settings of ape-config.yaml) and are compiled by
``.venv/solcx/solc-v<pinned>``, the launcher of tools/solc-adapter.cjs: crytic-compile is handed the
platform object itself, so it never looks for a framework (Foundry, Hardhat) nor asks solc-select
for a compiler. OpenZeppelin sources are compiled but not reported on. contracts/test/ is not
analysed: its contracts are attackers and hostile tokens written to misbehave, never deployed.

Every detector runs. High and medium findings must not exist: fixed or, when shown false,
suppressed in the source by a ``// slither-disable-next-line`` comment whose reason is the comment
line above it, where a reader of the code sees it. The triage file is never a way out for them: a
high or medium finding is blocking whatever verify/slither_triage.toml says, and an entry there
naming a high- or medium-impact detector is itself a failure. Each low, informational or
optimization finding must match an entry of that file, which says why it is accepted; an entry
matching nothing is stale. A function Slither cannot translate to its IR is analysed by no
detector: that is reported too (detector ``slithir``), and must be triaged.
"""

from __future__ import annotations

import inspect
import logging
import re
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tools.toolchain import ROOT, SOLCX_DIR, pinned_solc_version
from verify.model import Section

ANALYSED_DIRS = ("registry", "escrow", "credit", "common", "tokens")
TRIAGE_FILE = ROOT / "verify" / "slither_triage.toml"
REMAPPINGS = ("@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/",)
BLOCKING = ("High", "Medium")
COLUMNS = (
    "Severity",
    "Findings",
    "Accepted (triage file)",
    "Open",
    "Suppressed in source",
)
IMPACTS = ("High", "Medium", "Low", "Informational", "Optimization")
IR_DETECTOR = "slithir"
_IR_FAILURE = re.compile(
    r"(?:Impossible|Failed) to generate IR for (?:top level function )?(\S+?)[ .]*\("
)
_DISABLE = re.compile(r"^\s*//\s*slither-disable-next-line\s+([A-Za-z0-9_,-]+)")


@dataclass(frozen=True)
class Finding:
    """One Slither result on our sources, named by what it is about rather than by line."""

    detector: str
    impact: str
    confidence: str
    target: str  # Contract.function, Contract.function.variable, Contract.variable, ...
    detail: str  # the flagged statement's source, when the finding names one
    description: str


@dataclass(frozen=True)
class Accepted:
    """A triage entry: low, informational or optimization findings of `detector` on `target` are
    accepted for `reason`."""

    detector: str
    target: str
    reason: str


@dataclass(frozen=True)
class Suppression:
    """An inline ``slither-disable-next-line`` in our sources and the reason written above it."""

    file: str
    line: int
    detectors: tuple[str, ...]
    reason: str


@dataclass
class Analysis:
    """What one Slither run found, before triage."""

    sources: list[str]
    findings: list[Finding]
    suppressions: list[Suppression]
    unused_suppressions: list[str]
    seconds: float


@dataclass
class Triage:
    """Findings sorted against the triage file."""

    blocking: list[Finding] = field(default_factory=list)
    untriaged: list[Finding] = field(default_factory=list)
    accepted: list[tuple[Finding, Accepted]] = field(default_factory=list)
    stale: list[Accepted] = field(default_factory=list)
    # Entries naming a high- or medium-impact detector: the triage file may not accept those.
    misplaced: list[Accepted] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.blocking or self.untriaged or self.stale or self.misplaced)


def sources() -> list[str]:
    """Our contract sources, relative to the repository root."""
    return sorted(
        path.relative_to(ROOT).as_posix()
        for directory in ANALYSED_DIRS
        for path in (ROOT / "contracts" / directory).glob("*.sol")
    )


def solc_binary() -> Path:
    return SOLCX_DIR / f"solc-v{pinned_solc_version()}"


def analyse() -> Analysis:
    """Compiles our sources with the pinned adapter and runs every Slither detector on them."""
    from crytic_compile import CryticCompile
    from crytic_compile.platform.solc_standard_json import SolcStandardJson
    from slither import Slither

    started = time.monotonic()
    files = sources()
    settings = _compiler_settings()
    standard_json = SolcStandardJson({"language": "Solidity", "sources": {}, "settings": settings})
    standard_json.add_source_files(files)
    options: dict[str, Any] = {
        "solc": str(solc_binary()),
        "solc_remaps": list(REMAPPINGS),
        "solc_working_dir": str(ROOT),
        "solc_disable_warnings": True,
        "cwd": str(ROOT),
    }
    compilation = CryticCompile(standard_json, **options)
    ir_failures = _IrFailures()
    loggers = [logging.getLogger(name) for name in ("ContractSolcParsing", "SlitherSolcParsing")]
    for logger in loggers:
        logger.addHandler(ir_failures)
    try:
        slither = Slither(compilation, filter_paths=["node_modules"], exclude_dependencies=True)
    finally:
        for logger in loggers:
            logger.removeHandler(ir_failures)
    for detector in _detectors():
        slither.register_detector(detector)
    results = [result for batch in slither.run_detectors() for result in batch]
    findings = [_finding(result) for result in results]
    findings += [
        Finding(IR_DETECTOR, "Informational", "High", target, "", f"no SlithIR for {target}")
        for target in sorted(set(ir_failures.targets))
    ]
    unused = sorted(
        {
            f"{Path(item['file']).relative_to(ROOT)}:{item['line']} "
            + ",".join(item["unused_detectors"])
            for item in slither.get_unused_ignore_comments()
            if Path(item["file"]).relative_to(ROOT).as_posix() in files
        }
    )
    return Analysis(
        sources=files,
        findings=sorted(findings, key=lambda f: (IMPACTS.index(f.impact), f.detector, f.target)),
        suppressions=inline_suppressions(files),
        unused_suppressions=unused,
        seconds=time.monotonic() - started,
    )


def load_triage(path: Path = TRIAGE_FILE) -> list[Accepted]:
    """The triage file's accepted findings. Any table but ``[[accepted]]`` (such as the former
    ``[[false_positive]]`` of high/medium findings) is refused rather than silently ignored."""
    document = tomllib.loads(path.read_text())
    unknown = sorted(set(document) - {"accepted"})
    if unknown:
        raise ValueError(
            f"{path.name}: only [[accepted]] entries (low, informational, optimization) belong "
            f"here; high and medium findings are fixed or suppressed in the source, not {unknown}"
        )
    return [
        Accepted(entry["detector"], entry["target"], _words(entry["reason"]))
        for entry in document.get("accepted", [])
    ]


def detector_impact(detector: str) -> str:
    """The impact Slither gives a detector's findings (``slithir``, ours, is informational)."""
    return _detector_impacts().get(detector, "Informational")


def triage(findings: list[Finding], accepted: list[Accepted]) -> Triage:
    """Sorts findings: high/medium are always blocking; the others are accepted by an entry for
    their (detector, target), or untriaged. Entries naming a high- or medium-impact detector are
    misplaced and match nothing; other entries that match nothing are stale."""
    sorted_ = Triage()
    used: set[Accepted] = set()
    sorted_.misplaced = [e for e in accepted if detector_impact(e.detector) in BLOCKING]
    by_target = {
        (entry.detector, entry.target): entry
        for entry in accepted
        if entry not in sorted_.misplaced
    }
    for finding in findings:
        if finding.impact in BLOCKING:
            sorted_.blocking.append(finding)
            continue
        entry = by_target.get((finding.detector, finding.target))
        if entry is None:
            sorted_.untriaged.append(finding)
        else:
            sorted_.accepted.append((finding, entry))
            used.add(entry)
    sorted_.stale = [e for e in accepted if e not in used and e not in sorted_.misplaced]
    return sorted_


def inline_suppressions(files: list[str]) -> list[Suppression]:
    """Each ``slither-disable-next-line`` in `files`, with the comment lines above as reason."""
    found = []
    for name in files:
        lines = (ROOT / name).read_text().splitlines()
        for index, line in enumerate(lines):
            match = _DISABLE.match(line)
            if not match:
                continue
            reason: list[str] = []
            above = index - 1
            while above >= 0 and lines[above].strip().startswith("//"):
                text = lines[above].strip().removeprefix("//").strip()
                if text.startswith("/") or _DISABLE.match(lines[above]):
                    break  # NatSpec or another suppression: not this one's reason
                reason.insert(0, text)
                above -= 1
            detectors = tuple(match.group(1).split(","))
            found.append(Suppression(name, index + 1, detectors, " ".join(reason)))
    return found


def run() -> Section:
    """The campaign for `python -m verify`: findings by severity, then what was accepted and why."""
    return run_on(analyse())


def run_on(analysis: Analysis) -> Section:
    """The campaign's section for an analysis already made."""
    result = triage(analysis.findings, load_triage())
    counts = Counter(finding.impact for finding in analysis.findings)
    accepted_counts = Counter(finding.impact for finding, _ in result.accepted)
    rows: list[dict[str, str | int | float | bool]] = [
        {
            "Severity": impact,
            "Findings": counts[impact],
            COLUMNS[2]: accepted_counts[impact],
            "Open": counts[impact] - accepted_counts[impact],
            "Suppressed in source": sum(
                len(s.detectors) for s in analysis.suppressions if _impact_of(s) == impact
            ),
        }
        for impact in IMPACTS
    ]
    notes = [
        f"Slither {_version('slither-analyzer')} (crytic-compile {_version('crytic-compile')}), "
        f"every detector, on {len(analysis.sources)} sources of contracts/"
        f"{{{','.join(ANALYSED_DIRS)}}} compiled by solc {pinned_solc_version()} (solcjs adapter) "
        "with the settings of ape-config.yaml; OpenZeppelin compiled, not reported on; "
        "contracts/test/ (attackers, hostile tokens) not analysed.",
        "High and medium findings fail the campaign and `make test` (tests/static), whatever "
        "the triage file says: they are fixed, or shown false and suppressed in the source with "
        "the reason beside them. So does any low, informational or optimization finding missing "
        "from verify/slither_triage.toml, any entry there that matches nothing, and any entry "
        "naming a high- or medium-impact detector.",
    ]
    notes += [
        f"Suppressed in the source: `{','.join(s.detectors)}` at {s.file}:{s.line}: {s.reason}"
        for s in analysis.suppressions
    ]
    notes += [
        f"Accepted ({finding.impact.lower()}): `{finding.detector}` on {finding.target}: "
        f"{entry.reason}"
        for finding, entry in _unique(result.accepted)
    ]
    problems = (
        [f"**{f.impact}** `{f.detector}` on {f.target}: {f.description}" for f in result.blocking]
        + [f"**Untriaged** `{f.detector}` on {f.target}: {f.description}" for f in result.untriaged]
        + [f"**Stale triage entry** `{e.detector}` on {e.target}" for e in result.stale]
        + [
            f"**Triage entry for a {detector_impact(e.detector).lower()} detector** "
            f"`{e.detector}` on {e.target}: fix it or suppress it in the source"
            for e in result.misplaced
        ]
        + [f"**Unused suppression** {item}" for item in analysis.unused_suppressions]
    )
    return Section(
        key="static",
        title="Static analysis (Slither)",
        columns=list(COLUMNS),
        rows=rows,
        passed=result.clean and not analysis.unused_suppressions,
        notes=problems + notes,
    )


# ------------------------------------------------------------------ internals


class _IrFailures(logging.Handler):
    """Collects the functions Slither logs it could not translate to SlithIR."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.targets: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = _IR_FAILURE.search(record.getMessage())
        if match:
            self.targets.append(match.group(1))


def _compiler_settings() -> dict[str, Any]:
    """Ape's EVM version (ape-config.yaml), as standard-JSON settings. Unoptimized: Slither reads
    the sources' AST, which the optimizer leaves as it is, and solcjs compiles about three times
    faster without it."""
    solidity = yaml.safe_load((ROOT / "ape-config.yaml").read_text())["solidity"]
    return {
        "optimizer": {"enabled": False},
        "evmVersion": solidity["evm_version"],
        "remappings": [],
    }


def _finding(result: dict[str, Any]) -> Finding:
    elements = result["elements"]
    nodes = [str(element["name"]) for element in elements if element["type"] == "node"]
    first_line = str(result["description"]).strip().splitlines()[0]
    return Finding(
        detector=str(result["check"]),
        impact=str(result["impact"]),
        confidence=str(result["confidence"]),
        target=_target(elements[0]) if elements else "",
        detail=nodes[0] if len(nodes) == 1 else "",
        description=first_line,
    )


def _target(element: dict[str, Any]) -> str:
    """Contract.function.variable: the element's name behind its parents' names."""
    names = [str(element["name"])]
    parent = element.get("type_specific_fields", {}).get("parent")
    while parent:
        names.insert(0, str(parent["name"]))
        parent = parent.get("type_specific_fields", {}).get("parent")
    return ".".join(names)


def _detectors() -> list[Any]:
    """Every detector class Slither ships."""
    from slither.detectors import all_detectors
    from slither.detectors.abstract_detector import AbstractDetector

    return [
        detector
        for detector in vars(all_detectors).values()
        if inspect.isclass(detector) and issubclass(detector, AbstractDetector)
    ]


def _impact_of(suppression: Suppression) -> str:
    for name in suppression.detectors:
        if name in _detector_impacts():
            return _detector_impacts()[name]
    return "Informational"


@cache
def _detector_impacts() -> dict[str, str]:
    return {
        str(detector.ARGUMENT): _IMPACT_NAMES.get(int(detector.IMPACT.value), "Informational")
        for detector in _detectors()
    }


def _words(text: str) -> str:
    return " ".join(text.split())


_IMPACT_NAMES = {0: "High", 1: "Medium", 2: "Low", 3: "Informational", 4: "Optimization"}


def _unique(pairs: list[tuple[Finding, Accepted]]) -> list[tuple[Finding, Accepted]]:
    seen: set[Accepted] = set()
    unique = []
    for finding, entry in pairs:
        if entry not in seen:
            seen.add(entry)
            unique.append((finding, entry))
    return unique


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
