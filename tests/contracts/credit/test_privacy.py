"""Privacy: of a full off-chain credit report only the band, the model id, the commitment to the
report and the keyed commitment to the borrower's identity reach the chain; no other field's
value (the national id itself, or its plain hash, included) appears in any calldata or event of
the flow."""

from __future__ import annotations

import json
from typing import Any

from eth_utils import keccak

from tests.contracts.credit.conftest import MODEL_ID
from tests.contracts.credit.helpers import USD, identity_of

REPORT: dict[str, Any] = {
    "fullName": "Maria Quintessa Oyelaran",
    "dateOfBirth": "1987-04-23",
    "nationalId": "QX-558-21-9047",
    "homeAddress": "17 Larkspur Crescent, Flat 4B, Leeds LS6 2QT",
    "employer": "Northwind Cartography Ltd",
    "annualIncome": 87_431,
    "rawScore": 742,
    "bureauAccount": "BUR-77120-KT",
    "delinquencies": "two 30-day lates in 2023",
    "scoreBand": 2,
    "modelId": "trustmall-score-v3",
}
PUBLIC = {"scoreBand", "modelId"}
SALT = bytes.fromhex("5f" * 32)


def _commitment(report: dict[str, Any]) -> bytes:
    """The report commitment: keccak256 of a salt and the canonical JSON of the report."""
    return keccak(SALT + json.dumps(report, sort_keys=True, separators=(",", ":")).encode())


def _encodings(value: Any) -> list[bytes]:
    """How a field's value could show up in calldata or logs: numbers as ABI words (and as
    decimal text when long enough not to turn up by chance in signatures and hashes), text as
    bytes in any case and as its hash."""
    if isinstance(value, int):
        return [value.to_bytes(32, "big")] + ([str(value).encode()] if value >= 10_000 else [])
    text = str(value).encode()
    return [text, text.lower(), text.upper(), keccak(text)]


def _chain_bytes(tx: Any) -> bytes:
    blobs = [bytes(tx.transaction.data)]
    for log in tx.logs:
        blobs.append(bytes(log["data"]))
        blobs.extend(bytes(topic) for topic in log["topics"])
    return b"".join(blobs)


def test_only_band_model_and_commitment_of_a_report_reach_the_chain(
    lines: Any, escrow: Any, attest: Any, borrower: Any, draw_order: Any, travel: Any
) -> None:
    commitment = _commitment(REPORT)
    identity = identity_of(REPORT["nationalId"])
    signed = attest(band=REPORT["scoreBand"], report_hash=commitment, identity=identity)
    txs = [lines.applyForCredit(*signed.args, sender=borrower)]
    terms, drawn = draw_order(120 * USD)
    txs.append(drawn)
    txs.append(lines.drawToWallet(80 * USD, sender=borrower))
    travel(3_600)
    txs.append(escrow.cancel(terms.as_abi(), sender=borrower))
    txs.append(lines.settleRefund(terms.as_abi(), sender=borrower))
    txs.append(lines.repay(borrower, 1_000 * USD, sender=borrower))
    txs.append(lines.applyForCredit(*attest(band=3, identity=identity).args, sender=borrower))
    onchain = b"".join(_chain_bytes(tx) for tx in txs)

    # What is meant to be public is there (so the scan looks at the right bytes) ...
    assert commitment in onchain
    assert identity in onchain
    assert MODEL_ID in onchain
    # ... and nothing else of the report is.
    for name, value in REPORT.items():
        if name in PUBLIC:
            continue
        for encoding in _encodings(value):
            assert encoding not in onchain, f"report field {name!r} appears on chain"
