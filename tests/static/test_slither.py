"""Slither on every contract of ours (verify/static.py): no high or medium finding (the triage file
may not accept one: those are fixed or suppressed in the source beside their reason), every other
finding triaged in verify/slither_triage.toml with its reason, no stale triage entry or inline
suppression, and no function left unanalysed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.toolchain import ROOT
from verify import static
from verify.static import Accepted, Analysis, Finding

# The analysis (a whole compilation and every detector) is made once, on one worker.
pytestmark = pytest.mark.xdist_group("slither")


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return static.analyse()


@pytest.fixture(scope="module")
def triaged(analysis: Analysis) -> static.Triage:
    return static.triage(analysis.findings, static.load_triage())


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
    assert [f"{entry.detector} on {entry.target}" for entry in triaged.stale] == []


def test_every_function_is_translated_to_slithir(analysis: Analysis) -> None:
    # A function Slither cannot translate is seen by no detector: the analysis would be partial.
    assert [f.target for f in analysis.findings if f.detector == static.IR_DETECTOR] == []


def test_inline_suppressions_are_used_and_give_a_reason(analysis: Analysis) -> None:
    assert analysis.unused_suppressions == []
    assert analysis.suppressions, "the contracts carry justified suppressions"
    assert [s for s in analysis.suppressions if len(s.reason) < 20] == []


def test_triage_entries_give_reasons() -> None:
    accepted = static.load_triage()
    assert accepted
    assert [e for e in accepted if len(e.reason) < 20] == []


def test_the_triage_file_accepts_no_high_or_medium_finding(triaged: static.Triage) -> None:
    # Triage is for low, informational and optimization findings only; a high or medium one is
    # fixed, or shown false and suppressed in the source, where the reason sits beside the code.
    accepted = static.load_triage()
    impacts = {entry.detector: static.detector_impact(entry.detector) for entry in accepted}
    assert {d: i for d, i in impacts.items() if i in static.BLOCKING} == {}
    assert triaged.misplaced == []
    assert [(f, e) for f, e in triaged.accepted if f.impact in static.BLOCKING] == []


def test_detector_impacts_are_slithers() -> None:
    assert static.detector_impact("incorrect-equality") == "Medium"
    assert static.detector_impact("reentrancy-eth") == "High"
    assert static.detector_impact("timestamp") == "Low"
    assert static.detector_impact(static.IR_DETECTOR) == "Informational"


def test_triage_blocks_a_medium_even_when_listed_and_reports_stale_entries() -> None:
    medium = Finding("incorrect-equality", "Medium", "High", "C.f", "x == 0", "C.f uses ==")
    low = Finding("timestamp", "Low", "Medium", "C.g", "", "C.g uses timestamp")
    accepted_low = Finding("timestamp", "Low", "Medium", "C.h", "", "C.h uses timestamp")
    listed_medium = Accepted("incorrect-equality", "C.f", "an enum compared, not a time")
    listed_low = Accepted("timestamp", "C.h", "deadlines are days long")
    unused = Accepted("timestamp", "C.gone", "no longer there")

    result = static.triage([medium, low, accepted_low], [listed_medium, listed_low, unused])

    assert result.blocking == [medium]
    assert result.misplaced == [listed_medium]
    assert result.untriaged == [low]
    assert result.accepted == [(accepted_low, listed_low)]
    assert result.stale == [unused]
    assert not result.clean


def test_a_listed_medium_detector_fails_the_triage_even_with_no_finding() -> None:
    # An entry that could accept a medium finding is refused as such, not merely as stale.
    entry = Accepted("reentrancy-no-eth", "C.f", "trusted callee, no callback")
    result = static.triage([], [entry])

    assert result.misplaced == [entry] and result.stale == []
    assert not result.clean


def test_a_medium_finding_cannot_be_accepted_as_a_low_one() -> None:
    medium = Finding("reentrancy-no-eth", "Medium", "Medium", "C.f", "", "")
    result = static.triage([medium], [Accepted("reentrancy-no-eth", "C.f", "trusted callee")])

    assert result.blocking == [medium]
    assert result.accepted == []


def test_a_triage_file_with_a_false_positive_table_is_refused(tmp_path: Path) -> None:
    triage_file = tmp_path / "triage.toml"
    triage_file.write_text(
        "[[accepted]]\n"
        'detector = "timestamp"\ntarget = "C.g"\nreason = "deadlines are days long"\n\n'
        "[[false_positive]]\n"
        'detector = "incorrect-equality"\ntarget = "C.f"\nreason = "an enum compared"\n'
        'detail = "x == 0"\n'
    )

    with pytest.raises(ValueError, match="false_positive"):
        static.load_triage(triage_file)


def test_the_campaign_section_counts_by_severity_and_passes(analysis: Analysis) -> None:
    section = static.run_on(analysis)

    counts = {row["Severity"]: row for row in section.rows}
    assert set(counts) == set(static.IMPACTS)
    for impact in static.BLOCKING:
        assert counts[impact]["Findings"] == 0, impact
        assert counts[impact][static.COLUMNS[2]] == 0, impact
        assert counts[impact]["Open"] == 0, impact
    # The medium false positives shown so far are suppressed beside the code, one by one.
    assert int(counts["Medium"]["Suppressed in source"]) > 0
    assert sum(int(row["Findings"]) for row in section.rows) == len(analysis.findings)
    assert section.passed
    assert any(note.startswith("Accepted (low): `timestamp`") for note in section.notes)


def _show(finding: Finding) -> str:
    return f"{finding.impact} {finding.detector} on {finding.target}: {finding.description}"
