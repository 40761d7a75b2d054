"""`ape run lender|bureau|borrower ...` on Anvil: a lender funds the pool, the bureau attests a
score band, the borrower is approved at once, pays an escrow order with credit and repays part
with interest; a denial with its reasons; a draw over the limit refused before anything is
sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from web3.contract import Contract

from app.domain.abi_types import hex32
from app.domain.attestations import Attestation, Domain, SignedAttestation, model_id_of, sign_all
from app.domain.vocab import DenialReason, LineStatus, OrderStatus
from scripts._lib.orders import read_order_file
from tests.scripts.conftest import BUYER, BUYER_ACCOUNT, MERCHANT, STRANGER, ApeRun, events_of
from tests.scripts.escrow_support import advance_time, chain_time, nonce, status_of, transact
from tests.support.ape_run import TEST_PRIVATE_KEYS

pytestmark = pytest.mark.anvil

USD = 10**6
DAY = 86_400
YEAR = 365 * DAY
LENDER = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"  # TEST::8
LENDER_ACCOUNT = "TEST::8"
BORROWER_7 = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"  # TEST::7
BORROWER_9 = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"  # TEST::9
BORROWER_9_ACCOUNT = "TEST::9"
ATTESTER = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"  # TEST::6, the deploy's local attester
REPORT = {"bureau": "Example Credit Bureau", "subject": "J. Doe", "score": 712}


def contract(w3: Web3, dirs: dict[str, Path], name: str) -> Contract:
    record = json.loads((dirs["deployments"] / "1337.json").read_text())
    abi = json.loads((dirs["abi"] / f"{name}.json").read_text())
    return w3.eth.contract(address=record["contracts"][name]["address"], abi=abi)


@pytest.fixture(scope="module")
def credit(
    ape_run: ApeRun, registry: Contract, script_dirs: dict[str, Path], w3: Web3
) -> dict[str, Contract]:
    """The credit part added to the session's suite by `ape run deploy --dev-stablecoin`; the
    lender and the borrowers hold dev dollars (minted by the deployer)."""
    run = ape_run("deploy", "--dev-stablecoin")
    assert run.returncode == 0, run.output
    names = ("DevStablecoin", "AttestationVerifier", "CreditVault", "CreditLines", "OrderEscrow")
    found = {name: contract(w3, script_dirs, name) for name in names}
    admin = w3.eth.accounts[0]
    for account in (LENDER, BUYER, STRANGER, BORROWER_7, BORROWER_9):
        transact(w3, found["DevStablecoin"].functions.mint(account, 100_000 * USD), {"from": admin})
    return found


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bureau") / "report.json"
    path.write_text(json.dumps(REPORT), encoding="utf-8")
    return path


def line_of(lines: Contract, borrower: str) -> Any:
    return lines.functions.lineOf(borrower).call()


def test_lender_funds_bureau_attests_borrower_is_approved_pays_an_order_and_repays_part(
    ape_run: ApeRun, credit: dict[str, Contract], report_file: Path, w3: Web3, tmp_path: Path
) -> None:
    lines, vault = credit["CreditLines"], credit["CreditVault"]
    assets_before = vault.functions.totalAssets().call()

    deposit = ape_run("lender", "deposit", "--amount", "10000", "--account", LENDER_ACCOUNT)

    assert deposit.returncode == 0, deposit.output
    assert vault.functions.totalAssets().call() == assets_before + 10_000 * USD
    assert vault.functions.maxWithdraw(LENDER).call() >= 10_000 * USD - 1

    attestation_file = tmp_path / "attestation.json"
    attest = ape_run(
        "bureau", "attest", "--borrower", BUYER, "--score", "712", "--model", "tm-score-v3",
        "--report", str(report_file), "--out", str(attestation_file),
    )  # fmt: skip

    assert attest.returncode == 0, attest.output
    signed = SignedAttestation.model_validate_json(attestation_file.read_text())
    assert (signed.attestation.band, signed.signers) == (2, [ATTESTER])
    assert signed.attestation.model_id == model_id_of("tm-score-v3")

    apply = ape_run("borrower", "apply", "--attestation", str(attestation_file),
                    "--account", BUYER_ACCOUNT)  # fmt: skip

    assert apply.returncode == 0, apply.output
    assert "approved under policy v1: limit 2000 dUSD, APR 18%, term 30d" in apply.output
    (approved,) = events_of(lines, "CreditApproved", borrower=BUYER)
    assert Attestation.from_abi(approved["args"]["attestation"]) == signed.attestation
    assert LineStatus(line_of(lines, BUYER)[0]) is LineStatus.ACTIVE

    order_file = tmp_path / "order.json"
    draw = ape_run(
        "borrower", "draw", "--merchant", MERCHANT, "--price", "250", "--ref", "armchair A-7",
        "--order-file", str(order_file), "--account", BUYER_ACCOUNT,
    )  # fmt: skip

    assert draw.returncode == 0, draw.output
    terms = read_order_file(order_file).terms
    assert (terms.buyer, terms.payer, terms.amount) == (BUYER, lines.address, 250 * USD)
    assert status_of(credit["OrderEscrow"], terms.order_id) is OrderStatus.FUNDED
    assert line_of(lines, BUYER)[6] == 250 * USD  # principal
    assert vault.functions.lentAssets().call() == 250 * USD

    advance_time(w3, 10 * DAY)
    repay = ape_run("borrower", "repay", "--amount", "100", "--account", BUYER_ACCOUNT)

    assert repay.returncode == 0, repay.output
    (repaid,) = events_of(lines, "CreditRepaid", borrower=BUYER)
    fees, interest, principal = (repaid["args"][k] for k in ("fees", "interest", "principal"))
    drawn_at = w3.eth.get_block(events_of(lines, "CreditDrawn", borrower=BUYER)[0]["blockNumber"])
    paid_at = w3.eth.get_block(repaid["blockNumber"])
    elapsed = paid_at["timestamp"] - drawn_at["timestamp"]
    assert elapsed >= 10 * DAY
    assert fees == 0
    assert interest == -(-250 * USD * 1_800 * elapsed // (10_000 * YEAR))  # rounded up
    assert principal == 100 * USD - interest
    remaining = 250 * USD - principal
    assert line_of(lines, BUYER)[6] == remaining

    status = ape_run("borrower", "status", "--account", BUYER_ACCOUNT)

    assert status.returncode == 0, status.output
    shown = f"{remaining / USD:f}".rstrip("0").rstrip(".")
    assert f"principal  {shown} dUSD (available to draw" in status.output
    assert "line       active, eligible" in status.output


def test_denied_application_records_the_decision_with_its_reasons_and_opens_no_line(
    ape_run: ApeRun, credit: dict[str, Contract], report_file: Path, w3: Web3, tmp_path: Path
) -> None:
    lines = credit["CreditLines"]
    attestation_file = tmp_path / "attestation.json"
    attest = ape_run(
        "bureau", "attest", "--borrower", STRANGER, "--score", "540", "--model", "tm-score-v3",
        "--report", str(report_file), "--out", str(attestation_file),
    )  # fmt: skip
    assert attest.returncode == 0, attest.output

    apply = ape_run("borrower", "apply", "--attestation", str(attestation_file),
                    "--account", "TEST::4")  # fmt: skip

    assert apply.returncode == 0, apply.output
    assert "denied under policy v1" in apply.output
    assert "reason 0 band_below_minimum: score band below the policy's minimum" in apply.output
    (denied,) = events_of(lines, "CreditDenied", borrower=STRANGER)
    assert denied["args"]["reasons"] == DenialReason.bitmap(DenialReason.BAND_BELOW_MINIMUM)
    assert LineStatus(line_of(lines, STRANGER)[0]) is LineStatus.NONE
    spent = denied["args"]["attestation"]["nonce"]
    assert credit["AttestationVerifier"].functions.isNonceUsed(spent).call()


def open_band_1_line(w3: Web3, credit: dict[str, Contract], borrower: str, nonce: int) -> None:
    """Straight through web3: an attestation signed with app.domain.attestations by the deploy's
    attester key, applied by the borrower (band 1: a 500 dUSD limit)."""
    lines, verifier = credit["CreditLines"], credit["AttestationVerifier"]
    now = chain_time(w3)
    attestation = Attestation(
        borrower=borrower,
        band=1,
        model_id=model_id_of("tm-score-v3"),
        report_hash=hex32(bytes(32)),
        issued_at=now,
        expires_at=now + DAY,
        nonce=nonce,
        attester_set_version=verifier.functions.attesterSetVersion().call(),
    )
    domain = Domain(chain_id=w3.eth.chain_id, verifying_contract=verifier.address)
    signed = sign_all(attestation, domain, [Account.from_key(TEST_PRIVATE_KEYS[6])], None)
    transact(w3, lines.functions.applyForCredit(*signed.abi_args()), {"from": borrower})
    assert LineStatus(line_of(lines, borrower)[0]) is LineStatus.ACTIVE


def test_draw_over_the_limit_is_refused_before_anything_is_sent(
    ape_run: ApeRun, credit: dict[str, Contract], w3: Web3
) -> None:
    open_band_1_line(w3, credit, BORROWER_7, 7_000_001)
    sent, lent = nonce(w3, BORROWER_7), credit["CreditVault"].functions.lentAssets().call()

    draw = ape_run(
        "borrower", "draw", "--merchant", MERCHANT, "--price", "750", "--ref", "sofa S-1",
        "--account", "TEST::7",
    )  # fmt: skip

    assert draw.returncode != 0
    assert "nothing was sent" in draw.output
    assert "750 dUSD is over the limit: 0 dUSD drawn of 500 dUSD, 500 dUSD available" in (
        draw.output
    )
    assert nonce(w3, BORROWER_7) == sent
    assert credit["CreditVault"].functions.lentAssets().call() == lent


def test_order_over_the_limit_is_paid_with_a_down_payment_and_the_rest_on_credit(
    ape_run: ApeRun, credit: dict[str, Contract], w3: Web3, tmp_path: Path
) -> None:
    lines, stable = credit["CreditLines"], credit["DevStablecoin"]
    open_band_1_line(w3, credit, BORROWER_9, 9_000_001)
    wallet = stable.functions.balanceOf(BORROWER_9).call()
    order_file = tmp_path / "sofa.json"

    draw = ape_run(
        "borrower", "draw", "--merchant", MERCHANT, "--price", "750", "--down-payment", "300",
        "--ref", "sofa S-1", "--order-file", str(order_file), "--account", BORROWER_9_ACCOUNT,
    )  # fmt: skip

    assert draw.returncode == 0, draw.output
    assert "paid 300 dUSD of the order from your wallet" in draw.output
    assert "450 dUSD drawn, principal now 450 dUSD" in draw.output
    terms = read_order_file(order_file).terms
    assert (terms.payer, terms.amount) == (lines.address, 750 * USD)
    assert status_of(credit["OrderEscrow"], terms.order_id) is OrderStatus.FUNDED
    assert line_of(lines, BORROWER_9)[6] == 450 * USD  # principal
    assert stable.functions.balanceOf(BORROWER_9).call() == wallet - 300 * USD
