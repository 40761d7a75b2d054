"""A refused call in words, from the error's own name and arguments (app.domain.reverts)."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from app.domain.reverts import Revert, RevertDecoder, explain, words

ABI = [
    {
        "type": "error",
        "name": "EscrowShipByPassed",
        "inputs": [{"name": "orderId", "type": "bytes32"}, {"name": "shipBy", "type": "uint40"}],
    },
    {
        "type": "error",
        "name": "EscrowInvalidStatus",
        "inputs": [{"name": "orderId", "type": "bytes32"}, {"name": "status", "type": "uint8"}],
    },
]


def test_the_name_without_its_domain_is_the_sentence() -> None:
    assert words("EscrowShipByPassed") == "ship by passed"
    assert words("RegistryGs1PrefixNotGranted") == "gs1 prefix not granted"
    assert words("ERC20InsufficientBalance") == "insufficient balance"
    assert words("EnforcedPause") == "enforced pause"


def test_arguments_are_shown_as_people_read_them() -> None:
    order = b"\x01" * 32
    data = keccak(text="EscrowShipByPassed(bytes32,uint40)")[:4] + encode(
        ["bytes32", "uint40"], [order, 1_800_000_000]
    )

    revert = RevertDecoder([ABI]).decode(data)

    assert revert.name == "EscrowShipByPassed"
    assert explain(revert) == (
        f"EscrowShipByPassed(orderId=0x{order.hex()}, shipBy=2027-01-15T08:00:00Z): ship by passed"
    )
    status = explain(Revert("EscrowInvalidStatus", {"orderId": order, "status": 4}))
    assert "status=disputed" in status
    who = {"account": "0x" + "ab" * 20, "neededRole": bytes(32)}
    role = explain(Revert("AccessControlUnauthorizedAccount", who))
    assert "neededRole=DEFAULT_ADMIN_ROLE" in role and "holds the role" in role


def test_unknown_revert_data_is_shown_as_it_came() -> None:
    assert explain(RevertDecoder([ABI]).decode("0xdeadbeef")) == "revert data 0xdeadbeef"
