"""The credit handlers read CreditLines' and CreditVault's events as the committed ABIs decode them
(the service tests' deployment has no credit part: the events are encoded here from the ABIs
themselves): decisions by band, refunds settled in increments, the vault's impairments, income
locks and redemption requests, and the stats' pool totals made from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from sqlalchemy import select
from web3 import Web3

from app.db.migrate import upgrade_schema
from app.db.session import Database
from app.index.credit_events import CREDIT_LINES, CREDIT_VAULT
from app.index.handlers import ChainLog, default_handlers
from app.index.models import CreditDecisionRow, CreditPoolEventRow, CreditRefundRow
from app.stats.counters import DashboardCounters
from app.stats.queries import platform_stats
from tests.app.databases import ServiceDatabases

pytestmark = pytest.mark.both_databases

ABI_DIR = Path(__file__).resolve().parents[3] / "abi"
ABIS = {
    name: json.loads((ABI_DIR / f"{name}.json").read_text())
    for name in (CREDIT_LINES, CREDIT_VAULT)
}
ABI = ABIS[CREDIT_LINES]
BORROWER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"
LINE = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
IDENTITY = b"\x07" * 32


def _event(name: str, abi: list[dict[str, Any]] = ABI) -> dict[str, Any]:
    return next(e for e in abi if e.get("type") == "event" and e["name"] == name)


def _abi_type(entry: dict[str, Any]) -> str:
    if entry["type"] == "tuple":
        return "(" + ",".join(_abi_type(c) for c in entry["components"]) + ")"
    return str(entry["type"])


def _log(name: str, values: dict[str, Any], abi: list[dict[str, Any]] = ABI) -> dict[str, Any]:
    """A raw log of a credit event, encoded from the ABI."""
    event = _event(name, abi)
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


def test_credit_decisions_are_recorded_by_band_as_the_abi_decodes_them(
    databases: ServiceDatabases, tmp_path: Path
) -> None:
    contract = Web3().eth.contract(address=Web3.to_checksum_address(BORROWER), abi=ABI)
    attestation = (BORROWER, IDENTITY, 3, b"\x05" * 32, b"\x06" * 32, 100, 200, 9, 1)
    tier = (10**9, 1_200, 30 * 86_400, 7 * 86_400, 5 * 10**6)
    approved = _log(
        "CreditApproved",
        {"borrower": BORROWER, "policyVersion": 2, "attestation": attestation, "tier": tier},
    )
    denied = _log(
        "CreditDenied",
        {"borrower": BORROWER, "policyVersion": 2, "attestation": attestation, "reasons": 0b101},
    )
    database = Database(databases.url(tmp_path, "index"))
    upgrade_schema(database.engine)
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


def _handle(database_url: str, logs: list[tuple[str, str, dict[str, Any]]]) -> Database:
    """A database with the logs (contract, event, values) run through their handlers."""
    database = Database(database_url)
    upgrade_schema(database.engine)
    handlers = default_handlers()
    with database.transaction() as session:
        for index, (contract_name, name, values) in enumerate(logs):
            abi = ABIS[contract_name]
            contract = Web3().eth.contract(address=Web3.to_checksum_address(LINE), abi=abi)
            decoded = contract.events[name]().process_log(_log(name, values, abi))
            handler = handlers.get(contract_name, name)
            assert handler is not None, name
            handler(
                session,
                ChainLog(
                    contract=contract_name,
                    event=name,
                    args=decoded["args"],
                    address=LINE,
                    block_number=7,
                    block_hash="0x" + "01" * 32,
                    block_time=0,
                    tx_hash="0x" + "02" * 32,
                    log_index=index,
                ),
            )
        DashboardCounters().follow_range(session, 7, 7)  # as the indexer follows a range
    return database


def test_refunds_settle_in_increments_and_the_vaults_losses_and_exits_are_recorded(
    databases: ServiceDatabases, tmp_path: Path
) -> None:
    order = b"\x09" * 32
    database = _handle(
        databases.url(tmp_path, "index"),
        [
            (CREDIT_LINES, "CreditRefundSettled", {
                "orderId": order, "borrower": BORROWER, "refund": 40, "surplus": 0}),
            (CREDIT_LINES, "CreditRefundSettled", {
                "orderId": order, "borrower": BORROWER, "refund": 60, "surplus": 5}),
            (CREDIT_VAULT, "PrincipalImpaired", {"line": LINE, "principal": 700}),
            (CREDIT_VAULT, "LossRecognized", {"line": LINE, "principal": 300}),
            (CREDIT_VAULT, "IncomeLocked", {
                "amount": 25, "lockedTotal": 125, "unlockedAt": 1_800_000_000}),
            (CREDIT_VAULT, "RedeemRequest", {
                "controller": BORROWER, "owner": BORROWER, "requestId": 0, "sender": LINE,
                "shares": 10**18}),
        ],
    )  # fmt: skip

    with database.sessions() as session:
        refunds = session.scalars(select(CreditRefundRow).order_by(CreditRefundRow.log_index))
        assert [(r.order_id, r.refund, r.surplus) for r in refunds] == [
            ("0x" + order.hex(), "40", "0"),
            ("0x" + order.hex(), "60", "5"),
        ]
        pool = session.scalars(select(CreditPoolEventRow).order_by(CreditPoolEventRow.log_index))
        assert [(r.kind, r.account, r.amount) for r in pool] == [
            ("principal_impaired", LINE, "700"),
            ("loss_recognized", LINE, "300"),
            ("income_locked", None, "25"),
            ("redeem_request", BORROWER, str(10**18)),
        ]
        stats = platform_stats(session, merchant=None, days=7, relay=None).credit.pool
    assert stats is not None
    assert (stats.principal_impaired, stats.losses_recognized, stats.income_locked) == (
        "700",
        "300",
        "25",
    )
    assert (stats.redeem_requests, stats.shares_requested, stats.refunds_settled) == (
        1,
        str(10**18),
        "100",
    )
