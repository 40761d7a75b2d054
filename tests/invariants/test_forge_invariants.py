"""The forge invariant suites (tests/invariants/*.sol), short pass: every invariant holds, and a
planted bug (verify.invariants.MUTANTS, in a throw-away copy of the tree, never in the tree itself)
is caught by the invariant named for it.

Each planted bug costs a compilation and a campaign, so `make test` plants one, as a smoke of the
mutant runs; `make test-long` and `make verify` (at least a million calls per invariant,
verify/invariants.py) plant all of them, one or more per suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.campaign import LONG
from verify.invariants import MUTANTS, SUITES, InvariantResult, Mutant, forge_test, run_mutant

# What each suite asserts, by name: a renamed or dropped invariant must fail here, not vanish.
EXPECTED = {
    "RegistryInvariants": {
        "invariant_statusMovesOnlyForward",
        "invariant_recalledOrFlaggedNeverAuthentic",
        "invariant_eventIdsApplyOnce",
        "invariant_onlyOwnersClaimItems",
    },
    "EscrowInvariants": {
        "invariant_balanceEqualsOwed",
        "invariant_noOrderPaysTwice",
        "invariant_payoutsPlusFeesEqualDeposits",
        "invariant_recallRefundsWithinRecalledShares",
        "invariant_ordersHoldOnlyTheirMerchantsItems",
        "invariant_callsActAsTheirSender",
    },
    "CreditInvariants": {
        "invariant_principalWithinLimit",
        "invariant_vaultAssetsAccounted",
        "invariant_lentFundsNotWithdrawable",
        "invariant_staleOrReplayedNeverOpensOrRaises",
        "invariant_creditReachesOnlyVerifiedMerchants",
        "invariant_redemptionNeverBeatsImpairment",
    },
}
# make test's pass: a quarter of the short profile's runs (foundry.toml [profile.default.invariant],
# 64 x 100), as a smoke of the campaign that make verify runs at a million calls per invariant;
# the planted bug is still hunted with the whole profile.
SMOKE_RUNS = 16
SHORT_CALLS = SMOKE_RUNS * 100
# The short pass's planted bug: a rule of the trust model in the suite that compiles fastest.
SMOKE_MUTANTS = ("registry-gs1-squat",)
PLANTED = MUTANTS if LONG else tuple(m for m in MUTANTS if m.key in SMOKE_MUTANTS)
# One forge at a time: forge spreads its campaign over every core, and the short pass builds in
# the tree's own .build/forge, which the planted bugs' copies start from.
pytestmark = pytest.mark.xdist_group("forge")


@pytest.fixture(scope="module")
def short_pass() -> list[InvariantResult]:
    return forge_test(runs=SMOKE_RUNS, timeout=600)


@pytest.mark.parametrize("suite", SUITES)
def test_every_invariant_holds(short_pass: list[InvariantResult], suite: str) -> None:
    results = [r for r in short_pass if r.suite == suite]

    assert {r.invariant for r in results} == EXPECTED[suite]
    broken = [(r.invariant, r.reason) for r in results if not r.passed]
    assert broken == []
    for result in results:
        assert result.calls == SHORT_CALLS, result
        # Handlers aim their actions at fitting states: most calls must do something.
        assert result.reverts < result.calls * 0.6, result


def test_the_campaign_plants_a_bug_in_every_suite_and_the_smoke_one_of_them() -> None:
    assert {m.suite for m in MUTANTS} == set(SUITES)
    assert {m.key for m in PLANTED} >= set(SMOKE_MUTANTS)


@pytest.mark.parametrize("mutant", PLANTED, ids=[m.key for m in PLANTED])
def test_suite_catches_a_planted_bug(mutant: Mutant, tmp_path: Path) -> None:
    results = run_mutant(mutant, tmp_path)

    assert [r.invariant for r in results] == [mutant.invariant]
    assert not results[0].passed, f"{mutant.name}: not caught"
    assert mutant.invariant in EXPECTED[mutant.suite]
