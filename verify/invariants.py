"""Invariant fuzzing with forge: the registry, escrow and credit suites in tests/invariants.

``run()`` is the long pass of ``make verify`` (foundry.toml's ``verify`` profile: at least
1,000,000 calls per invariant); ``make test`` runs the short default profile through
tests/invariants/test_forge_invariants.py. Every figure comes from ``forge test --json``.

The mutation check plants bugs (at least one per contract, one per rule the invariants must
hold) in a throw-away copy of the tree and runs the invariant meant to catch each against it: a
suite that cannot catch a planted bug proves nothing.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verify.model import Section
from verify.scale import pick

ROOT = Path(__file__).resolve().parents[1]
FORGE = ROOT / ".venv" / "bin" / "forge"
SUITES = ("RegistryInvariants", "EscrowInvariants", "CreditInvariants")
MIN_CALLS = pick(1_000_000, 64 * 100)
# The smoke runs the short profile (foundry.toml [profile.default]) and plants one bug.
PROFILE = pick("verify", "default")


@dataclass(frozen=True)
class InvariantResult:
    """One invariant's campaign as forge reports it."""

    suite: str
    invariant: str
    passed: bool
    runs: int
    calls: int
    reverts: int
    reason: str


@dataclass(frozen=True)
class Mutant:
    """A bug planted in a copy of one contract: ``original`` (found exactly once) becomes
    ``replacement``; ``suite`` must then report ``invariant`` broken. ``key`` names it in tests.
    ``runs`` overrides the short profile's runs for a bug that takes a rarer sequence to show."""

    key: str
    name: str
    path: str
    original: str
    replacement: str
    suite: str
    invariant: str
    runs: int | None = None


_REGISTRY = "contracts/registry/ProductRegistry.sol"
_ESCROW = "contracts/escrow/OrderEscrow.sol"
_LINES = "contracts/credit/CreditLines.sol"
_VAULT = "contracts/credit/CreditVault.sol"

# At least one per contract, and one for each rule the invariants are required to hold (an item
# bound to its merchant, a recall refund, credit to verified merchants only, a lender's exit).
MUTANTS = (
    Mutant(
        key="registry-event-replay",
        name="registry accepts a spent custody event id",
        path=_REGISTRY,
        original="if (bits & bit != 0) revert RegistryEventAlreadyRecorded(submitter, eventId);",
        replacement="",
        suite="RegistryInvariants",
        invariant="invariant_eventIdsApplyOnce",
    ),
    Mutant(
        key="registry-gs1-squat",
        name="registry takes a GTIN from a merchant holding none of its company prefixes",
        path=_REGISTRY,
        original="if (!owned) revert RegistryGs1PrefixNotGranted(owner, key.code);",
        replacement="",
        suite="RegistryInvariants",
        invariant="invariant_onlyOwnersClaimItems",
    ),
    Mutant(
        key="registry-nested-prefix",
        name="registry grants a GS1 prefix that contains another merchant's",
        path=_REGISTRY,
        original="if (_gs1Extensions[keccak256(digits)] != 0) "
        "revert RegistryGs1PrefixTaken(prefix, address(0));",
        replacement="",
        suite="RegistryInvariants",
        invariant="invariant_onlyOwnersClaimItems",
    ),
    Mutant(
        key="registry-any-forwarder",
        name="registry reads an address appended to any caller's calldata as the caller (ERC-2771 "
        "without its trusted-forwarder check)",
        path=_REGISTRY,
        original="return ERC2771Context._msgSender();",
        # Read whenever calldata ends in 20 bytes past its ABI words: every direct call without a
        # suffix still reads right, so only the spoofed ones go wrong.
        replacement="if (msg.data.length % 32 == 24) "
        "return address(bytes20(msg.data[msg.data.length - 20:])); "
        "return ERC2771Context._msgSender();",
        suite="RegistryInvariants",
        invariant="invariant_onlyOwnersClaimItems",
    ),
    Mutant(
        key="hold-foreign-item",
        name="holdItems does not check that the item is the order's merchant's",
        path=_REGISTRY,
        original="if (item.merchant != merchant || merchant == address(0)) {\n"
        "                revert RegistryItemNotOfMerchant(itemId, merchant);\n"
        "            }",
        replacement="",
        suite="EscrowInvariants",
        invariant="invariant_ordersHoldOnlyTheirMerchantsItems",
    ),
    Mutant(
        key="revoke-drops-hold",
        name="a verifier's revocation drops the escrow hold of the item's open order",
        path=_REGISTRY,
        original="_items[itemId].held = held;",
        replacement="",
        suite="EscrowInvariants",
        invariant="invariant_ordersHoldOnlyTheirMerchantsItems",
    ),
    Mutant(
        key="escrow-any-forwarder",
        name="escrow reads an address appended to any caller's calldata as the caller (its "
        "ERC-2771 sender without the forwarder check)",
        path=_ESCROW,
        original="if (sender == _forwarder) {",
        replacement="if (sender == _forwarder || msg.data.length % 32 == 24) {",
        suite="EscrowInvariants",
        invariant="invariant_callsActAsTheirSender",
    ),
    Mutant(
        key="escrow-refund-twice",
        name="escrow refund leaves the order open (it can be refunded again)",
        path=_ESCROW,
        original="order.status = OrderStatus.Refunded;",
        replacement="",
        suite="EscrowInvariants",
        invariant="invariant_noOrderPaysTwice",
    ),
    Mutant(
        key="escrow-batch-run-carried",
        name="a release batch carries one merchant's summed credit into the next run",
        path=_ESCROW,
        original="(merchant, token, owed, fees) = (orderMerchant, orderToken, 0, 0);",
        replacement="(merchant, token) = (orderMerchant, orderToken);",
        suite="EscrowInvariants",
        invariant="invariant_balanceEqualsOwed",
        # It shows only in a batch releasing two merchants' (or tokens') due orders: the short
        # profile's 64 runs had none (the campaign of 2026-12-06), 311 runs found one.
        runs=1_000,
    ),
    Mutant(
        key="recall-refunds-remainder",
        name="a recall refund pays the whole unreleased remainder",
        path=_ESCROW,
        original="_refund(orderId, order, terms, items, RefundReason.ItemRecalled);",
        replacement="_refund(orderId, order, terms, _openItems(order), RefundReason.ItemRecalled);",
        suite="EscrowInvariants",
        invariant="invariant_recallRefundsWithinRecalledShares",
    ),
    Mutant(
        key="credit-over-limit",
        name="credit draw skips the limit check",
        path=_LINES,
        original="if (principal > tier.limit) revert CreditLimitExceeded("
        "borrower, tier.limit, principal);",
        replacement="",
        suite="CreditInvariants",
        invariant="invariant_principalWithinLimit",
    ),
    Mutant(
        key="credit-draw-while-denied",
        name="a line draws on its old band after a newer attestation was denied",
        path=_LINES,
        original="if (line.deniedAt > line.attestedAt) revert CreditLineDenied("
        "borrower, line.attestedAt, line.deniedAt);",
        replacement="",
        suite="CreditInvariants",
        invariant="invariant_principalWithinLimit",
    ),
    Mutant(
        key="credit-denial-drops-accrual",
        name="an application denied as not newer drops the late fee its accrual charged, so the "
        "line is charged and impaired again",
        path=_LINES,
        original="if (line.status != LineStatus.None || newer) _lines[borrower] = line;",
        replacement="if (approved || newer) _lines[borrower] = line;",
        suite="CreditInvariants",
        invariant="invariant_vaultAssetsAccounted",
    ),
    Mutant(
        key="credit-own-shop",
        name="credit pays a shop the borrower owns",
        path=_LINES,
        original="if (_borrowerOfIdentity[identity] == msg.sender) "
        "revert CreditMerchantIsBorrower(terms.merchant, msg.sender);",
        replacement="",
        suite="CreditInvariants",
        invariant="invariant_creditReachesOnlyVerifiedMerchants",
    ),
    Mutant(
        key="credit-paid-undelivered",
        name="a credit-paid order pays its merchant on the buyer's word, without a delivery report",
        path=_ESCROW,
        original="if (items & ~order.deliveredItems != 0 && terms.payer != terms.buyer) {",
        replacement="if (false) {",
        suite="CreditInvariants",
        invariant="invariant_creditReachesOnlyVerifiedMerchants",
    ),
    Mutant(
        key="redeem-at-request",
        name="a redemption claim pays the shares' value at the request, past a later impairment",
        path=_VAULT,
        original="assets = Math.min(assetsAtRequest, "
        "_convertToAssets(shares, Math.Rounding.Floor));",
        replacement="assets = assetsAtRequest;",
        suite="CreditInvariants",
        invariant="invariant_redemptionNeverBeatsImpairment",
    ),
)


def forge_test(
    *,
    root: Path = ROOT,
    profile: str = "default",
    match_contract: str | None = None,
    match_test: str | None = None,
    match_path: str | None = None,
    seed: int | None = None,
    runs: int | None = None,
    timeout: float = 3600,
) -> list[InvariantResult]:
    """Runs ``forge test --json`` in ``root`` and returns every invariant's result; ``runs``
    overrides the profile's number of runs (each of the profile's depth)."""
    command = [str(FORGE), "test", "--root", str(root), "--json"]
    if match_contract:
        command += ["--match-contract", match_contract]
    if match_test:
        command += ["--match-test", match_test]
    if match_path:
        # A path filter lets forge compile only that suite and what it imports.
        command += ["--match-path", match_path]
    if seed is not None:
        command += ["--fuzz-seed", hex(seed)]
    env = {**os.environ, "FOUNDRY_PROFILE": profile}
    if runs is not None:
        env["FOUNDRY_INVARIANT_RUNS"] = str(runs)
    completed = subprocess.run(
        command, capture_output=True, text=True, cwd=root, env=env, timeout=timeout, check=False
    )
    try:
        report: dict[str, Any] = json.loads(completed.stdout)
    except json.JSONDecodeError as error:
        raise RuntimeError(
            f"forge test gave no JSON (exit {completed.returncode}):\n"
            f"{completed.stdout[-2000:]}\n{completed.stderr[-4000:]}"
        ) from error
    return parse(report)


def invariant_settings(profile: str) -> dict[str, Any]:
    """The ``[invariant]`` settings forge resolves for ``profile``: runs, depth, check_interval."""
    completed = subprocess.run(
        [str(FORGE), "config", "--json", "--root", str(ROOT)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "FOUNDRY_PROFILE": profile},
        timeout=120,
        check=True,
    )
    settings: dict[str, Any] = json.loads(completed.stdout)["invariant"]
    return settings


def parse(report: dict[str, Any]) -> list[InvariantResult]:
    """The invariant tests of a ``forge test --json`` report, sorted by suite and name."""
    results = []
    for artifact, suite in report.items():
        for name, test in suite["test_results"].items():
            figures = test["kind"].get("Invariant")
            if figures is None:
                continue
            results.append(
                InvariantResult(
                    suite=artifact.rsplit(":", 1)[-1],
                    invariant=name.removesuffix("()"),
                    passed=test["status"] == "Success",
                    runs=int(figures["runs"]),
                    calls=int(figures["calls"]),
                    reverts=int(figures["reverts"]),
                    reason=str(test.get("reason") or ""),
                )
            )
    return sorted(results, key=lambda r: (r.suite, r.invariant))


def mutant_tree(mutant: Mutant, workdir: Path) -> Path:
    """A copy of the project's sources in ``workdir`` with ``mutant`` planted; the toolchain and
    npm packages are linked, and forge's cache is copied so unchanged files are not recompiled."""
    root = workdir / "project"
    root.mkdir()
    shutil.copytree(ROOT / "contracts", root / "contracts")
    (root / "tests").mkdir()
    shutil.copytree(
        ROOT / "tests" / "invariants",
        root / "tests" / "invariants",
        ignore=shutil.ignore_patterns("*.py", "__pycache__"),
    )
    shutil.copy2(ROOT / "foundry.toml", root / "foundry.toml")
    for linked in (".venv", "node_modules"):
        (root / linked).symlink_to(ROOT / linked)
    built = ROOT / ".build" / "forge"
    if built.is_dir():
        shutil.copytree(
            built, root / ".build" / "forge", ignore=shutil.ignore_patterns("invariant-failures")
        )
    target = root / mutant.path
    source = target.read_text()
    if source.count(mutant.original) != 1:
        raise RuntimeError(f"{mutant.path} no longer has exactly one `{mutant.original}`")
    target.write_text(source.replace(mutant.original, mutant.replacement))
    return root


def run_mutant(mutant: Mutant, workdir: Path) -> list[InvariantResult]:
    """The invariant meant to catch the mutant, run against it (short profile)."""
    return forge_test(
        root=mutant_tree(mutant, workdir),
        match_contract=mutant.suite,
        match_test=mutant.invariant,
        match_path=f"tests/invariants/{mutant.suite}.t.sol",
        runs=mutant.runs,
        timeout=900,
    )


def run() -> Section:
    """The long pass: every invariant of every suite for the ``verify`` profile's calls."""
    seed = secrets.randbits(64)
    settings = invariant_settings(PROFILE)
    results = forge_test(profile=PROFILE, seed=seed, timeout=6 * 3600)
    rows: list[dict[str, str | int | float | bool]] = [
        {
            "contract": result.suite.removesuffix("Invariants"),
            "invariant": result.invariant.removeprefix("invariant_"),
            "runs": result.runs,
            "calls": result.calls,
            "reverts": result.reverts,
            "reverted %": 100 * result.reverts / result.calls if result.calls else 0.0,
            "result": "held" if result.passed else f"BROKEN: {result.reason}",
        }
        for result in results
    ]
    caught = []
    for mutant in pick(MUTANTS, MUTANTS[:1]):
        with tempfile.TemporaryDirectory(prefix="trustmall-mutant-") as tmp:
            broken = [r.invariant for r in run_mutant(mutant, Path(tmp)) if not r.passed]
        caught.append(broken == [mutant.invariant])
        verdict = "caught" if caught[-1] else "NOT caught"
        rows.append(
            {
                "contract": mutant.suite.removesuffix("Invariants"),
                "invariant": f"{mutant.invariant.removeprefix('invariant_')} "
                f"(mutant: {mutant.name})",
                "result": verdict,
            }
        )
    enough = all(r.calls >= MIN_CALLS for r in results)
    suites = {r.suite for r in results}
    return Section(
        key="invariants",
        title="Invariant fuzzing (forge)",
        columns=["contract", "invariant", "runs", "calls", "reverts", "reverted %", "result"],
        rows=rows,
        passed=bool(results)
        and all(r.passed for r in results)
        and enough
        and suites == set(SUITES)
        and all(caught),
        notes=[
            f"forge test, profile `{PROFILE}` of foundry.toml ({settings['runs']:,} runs of "
            f"{settings['depth']} calls), fuzz seed {seed:#x}. Calls counts every handler call of "
            "the campaign, reverted ones included. Each campaign asserts all its suite's "
            f"invariants after every {settings['check_interval']}th call and after the last call "
            "of each run; the handlers count double payouts, accepted replays, draws over the "
            "limit or the period cap, backward status moves, ids claimed by others, decoy or "
            "double-held items, recall refunds beyond their items' shares, credit to unverified "
            "merchants or for undelivered items, and claims above their shares' value at the call "
            "that makes them. Bar: at least "
            f"{MIN_CALLS:,} calls per invariant, none broken.",
            "Mutants: bugs planted one at a time in a temporary copy of the tree (at least one per "
            "contract); the invariant named for each runs against that copy (short profile) and "
            "must report it broken.",
        ],
    )
