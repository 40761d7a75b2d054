"""Batch calldata written out by hand equals what the ABI encoder makes, and each entry point's
signature is in the committed ABI."""

from __future__ import annotations

import secrets

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from app.chain.contracts import load_abi
from app.outbox.calls import BatchCall, RowView
from app.outbox.kinds import KIND_RELAYS, KindRelay, batch_calls
from app.outbox.kinds.custody import CUSTODY_TUPLE, CustodyRelay
from app.outbox.kinds.logistics import LOGISTICS_TUPLE, LogisticsRelay
from app.outbox.models import RelayKind
from app.settings import ROOT

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def _hex32() -> str:
    return "0x" + secrets.token_hex(32)


def _call(relay: type[KindRelay]) -> BatchCall:
    return relay.call_on(Web3().eth.contract(abi=[]))


def test_custody_batch_encoding_matches_the_abi_encoder() -> None:
    rows = [
        RowView(
            id=i,
            kind=RelayKind.CUSTODY,
            subject="",
            payload={
                "item_id": _hex32(),
                "action": 1 + i % 6,
                "occurred_at": 2**40 - 1 - i,
                "location_hash": _hex32(),
                "context_hash": _hex32(),
            },
            custody_event_id=2**256 - 1 - i,
            attempts=0,
        )
        for i in range(5)
    ]
    call = _call(CustodyRelay)
    expected = [
        (
            bytes.fromhex(r.payload["item_id"][2:]),
            r.custody_event_id,
            r.payload["action"],
            r.payload["occurred_at"],
            bytes.fromhex(r.payload["location_hash"][2:]),
            bytes.fromhex(r.payload["context_hash"][2:]),
        )
        for r in rows
    ]
    selector = keccak(text=f"recordCustody({CUSTODY_TUPLE}[])")[:4]
    assert call.encode(rows) == selector + encode([f"{CUSTODY_TUPLE}[]"], [expected])


def test_logistics_batch_encoding_matches_the_abi_encoder() -> None:
    payloads = [
        {
            "order_id": _hex32(),
            "kind": i % 3,
            "carrier": 2**16 - 1 - i,
            "items": 2**32 - 1 - i,
            "evidence_hash": _hex32(),
        }
        for i in range(4)
    ]
    rows = [RowView(i, RelayKind.ORDER_LOGISTICS, "", p, None, 0) for i, p in enumerate(payloads)]
    call = _call(LogisticsRelay)
    expected = [
        (
            bytes.fromhex(p["order_id"][2:]),
            p["kind"],
            p["carrier"],
            p["items"],
            bytes.fromhex(p["evidence_hash"][2:]),
        )
        for p in payloads
    ]
    selector = keccak(text=f"reportLogistics({LOGISTICS_TUPLE}[])")[:4]
    assert call.encode(rows) == selector + encode([f"{LOGISTICS_TUPLE}[]"], [expected])


def test_every_entry_point_matches_the_committed_abis() -> None:
    """The tuples written out here are the contracts' structs (a field added on chain and not
    here fails this, not a relay at run time)."""
    w3 = Web3()

    def contract(name: str) -> Contract:
        return w3.eth.contract(address=ZERO_ADDRESS, abi=load_abi(ROOT / "abi", name))

    calls = batch_calls(
        {kind: contract(relay.contract_name) for kind, relay in KIND_RELAYS.items()}
    )
    assert set(calls) == set(RelayKind)


def test_values_out_of_their_type_are_refused() -> None:
    row = RowView(
        1,
        RelayKind.ORDER_LOGISTICS,
        "",
        {"order_id": _hex32(), "kind": 256, "items": 0, "evidence_hash": _hex32()},
        None,
        0,
    )
    with pytest.raises(ValueError, match="uint8"):
        _call(LogisticsRelay).encode([row])
    too_big_carrier = {**row.payload, "kind": 0, "carrier": 2**16}
    with pytest.raises(ValueError, match="uint16"):
        _call(LogisticsRelay).encode(
            [RowView(1, RelayKind.ORDER_LOGISTICS, "", too_big_carrier, None, 0)]
        )
