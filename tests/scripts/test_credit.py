"""`ape run lender|bureau|borrower ...` on Anvil: a lender funds the pool, the bureau attests a
borrower's score band and identity and its cosigner adds the second signature the verifier
wants, the borrower is approved at once, pays an escrow order of registry items with credit and
repays part with interest, and the lender leaves through the redemption queue; a denial with its
reasons; a draw over the limit refused before anything is sent; credit refused to the
borrower's own shop, explained from the contract's error; a cosignature posted to the service."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from cryptography.fernet import Fernet
from web3 import Web3
from web3.contract import Contract

from app.credit.schemas import CreditSignatureCreate
from app.domain.abi_types import hex32
from app.domain.attestations import (
    Attestation,
    Domain,
    SignedAttestation,
    model_id_of,
    recover,
    sign,
    sign_all,
)
from app.domain.identity import DEV_IDENTITY_KEY, identity_commitment
from app.domain.orders import read_order_file
from app.domain.source_signature import API_KEY_HEADER, SIGNATURE_HEADER, signature_header
from app.domain.source_signature import sign as hmac_sign
from app.domain.vocab import DenialReason, LineStatus, OrderStatus
from app.ingest.auth import parse_signature_header
from harness.ape_run import RIVAL_ACCOUNT, TEST_PRIVATE_KEYS
from harness.nodes import ChainNode, free_port
from harness.service import ServiceProcess, service_environment
from tests.app.merchant.live_service import eventually
from tests.scripts.conftest import (
    ADMIN,
    ATTESTER,
    BUYER,
    BUYER_ACCOUNT,
    COSIGNER,
    LENDER,
    LENDER_ACCOUNT,
    MERCHANT,
    OTHER_BUYER,
    RIVAL_MERCHANT,
    STRANGER,
    ApeRun,
    events_of,
)
from tests.scripts.credit_support import (
    SIGNERS,
    USD,
    line_of,
    open_band_1_line,
)
from tests.scripts.escrow_support import (
    advance_time,
    chain_time,
    nonce,
    register_item,
    status_of,
    transact,
)

pytestmark = pytest.mark.anvil

DAY = 86_400
YEAR = 365 * DAY
REPORT = {"bureau": "Example Credit Bureau", "subject": "J. Doe", "score": 712}
MERCHANT_OWNER = "KVK 1"  # the legal identifier the session's merchant was approved with


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bureau") / "report.json"
    path.write_text(json.dumps(REPORT), encoding="utf-8")
    return path


def test_lender_funds_bureau_attests_borrower_is_approved_pays_an_order_and_repays_part(
    ape_run: ApeRun, credit: dict[str, Contract], report_file: Path, w3: Web3, tmp_path: Path
) -> None:
    lines, vault = credit["CreditLines"], credit["CreditVault"]
    assets_before = vault.functions.totalAssets().call()

    deposit = ape_run("lender", "deposit", "--amount", "10000", "--account", LENDER_ACCOUNT)

    assert deposit.returncode == 0, deposit.output
    assert vault.functions.totalAssets().call() == assets_before + 10_000 * USD

    attestation_file = tmp_path / "attestation.json"
    attest = ape_run(
        "bureau", "attest", "--borrower", BUYER, "--identity", "NL-BSN 1234.56.789",
        "--score", "712", "--model", "tm-score-v3", "--report", str(report_file),
        "--out", str(attestation_file),
    )  # fmt: skip

    assert attest.returncode == 0, attest.output
    assert "the verifier wants 2 signatures" in attest.output
    signed = SignedAttestation.model_validate_json(attestation_file.read_text())
    assert (signed.attestation.band, signed.signers) == (2, [ATTESTER])
    assert signed.attestation.model_id == model_id_of("tm-score-v3")
    # Separators and case do not change the committed identity.
    expected = identity_commitment("nl-bsn 123456789", DEV_IDENTITY_KEY)
    assert signed.attestation.identity_hash == hex32(expected)

    cosign = ape_run("bureau", "cosign", str(attestation_file))

    assert cosign.returncode == 0, cosign.output
    assert f"signed by {COSIGNER}: 2 of 2 signature(s)" in cosign.output
    signed = SignedAttestation.model_validate_json(attestation_file.read_text())
    assert signed.signers == sorted([ATTESTER, COSIGNER], key=lambda a: int(a, 16))

    apply = ape_run("borrower", "apply", "--attestation", str(attestation_file),
                    "--account", BUYER_ACCOUNT)  # fmt: skip

    assert apply.returncode == 0, apply.output
    assert "approved under policy v1: limit 2000 dUSD, APR 18%, term 30d" in apply.output
    (approved,) = events_of(lines, "CreditApproved", borrower=BUYER)
    assert Attestation.from_abi(approved["args"]["attestation"]) == signed.attestation
    assert LineStatus(line_of(lines, BUYER)[0]) is LineStatus.ACTIVE

    item = register_item(credit["ProductRegistry"], w3)
    order_file = tmp_path / "order.json"
    draw = ape_run(
        "borrower", "draw", "--merchant", MERCHANT, "--price", "250", "--item-id", item,
        "--ref", "armchair A-7", "--order-file", str(order_file), "--account", BUYER_ACCOUNT,
    )  # fmt: skip

    assert draw.returncode == 0, draw.output
    terms = read_order_file(order_file).terms
    assert (terms.buyer, terms.payer, terms.amount) == (BUYER, lines.address, 250 * USD)
    assert terms.item_ids == (item,)
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


def test_lender_leaves_through_the_queue_claiming_after_the_cooldown(
    ape_run: ApeRun, credit: dict[str, Contract], w3: Web3
) -> None:
    vault, stable = credit["CreditVault"], credit["DevStablecoin"]
    transact(w3, stable.functions.approve(vault.address, 500 * USD), {"from": LENDER})
    transact(w3, vault.functions.deposit(500 * USD, LENDER), {"from": LENDER})
    shares = vault.functions.convertToShares(300 * USD).call()

    queued = ape_run("lender", "request-redeem", "--amount", "300", "--account", LENDER_ACCOUNT)

    assert queued.returncode == 0, queued.output
    assert "claimable from" in queued.output
    assert vault.functions.pendingRedeemRequest(0, LENDER).call() == shares
    early = ape_run("lender", "claim", "--account", LENDER_ACCOUNT)
    assert early.returncode == 2 and "CreditPoolNotClaimable(" in early.output, early.output
    advance_time(w3, 3 * DAY + 1)
    wallet = stable.functions.balanceOf(LENDER).call()

    claimed = ape_run("lender", "claim", "--account", LENDER_ACCOUNT)

    assert claimed.returncode == 0, claimed.output
    paid = stable.functions.balanceOf(LENDER).call() - wallet
    assert 300 * USD - 1 <= paid <= 300 * USD  # the lower of the value at request and now
    assert vault.functions.claimableRedeemRequest(0, LENDER).call() == 0
    status = ape_run("lender", "status", "--account", LENDER_ACCOUNT)
    assert status.returncode == 0, status.output
    assert "queue      0 dUSD owed to queued redemptions; cooldown 3d" in status.output


def test_denied_application_records_the_decision_with_its_reasons_and_opens_no_line(
    ape_run: ApeRun, credit: dict[str, Contract], report_file: Path, w3: Web3, tmp_path: Path
) -> None:
    lines = credit["CreditLines"]
    attestation_file = tmp_path / "attestation.json"
    attest = ape_run(
        "bureau", "attest", "--borrower", STRANGER, "--identity", "DE 99", "--score", "540",
        "--model", "tm-score-v3", "--report", str(report_file), "--out", str(attestation_file),
    )  # fmt: skip
    assert attest.returncode == 0, attest.output
    add_cosignature(attestation_file)

    apply = ape_run("borrower", "apply", "--attestation", str(attestation_file),
                    "--account", "TEST::4")  # fmt: skip

    assert apply.returncode == 0, apply.output
    assert "denied under policy v1" in apply.output
    assert (
        "reason 0 band_below_minimum: The score band the credit bureau attested is below the "
        "lowest band this policy approves." in apply.output
    )
    (denied,) = events_of(lines, "CreditDenied", borrower=STRANGER)
    assert denied["args"]["reasons"] == DenialReason.bitmap(DenialReason.BAND_BELOW_MINIMUM)
    assert LineStatus(line_of(lines, STRANGER)[0]) is LineStatus.NONE
    spent = denied["args"]["attestation"]["nonce"]
    assert credit["AttestationVerifier"].functions.isNonceUsed(spent).call()


def add_cosignature(path: Path) -> None:
    """The cosigner's signature added to an attestation file, as `bureau cosign` would."""
    signed = SignedAttestation.model_validate_json(path.read_text())
    extra = sign(signed.attestation, signed.domain, SIGNERS[1])
    ordered = sorted([*signed.signatures, extra], key=lambda s: int(recover(
        signed.attestation, signed.domain, s), 16))  # fmt: skip
    path.write_text(signed.model_copy(update={"signatures": ordered}).model_dump_json())


def test_draw_over_the_limit_is_refused_before_anything_is_sent(
    ape_run: ApeRun, credit: dict[str, Contract], w3: Web3
) -> None:
    open_band_1_line(w3, credit, OTHER_BUYER, 6_000_001, "FR 6")
    item = register_item(credit["ProductRegistry"], w3)
    sent, lent = nonce(w3, OTHER_BUYER), credit["CreditVault"].functions.lentAssets().call()

    draw = ape_run(
        "borrower", "draw", "--merchant", MERCHANT, "--price", "750", "--item-id", item,
        "--account", "TEST::6",
    )  # fmt: skip

    assert draw.returncode != 0
    assert "nothing was sent" in draw.output
    assert (
        f"CreditLimitExceeded(borrower={OTHER_BUYER}, limit=500000000, requested=750000000): "
        "limit exceeded"
    ) in draw.output
    assert nonce(w3, OTHER_BUYER) == sent
    assert credit["CreditVault"].functions.lentAssets().call() == lent


def test_credit_refuses_the_borrowers_own_shop_with_the_contracts_reason(
    ape_run: ApeRun, credit: dict[str, Contract], w3: Web3
) -> None:
    # The admin's line is attested for the very person who owns the merchant.
    open_band_1_line(w3, credit, ADMIN, 1_000_001, MERCHANT_OWNER)
    item = register_item(credit["ProductRegistry"], w3)
    sent = nonce(w3, ADMIN)

    draw = ape_run(
        "borrower", "draw", "--merchant", MERCHANT, "--price", "20", "--item-id", item,
        "--account", "TEST::0",
    )  # fmt: skip

    assert draw.returncode == 2, draw.output
    assert "nothing was sent" in draw.output
    assert (
        f"CreditMerchantIsBorrower(merchant={MERCHANT}, borrower={ADMIN}): merchant is borrower; "
        "credit does not pay a shop of the borrower's own identity"
    ) in draw.output
    assert nonce(w3, ADMIN) == sent


def test_order_over_the_limit_is_paid_with_a_down_payment_and_the_rest_on_credit(
    ape_run: ApeRun, credit: dict[str, Contract], w3: Web3, tmp_path: Path
) -> None:
    lines, stable = credit["CreditLines"], credit["DevStablecoin"]
    open_band_1_line(w3, credit, RIVAL_MERCHANT, 3_000_001, "BE 3")
    item = register_item(credit["ProductRegistry"], w3)
    wallet = stable.functions.balanceOf(RIVAL_MERCHANT).call()
    order_file = tmp_path / "sofa.json"

    draw = ape_run(
        "borrower", "draw", "--merchant", MERCHANT, "--price", "750", "--down-payment", "300",
        "--item-id", item, "--order-file", str(order_file), "--account", "TEST::3",
    )  # fmt: skip

    assert draw.returncode == 0, draw.output
    assert "CreditDownPaid(" in draw.output and "amount=300 dUSD)" in draw.output, draw.output
    assert "amount=450 dUSD, principal=450 dUSD" in draw.output, draw.output
    terms = read_order_file(order_file).terms
    assert (terms.payer, terms.amount) == (lines.address, 750 * USD)
    assert status_of(credit["OrderEscrow"], terms.order_id) is OrderStatus.FUNDED
    assert line_of(lines, RIVAL_MERCHANT)[6] == 450 * USD  # principal
    assert stable.functions.balanceOf(RIVAL_MERCHANT).call() == wallet - 300 * USD


# ---------------------------------------------------------------------------------------- service


class _Service(BaseHTTPRequestHandler):
    """The service's POST /v1/credit/reports/{id}/signatures, as far as the bureau sees it:
    the request is kept, the answer is the report awaiting no more signatures."""

    received: ClassVar[list[tuple[str, dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.received.append((self.path, headers, body))
        answer = json.dumps({"status": "queued", "quorum": 2, "signers": ["a", "b"],
                             "relay_id": "r-1"}).encode()  # fmt: skip
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_cosign_posts_the_signature_to_the_service_signed_as_the_bureau(
    ape_run: ApeRun, credit: dict[str, Contract], service: str, w3: Web3, tmp_path: Path
) -> None:
    verifier = credit["AttestationVerifier"]
    now = chain_time(w3)
    attestation = Attestation(
        borrower=STRANGER,
        identity_hash=hex32(identity_commitment("SE 7", DEV_IDENTITY_KEY)),
        band=2,
        model_id=model_id_of("tm-score-v3"),
        report_hash=hex32(bytes(32)),
        issued_at=now,
        expires_at=now + DAY,
        nonce=7_000_001,
        attester_set_version=verifier.functions.attesterSetVersion().call(),
    )
    domain = Domain(chain_id=w3.eth.chain_id, verifying_contract=verifier.address)
    path = tmp_path / "attestation.json"
    path.write_text(sign_all(attestation, domain, SIGNERS[:1], None).model_dump_json())
    _Service.received.clear()

    run = ape_run(
        "bureau", "cosign", str(path), "--service", service, "--report-id", "rep-42",
        extra_env={"TRUSTMALL_BUREAU_API_KEY": "key-1", "TRUSTMALL_BUREAU_HMAC_SECRET": "s3cret"},
    )  # fmt: skip

    assert run.returncode == 0, run.output
    assert "posted the signature to report rep-42: 2 of 2 signature(s), queued" in run.output
    ((target, headers, body),) = _Service.received
    assert target == "/v1/credit/reports/rep-42/signatures"
    # The body the service's own model takes, with the cosigner's signature of the attestation.
    posted = CreditSignatureCreate.model_validate_json(body)
    assert recover(attestation, domain, posted.signature) == COSIGNER
    assert headers["trustmall-api-key"] == "key-1"  # header names are case-insensitive
    header = parse_signature_header(headers["trustmall-signature"])
    assert header.signatures == (hmac_sign("s3cret", header.timestamp, body),)
    saved = SignedAttestation.model_validate_json(path.read_text())
    assert len(saved.signatures) == 2


def test_the_borrower_reads_the_own_report_at_the_service_signed_in_with_the_own_key(
    ape_run: ApeRun,
    credit: dict[str, Contract],
    anvil: ChainNode,
    script_dirs: dict[str, Path],
    tmp_path: Path,
) -> None:
    """The service (a real process: bureau source, attester TEST::6) keeps the bureau's report,
    the bureau cosigns with `ape run bureau cosign`, the service relays the application; then
    `ape run borrower report` signs in with the borrower's own key and shows the decrypted
    report, checked here against the chain's commitment. Another wallet reads none of it."""
    port, bureau = free_port(), {"api_key": "bureau-key", "hmac_secret": "bureau-secret"}
    env = service_environment(
        rpc_url=anvil.rpc_url,
        deployments_dir=script_dirs["deployments"],
        abi_dir=script_dirs["abi"],
        database=tmp_path / "service.db",
        oracle_key=TEST_PRIVATE_KEYS[1],
        sources={"north-bureau": {"kind": "bureau", **bureau}},
        environment="test",
        public_base_url=f"http://127.0.0.1:{port}",
        confirmation_depth=0,
        attester_private_key=TEST_PRIVATE_KEYS[6],
        report_encryption_key=Fernet.generate_key().decode(),
        identity_key="0x" + secrets.token_hex(32),
        relay_poll_seconds=0.1,
        index_poll_seconds=0.1,
    )
    with ServiceProcess(env, port, tmp_path / "service.log") as service:
        body = json.dumps(
            {"borrower": RIVAL_MERCHANT, "identity": "NL-BSN 5.55", "score": 712,
             "model": "tm-score-v3", "report": REPORT}
        ).encode()  # fmt: skip
        headers = {
            API_KEY_HEADER: bureau["api_key"],
            SIGNATURE_HEADER: signature_header(bureau["hmac_secret"], body),
            "Content-Type": "application/json",
        }
        posted = httpx.post(f"{service.url}/v1/credit/reports", content=body, headers=headers)
        assert posted.status_code in (200, 201, 202), posted.text
        attestation = tmp_path / "attestation.json"
        attestation.write_text(json.dumps(posted.json()["signed_attestation"]))
        cosign = ape_run(
            "bureau", "cosign", str(attestation), "--service", service.url,
            "--report-id", posted.json()["id"],
            extra_env={"TRUSTMALL_BUREAU_API_KEY": bureau["api_key"],
                       "TRUSTMALL_BUREAU_HMAC_SECRET": bureau["hmac_secret"]},
        )  # fmt: skip
        assert cosign.returncode == 0, cosign.output
        line = f"{service.url}/v1/credit/lines/{RIVAL_MERCHANT}"
        eventually(lambda: httpx.get(line).status_code == 200, "the decision, indexed")

        own = ape_run("borrower", "report", "--service", service.url, "--account", RIVAL_ACCOUNT)
        other = ape_run("borrower", "report", "--service", service.url, "--account", LENDER_ACCOUNT)

    assert own.returncode == 0, own.output
    assert f"of {RIVAL_MERCHANT}, from north-bureau" in own.output
    assert "model tm-score-v3, score 712" in own.output
    assert f"attested by {ATTESTER} (the service's key)" in own.output
    assert f"attested by {COSIGNER} (the bureau's cosigner)" in own.output
    assert "holds for this report and salt (computed here)" in own.output
    assert "the chain's latest decision commits to it" in own.output
    assert '"subject": "J. Doe"' in own.output and "signed out" in own.output
    # The lender never applied: its own session reads no report, and it can ask for no other.
    assert other.returncode != 0
    assert "credit_line_not_found" in other.output and "J. Doe" not in other.output
