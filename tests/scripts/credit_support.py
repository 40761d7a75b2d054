"""The credit part of the scripts' session suite, for the tests of the borrower's, lender's,
bureau's and operators' commands: the contracts through the ABI files `ape run deploy` wrote, and
a line opened straight through web3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.contract import Contract

from app.domain.abi_types import hex32
from app.domain.attestations import Attestation, Domain, model_id_of, sign_all
from app.domain.identity import DEV_IDENTITY_KEY, identity_commitment
from app.domain.vocab import LineStatus
from harness.ape_run import TEST_PRIVATE_KEYS
from tests.scripts.conftest import (
    ADMIN,
    BUYER,
    LENDER,
    OTHER_BUYER,
    RIVAL_MERCHANT,
    STRANGER,
    ApeRun,
)
from tests.scripts.escrow_support import chain_time, transact

USD = 10**6
DAY = 86_400
SIGNERS = (Account.from_key(TEST_PRIVATE_KEYS[6]), Account.from_key(TEST_PRIVATE_KEYS[9]))


def contract(w3: Web3, dirs: dict[str, Path], name: str) -> Contract:
    record = json.loads((dirs["deployments"] / "1337.json").read_text())
    abi = json.loads((dirs["abi"] / f"{name}.json").read_text())
    return w3.eth.contract(address=record["contracts"][name]["address"], abi=abi)


def deployed_credit(ape_run: ApeRun, script_dirs: dict[str, Path], w3: Web3) -> dict[str, Contract]:
    """The credit part added to the session's suite by `ape run deploy --dev-stablecoin` (the
    verifier wants 2 of the attesters TEST::6 and TEST::9); the lender and the borrowers hold
    dev dollars (minted by the deployer)."""
    run = ape_run("deploy", "--dev-stablecoin")
    assert run.returncode == 0, run.output
    names = (
        "DevStablecoin", "AttestationVerifier", "CreditVault", "CreditLines", "OrderEscrow",
        "ProductRegistry",
    )  # fmt: skip
    found = {name: contract(w3, script_dirs, name) for name in names}
    for account in (LENDER, BUYER, STRANGER, OTHER_BUYER, RIVAL_MERCHANT, ADMIN):
        transact(w3, found["DevStablecoin"].functions.mint(account, 100_000 * USD), {"from": ADMIN})
    return found


def line_of(lines: Contract, borrower: str) -> Any:
    return lines.functions.lineOf(borrower).call()


def open_band_1_line(
    w3: Web3, credit: dict[str, Contract], borrower: str, nonce: int, identity: str
) -> None:
    """Straight through web3: an attestation of ``identity`` signed with app.domain.attestations
    by the deploy's two attester keys, applied by the borrower (band 1: a 500 dUSD limit)."""
    lines, verifier = credit["CreditLines"], credit["AttestationVerifier"]
    now = chain_time(w3)
    attestation = Attestation(
        borrower=borrower,
        identity_hash=hex32(identity_commitment(identity, DEV_IDENTITY_KEY)),
        band=1,
        model_id=model_id_of("tm-score-v3"),
        report_hash=hex32(bytes(32)),
        issued_at=now,
        expires_at=now + DAY,
        nonce=nonce,
        attester_set_version=verifier.functions.attesterSetVersion().call(),
    )
    domain = Domain(chain_id=w3.eth.chain_id, verifying_contract=verifier.address)
    signed = sign_all(attestation, domain, SIGNERS, None)
    transact(w3, lines.functions.applyForCredit(*signed.abi_args()), {"from": borrower})
    assert LineStatus(line_of(lines, borrower)[0]) is LineStatus.ACTIVE
