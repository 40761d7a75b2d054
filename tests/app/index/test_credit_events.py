"""The credit handlers read CreditLines' decisions as the committed ABI decodes them (the service
tests' deployment has no credit part: the events are encoded here from the ABI itself)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from sqlalchemy import select
from web3 import Web3

from app.db.session import Database, create_schema
from app.index.credit_events import CREDIT_LINES
from app.index.handlers import ChainLog, default_handlers
from app.index.models import CreditDecisionRow

ABI = json.loads((Path(__file__).resolve().parents[3] / "abi" / "CreditLines.json").read_text())
BORROWER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"


def _event(name: str) -> dict[str, Any]:
    return next(e for e in ABI if e.get("type") == "event" and e["name"] == name)


def _abi_type(entry: dict[str, Any]) -> str:
    if entry["type"] == "tuple":
        return "(" + ",".join(_abi_type(c) for c in entry["components"]) + ")"
    return str(entry["type"])


def _log(name: str, values: dict[str, Any]) -> dict[str, Any]:
    """A raw log of a CreditLines event, encoded from the ABI."""
    event = _event(name)
    indexed = [i for i in event["inputs"] if i["indexed"]]
    data = [i for i in event["inputs"] if not i["indexed"]]
    signature = f"{name}(" + ",".join(_abi_type(i) for i in event["inputs"]) + ")"
    topics = [HexBytes(keccak(text=signature))] + [
        HexBytes(encode([_abi_type(i)], [values[i["name"]]])) for i in indexed
    ]
    return {
        "address": BORROWER,
        "topics": topics,
        "data": HexBytes(encode([_abi_type(i) for i in data], [values[i["name"]] for i in data])),
        "blockNumber": 7,
        "blockHash": HexBytes(b"\x01" * 32),
        "transactionHash": HexBytes(b"\x02" * 32),
        "transactionIndex": 0,
        "logIndex": 0,
        "removed": False,
    }


def test_credit_decisions_are_recorded_by_band_as_the_abi_decodes_them(tmp_path: Path) -> None:
    contract = Web3().eth.contract(address=Web3.to_checksum_address(BORROWER), abi=ABI)
    attestation = (BORROWER, 3, b"\x05" * 32, b"\x06" * 32, 100, 200, 9, 1)
    tier = (10**9, 1_200, 30 * 86_400, 7 * 86_400, 5 * 10**6)
    approved = _log(
        "CreditApproved",
        {"borrower": BORROWER, "policyVersion": 2, "attestation": attestation, "tier": tier},
    )
    denied = _log(
        "CreditDenied",
        {"borrower": BORROWER, "policyVersion": 2, "attestation": attestation, "reasons": 0b101},
    )
    database = Database(f"sqlite:///{tmp_path / 'index.db'}")
    create_schema(database.engine)
    handlers = default_handlers()

    with database.transaction() as session:
        for index, (name, raw) in enumerate(
            (("CreditApproved", approved), ("CreditDenied", denied))
        ):
            decoded = contract.events[name]().process_log(raw)
            handler = handlers.get(CREDIT_LINES, name)
            assert handler is not None
            handler(
                session,
                ChainLog(
                    contract=CREDIT_LINES,
                    event=name,
                    args=decoded["args"],
                    address=BORROWER,
                    block_number=7,
                    block_hash="0x" + "01" * 32,
                    block_time=0,
                    tx_hash="0x" + "02" * 32,
                    log_index=index,
                ),
            )

    with database.sessions() as session:
        rows = session.scalars(select(CreditDecisionRow).order_by(CreditDecisionRow.log_index))
        assert [
            (r.borrower, r.policy_version, r.band, r.approved, r.denial_reasons) for r in rows
        ] == [
            (BORROWER, 2, 3, True, 0),
            (BORROWER, 2, 3, False, 0b101),
        ]
