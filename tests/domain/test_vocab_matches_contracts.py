"""app.domain.vocab's enums are the Python twins of the contracts' enums: same members, same order.

The ABI carries an enum as a bare uint8, so a member added, removed or moved in Solidity would not
fail any call, only change what the numbers mean. The compiler's AST names every member: this
compiles the interfaces with the pinned solc adapter and compares each enum, member by member.
"""

from __future__ import annotations

import json
import re
import subprocess
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest

from app.domain import vocab

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = ROOT / "tools" / "solc-adapter.cjs"
INTERFACES = (
    "contracts/registry/IProductRegistry.sol",
    "contracts/escrow/IOrderEscrow.sol",
    "contracts/credit/ICreditLines.sol",
    "contracts/credit/ICreditPolicies.sol",
    "contracts/common/IAttestationVerifier.sol",
)
# Solidity enum -> its Python twin.
TWINS: dict[str, type[IntEnum]] = {
    "IdScheme": vocab.IdScheme,
    "MerchantStatus": vocab.MerchantStatus,
    "CustodyAction": vocab.CustodyAction,
    "ItemState": vocab.ItemState,
    "Verdict": vocab.Verdict,
    "ReportKind": vocab.ReportKind,
    "ReportStatus": vocab.ReportStatus,
    "OrderStatus": vocab.OrderStatus,
    "RefundReason": vocab.RefundReason,
    "SettlementKind": vocab.SettlementKind,
    "LogisticsKind": vocab.LogisticsKind,
    "LineStatus": vocab.LineStatus,
    "Standing": vocab.Standing,
    "DenialReason": vocab.DenialReason,
}


def _snake(name: str) -> str:
    """`InTransit` -> `IN_TRANSIT`, as vocab names the members."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def _enums(node: Any, found: dict[str, list[str]]) -> None:
    if isinstance(node, dict):
        if node.get("nodeType") == "EnumDefinition":
            found[node["name"]] = [member["name"] for member in node["members"]]
        for value in node.values():
            _enums(value, found)
    elif isinstance(node, list):
        for value in node:
            _enums(value, found)


@pytest.fixture(scope="module")
def contract_enums() -> dict[str, list[str]]:
    """Every enum the interfaces declare, by name, with its members in order."""
    sources = {path: {"content": (ROOT / path).read_text()} for path in INTERFACES}
    request = {
        "language": "Solidity",
        "sources": sources,
        "settings": {"outputSelection": {"*": {"": ["ast"]}}},
    }
    answer = subprocess.run(
        ["node", str(ADAPTER), "--standard-json"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    output = json.loads(answer.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    assert errors == []
    found: dict[str, list[str]] = {}
    for source in output["sources"].values():
        _enums(source["ast"], found)
    return found


def test_every_contract_enum_has_a_python_twin(contract_enums: dict[str, list[str]]) -> None:
    assert set(contract_enums) == set(TWINS)


@pytest.mark.parametrize("name", sorted(TWINS))
def test_python_twin_has_the_same_members_in_the_same_order(
    contract_enums: dict[str, list[str]], name: str
) -> None:
    twin = TWINS[name]
    expected = [(_snake(member), index) for index, member in enumerate(contract_enums[name])]
    assert [(member.name, member.value) for member in twin] == expected
