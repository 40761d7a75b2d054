"""`ape run ops ...` on Anvil: every operator command sent once and read back from the chain, a
refusal explained from the contract's error with nothing sent, a dry run that sends nothing. Each
test leaves the session's chain as it found it (an Anvil snapshot, reverted after it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from app.domain.orders import read_order_file
from app.domain.vocab import LineStatus, MerchantStatus, ReportStatus
from harness.nodes import ROOT
from tests.scripts.conftest import (
    ADMIN,
    LENDER,
    LENDER_ACCOUNT,
    MERCHANT,
    RIVAL_MERCHANT,
    STRANGER,
    STRANGER_ACCOUNT,
    ApeRun,
    events_of,
)
from tests.scripts.credit_support import (
    USD,
    line_of,
    open_band_1_line,
)
from tests.scripts.escrow_support import advance_time, nonce, register_item, transact

pytestmark = pytest.mark.anvil
DAY = 86_400
ROLE_ORACLE = keccak(text="ORACLE_ROLE")


@pytest.fixture
def unchanged_chain(w3: Web3) -> Iterator[None]:
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def ok(run: object) -> str:
    assert run.returncode == 0, run.output  # type: ignore[attr-defined]
    return str(run.output)  # type: ignore[attr-defined]


def test_a_verifier_suspends_and_reinstates_a_merchant(
    ape_run: ApeRun, registry: Contract, merchant: str, unchanged_chain: None
) -> None:
    out = ok(ape_run("ops", "suspend-merchant", RIVAL_MERCHANT, "--reason", "sold fakes"))

    assert f"MerchantSuspended(merchant={RIVAL_MERCHANT}" in out
    assert f"0x{keccak(text='sold fakes').hex()}" in out
    assert registry.functions.merchantOf(RIVAL_MERCHANT).call()[0] == MerchantStatus.SUSPENDED
    assert "next: reverse it with ape run ops reinstate-merchant" in out

    ok(ape_run("ops", "reinstate-merchant", RIVAL_MERCHANT))

    assert registry.functions.merchantOf(RIVAL_MERCHANT).call()[0] == MerchantStatus.ACTIVE


def test_a_refusal_is_the_contracts_reason_and_a_dry_run_sends_nothing(
    ape_run: ApeRun, registry: Contract, merchant: str, w3: Web3
) -> None:
    sent = nonce(w3, STRANGER)
    refused = ape_run("ops", "suspend-merchant", MERCHANT, "--reason", "x",
                      "--account", STRANGER_ACCOUNT)  # fmt: skip

    assert refused.returncode == 2, refused.output
    assert "AccessControlUnauthorizedAccount(account=" in refused.output
    assert "nothing was sent" in refused.output
    assert nonce(w3, STRANGER) == sent

    dry = ok(ape_run("ops", "pause", "registry", "--dry-run"))

    assert "dry run: would send ProductRegistry.pause() in 1 transaction(s)" in dry
    assert registry.functions.paused().call() is False


def test_reports_are_listed_with_their_evidence_then_confirmed_or_dismissed(
    ape_run: ApeRun, registry: Contract, merchant: str, w3: Web3, unchanged_chain: None
) -> None:
    items = [register_item(registry, w3) for _ in range(2)]
    evidence = keccak(text="photo of a fake label")
    for item in items:
        transact(w3, registry.functions.fileReport(item, 0, evidence), {"from": STRANGER})
    first = registry.functions.reportCount().call() - 1

    listed = ok(ape_run("ops", "reports"))

    for report_id, item in ((first, items[0]), (first + 1, items[1])):
        assert f"report {report_id}  [open] counterfeit on item {item} of {MERCHANT}" in listed
    assert f"by {STRANGER}, evidence 0x{evidence.hex()}" in listed

    ok(ape_run("ops", "confirm-report", str(first), "--finding", "label is fake"))
    ok(ape_run("ops", "dismiss-report", str(first + 1), "--finding", "genuine"))

    statuses = [registry.functions.reportOf(i).call()[4] for i in (first, first + 1)]
    assert statuses == [ReportStatus.CONFIRMED, ReportStatus.DISMISSED]
    assert f"report {first} " not in ok(ape_run("ops", "reports"))
    everything = ok(ape_run("ops", "reports", "--all"))
    assert f"report {first}  [confirmed]" in everything
    assert f"report {first + 1}  [dismissed]" in everything


def test_a_shoppers_report_is_filed_with_the_evidence_hash_the_service_names(
    ape_run: ApeRun, registry: Contract, merchant: str, w3: Web3, unchanged_chain: None
) -> None:
    item = register_item(registry, w3)
    evidence = "0x" + keccak(text="a shopper's receipt").hex()

    ok(ape_run("ops", "file-report", item, "--kind", "1", "--evidence-hash", evidence))

    report = registry.functions.reportOf(registry.functions.reportCount().call()).call()
    assert ("0x" + report[0].hex(), report[3], "0x" + report[5].hex()) == (item, 1, evidence)


@pytest.mark.parametrize("short", ["registry", "escrow", "vault", "lines"])
def test_each_pausable_contract_is_paused_and_unpaused(
    ape_run: ApeRun, credit: dict[str, Contract], short: str, unchanged_chain: None
) -> None:
    name = {
        "registry": "ProductRegistry",
        "escrow": "OrderEscrow",
        "vault": "CreditVault",
        "lines": "CreditLines",
    }[short]
    contract = credit[name]

    assert "Paused(account=" in ok(ape_run("ops", "pause", short))
    assert contract.functions.paused().call() is True

    assert "Unpaused(account=" in ok(ape_run("ops", "unpause", short))
    assert contract.functions.paused().call() is False


def test_roles_are_granted_and_revoked_by_name(
    ape_run: ApeRun, escrow: Contract, unchanged_chain: None
) -> None:
    out = ok(ape_run("ops", "grant-role", "escrow", "ORACLE_ROLE", STRANGER))

    assert f"RoleGranted(role=ORACLE_ROLE, account={STRANGER}" in out
    assert escrow.functions.hasRole(ROLE_ORACLE, STRANGER).call() is True

    ok(ape_run("ops", "revoke-role", "escrow", "oracle_role", STRANGER))

    assert escrow.functions.hasRole(ROLE_ORACLE, STRANGER).call() is False


def test_the_admin_is_handed_over_in_two_steps_after_the_delay(
    ape_run: ApeRun, credit: dict[str, Contract], w3: Web3, unchanged_chain: None
) -> None:
    vault = credit["CreditVault"]
    ok(ape_run("ops", "begin-admin-transfer", "vault", LENDER))
    ok(ape_run("ops", "cancel-admin-transfer", "vault"))
    assert vault.functions.pendingDefaultAdmin().call()[0] == "0x" + "00" * 20
    ok(ape_run("ops", "begin-admin-transfer", "vault", LENDER))

    early = ape_run("ops", "accept-admin-transfer", "vault", "--account", LENDER_ACCOUNT)

    assert early.returncode == 2, early.output
    assert "AccessControlEnforcedDefaultAdminDelay(schedule=" in early.output

    advance_time(w3, 2 * DAY + 1)
    ok(ape_run("ops", "accept-admin-transfer", "vault", "--account", LENDER_ACCOUNT))

    assert vault.functions.defaultAdmin().call() == LENDER


def test_attesters_and_the_quorum_are_set(
    ape_run: ApeRun, credit: dict[str, Contract], unchanged_chain: None
) -> None:
    verifier = credit["AttestationVerifier"]
    ok(ape_run("ops", "add-attester", LENDER))
    ok(ape_run("ops", "set-quorum", "3"))

    assert verifier.functions.isAttester(LENDER).call() is True
    assert verifier.functions.quorum().call() == 3

    refused = ape_run("ops", "remove-attester", LENDER)  # 2 attesters could not meet quorum 3
    assert refused.returncode == 2, refused.output
    ok(ape_run("ops", "set-quorum", "2"))
    ok(ape_run("ops", "remove-attester", LENDER))

    assert verifier.functions.isAttester(LENDER).call() is False


def test_a_policy_file_is_published_with_what_it_changes(
    ape_run: ApeRun, credit: dict[str, Contract], unchanged_chain: None
) -> None:
    lines = credit["CreditLines"]
    version = lines.functions.currentPolicyVersion().call()
    policy = str(ROOT / "examples" / "policy.toml")

    dry = ok(ape_run("ops", "publish-policy", policy, "--dry-run"))

    assert f"policy version {version + 1}, against version {version}:" in dry
    assert "band 2 limit: 2000 dUSD -> 2500 dUSD" in dry
    assert lines.functions.currentPolicyVersion().call() == version

    ok(ape_run("ops", "publish-policy", policy))

    assert lines.functions.currentPolicyVersion().call() == version + 1
    assert lines.functions.policyTier(version + 1, 2).call()[0] == 2_500 * USD
    again = ape_run("ops", "publish-policy", policy)
    assert again.returncode == 2 and "is the policy in force" in again.output


def test_a_credit_paid_refund_is_settled_by_hand_and_a_defaulted_line_written_off(
    ape_run: ApeRun, credit: dict[str, Contract], w3: Web3, tmp_path: Path, unchanged_chain: None
) -> None:
    lines, vault, stable = credit["CreditLines"], credit["CreditVault"], credit["DevStablecoin"]
    transact(w3, stable.functions.approve(vault.address, 1_000 * USD), {"from": LENDER})
    transact(w3, vault.functions.deposit(1_000 * USD, LENDER), {"from": LENDER})
    open_band_1_line(w3, credit, STRANGER, 7_000_001, "OPS 1")
    order_file = tmp_path / "order.json"
    for price, path in (("100", order_file), ("200", tmp_path / "kept.json")):
        item = register_item(credit["ProductRegistry"], w3)
        ok(ape_run("borrower", "draw", "--merchant", MERCHANT, "--price", price, "--item-id", item,
                   "--order-file", str(path), "--account", STRANGER_ACCOUNT))  # fmt: skip
    terms = read_order_file(order_file).terms
    ok(ape_run("buyer", "cancel", "--order-file", str(order_file), "--account", STRANGER_ACCOUNT))
    assert lines.functions.refundOf(terms.as_abi()).call() == 100 * USD

    out = ok(ape_run("ops", "settle-refund", "--order-file", str(order_file),
                     "--account", LENDER_ACCOUNT))  # fmt: skip

    assert "CreditRefundSettled(orderId=" in out
    assert lines.functions.refundOf(terms.as_abi()).call() == 0
    # What is left is the kept order's principal, and the seconds of interest on the refunded one
    # (a refund pays interest before principal).
    assert 200 * USD <= line_of(lines, STRANGER)[6] <= 200 * USD + 100

    early = ape_run("ops", "write-off", STRANGER)
    assert early.returncode == 2 and "CreditLineNotDefaulted" in early.output

    advance_time(w3, 100 * DAY)
    transact(w3, lines.functions.accrue(STRANGER), {"from": ADMIN})
    principal = line_of(lines, STRANGER)[6]
    out = ok(ape_run("ops", "write-off", STRANGER))

    assert f"CreditLineWrittenOff(borrower={STRANGER}, principal={principal})" in out
    assert LineStatus(line_of(lines, STRANGER)[0]) is LineStatus.WRITTEN_OFF
    assert events_of(lines, "CreditLineWrittenOff", borrower=STRANGER)
