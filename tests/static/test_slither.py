"""Slither on every contract of ours (verify/static.py): no high or medium finding, every other
finding triaged in verify/slither_triage.toml with its reason, no stale triage entry or inline
suppression, and no function left unanalysed."""

from __future__ import annotations

import pytest

from tools.toolchain import ROOT
from verify import static
from verify.static import Accepted, Analysis, Finding


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return static.analyse()


@pytest.fixture(scope="module")
def triaged(analysis: Analysis) -> static.Triage:
    return static.triage(analysis.findings, *static.load_triage())


def test_every_source_of_ours_is_analysed_and_no_test_contract(analysis: Analysis) -> None:
    expected = {
        path.relative_to(ROOT).as_posix()
        for directory in static.ANALYSED_DIRS
        for path in (ROOT / "contracts" / directory).glob("*.sol")
    }
    assert set(analysis.sources) == expected
    assert "contracts/escrow/OrderEscrow.sol" in expected
    assert not any(source.startswith("contracts/test/") for source in analysis.sources)


def test_no_high_or_medium_finding(triaged: static.Triage) -> None:
    assert [_show(finding) for finding in triaged.blocking] == []


def test_every_other_finding_is_in_the_triage_file(triaged: static.Triage) -> None:
    assert [_show(finding) for finding in triaged.untriaged] == []


def test_no_triage_entry_is_stale(triaged: static.Triage) -> None:
    assert [f"{entry.detector} on {entry.target} {entry.detail}" for entry in triaged.stale] == []


def test_every_function_is_translated_to_slithir(analysis: Analysis) -> None:
    # A function Slither cannot translate is seen by no detector: the analysis would be partial.
    assert [f.target for f in analysis.findings if f.detector == static.IR_DETECTOR] == []


def test_inline_suppressions_are_used_and_give_a_reason(analysis: Analysis) -> None:
    assert analysis.unused_suppressions == []
    assert analysis.suppressions, "the contracts carry justified suppressions"
    assert [s for s in analysis.suppressions if len(s.reason) < 20] == []


def test_triage_entries_give_reasons_and_false_positives_name_the_statement() -> None:
    accepted, false_positives = static.load_triage()
    assert accepted and false_positives
    assert [e for e in accepted + false_positives if len(e.reason) < 20] == []
    assert [e for e in false_positives if not e.detail] == []


def test_triage_blocks_an_unlisted_medium_and_reports_stale_entries() -> None:
    medium = Finding("incorrect-equality", "Medium", "High", "C.f", "x == 0", "C.f uses ==")
    other_statement = Finding("incorrect-equality", "Medium", "High", "C.f", "y == 0", "")
    low = Finding("timestamp", "Low", "Medium", "C.g", "", "C.g uses timestamp")
    false_positive = Accepted("incorrect-equality", "C.f", "an enum compared", "x == 0")
    unused = Accepted("timestamp", "C.gone", "no longer there")

    result = static.triage([medium, other_statement, low], [unused], [false_positive])

    assert result.blocking == [other_statement]
    assert result.untriaged == [low]
    assert result.accepted == [(medium, false_positive)]
    assert result.stale == [unused]
    assert not result.clean


def test_a_medium_finding_cannot_be_accepted_as_a_low_one() -> None:
    medium = Finding("reentrancy-no-eth", "Medium", "Medium", "C.f", "", "")
    result = static.triage([medium], [Accepted("reentrancy-no-eth", "C.f", "trusted callee")], [])

    assert result.blocking == [medium]


def test_the_campaign_section_counts_by_severity_and_passes(analysis: Analysis) -> None:
    section = static.run_on(analysis)

    counts = {row["Severity"]: row for row in section.rows}
    assert set(counts) == set(static.IMPACTS)
    assert counts["High"]["Open"] == 0 and counts["Medium"]["Open"] == 0
    assert sum(int(row["Findings"]) for row in section.rows) == len(analysis.findings)
    assert section.passed
    assert any(note.startswith("Accepted (low): `timestamp`") for note in section.notes)


def _show(finding: Finding) -> str:
    return f"{finding.impact} {finding.detector} on {finding.target}: {finding.description}"
