"""Where a transaction's gas goes, read from the node's opcode trace (``debug_traceTransaction``).

A receipt gives one number; a bar that is close or missed needs its parts: the intrinsic cost
(21,000 and the calldata), each storage slot read cold (2,100) or written (20,000 for 0 → non-zero,
2,900 otherwise, each plus 2,100 when cold), each external call with everything it spent, the
events, and what is left (computation, memory, warm reads). Anvil's struct logs carry every
step's remaining gas and cost; a call's whole cost is the gas remaining before it minus the gas
remaining at the caller's next step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.report import number
from harness.nodes import rpc

_CALLS = {"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"}
_COLD_SLOAD = 2_100
_TRACE_OPTIONS = {"disableStorage": True, "disableMemory": True, "enableReturnData": False}


@dataclass(frozen=True)
class Call:
    """One external call made by the transaction's own contract (depth 1), with the calls the
    callee made in turn (depth 2)."""

    op: str
    to: str
    gas: int
    inner: tuple[Call, ...] = ()

    def describe(self, names: Mapping[str, str]) -> str:
        shown = f"{self.op} {names.get(self.to, self.to)} {number(self.gas)}"
        if self.inner:
            shown += " (in it " + ", ".join(call.describe(names) for call in self.inner) + ")"
        return shown


@dataclass
class Profile:
    """The parts of one transaction's gas. ``other`` is what the named parts leave."""

    total: int
    intrinsic: int
    calldata: int
    cold_sloads: int = 0
    new_slots: int = 0
    new_slot_gas: int = 0
    slot_updates: int = 0
    slot_update_gas: int = 0
    logs: int = 0
    log_gas: int = 0
    refund: int = 0
    calls: list[Call] = field(default_factory=list)

    @property
    def other(self) -> int:
        named = (
            self.intrinsic
            + self.cold_sloads * _COLD_SLOAD
            + self.new_slot_gas
            + self.slot_update_gas
            + self.log_gas
            + sum(call.gas for call in self.calls)
            - self.refund
        )
        return self.total - named

    def describe(self, names: Mapping[str, str]) -> str:
        """One line: each part with its gas; ``names`` maps lower-case addresses to names."""
        parts = [f"intrinsic {number(self.intrinsic)} (calldata {number(self.calldata)})"]
        if self.cold_sloads:
            reads = _count(self.cold_sloads, "cold slot read")
            parts.append(f"{reads} {number(self.cold_sloads * _COLD_SLOAD)}")
        if self.new_slots:
            parts.append(f"{_count(self.new_slots, 'new slot')} {number(self.new_slot_gas)}")
        if self.slot_updates:
            writes = _count(self.slot_updates, "slot write")
            parts.append(f"{writes} {number(self.slot_update_gas)}")
        parts += [call.describe(names) for call in self.calls]
        if self.logs:
            parts.append(f"{_count(self.logs, 'event')} {number(self.log_gas)}")
        if self.refund:
            parts.append(f"refund -{number(self.refund)}")
        parts.append(f"the rest (computation, memory, warm reads) {number(self.other)}")
        return "; ".join(parts)


def _count(count: int, thing: str) -> str:
    return f"{count} {thing}" + ("" if count == 1 else "s")


def profile(rpc_url: str, tx_hash: str) -> Profile | None:
    """The parts of the mined transaction ``tx_hash``'s gas; None when the node kept no steps
    (Anvil keeps them only with ``--steps-tracing``).

    Slots and events are counted in the called contract's own frame; each external call it makes
    is one figure, everything the callee spent included (its slots, events and calls).
    """
    tx: Any = rpc(rpc_url, "eth_getTransactionByHash", [tx_hash])
    receipt: Any = rpc(rpc_url, "eth_getTransactionReceipt", [tx_hash])
    trace: Any = rpc(rpc_url, "debug_traceTransaction", [tx_hash, _TRACE_OPTIONS])
    data = bytes.fromhex(tx["input"][2:])
    calldata = sum(16 if byte else 4 for byte in data)
    result = Profile(
        total=int(receipt["gasUsed"], 16), intrinsic=21_000 + calldata, calldata=calldata
    )
    steps = trace["structLogs"]
    if not steps:
        return None
    for index, step in enumerate(steps):
        if step["depth"] != 1:
            continue
        op, cost = step["op"], int(step["gasCost"])
        if op == "SLOAD" and cost >= _COLD_SLOAD:
            result.cold_sloads += 1
        elif op == "SSTORE":
            _count_store(result, cost)
        elif op.startswith("LOG"):
            result.logs += 1
            result.log_gas += cost
        elif op in _CALLS:
            result.calls.append(_call(steps, index))
    executed = int(steps[0]["gas"]) - int(steps[-1]["gas"]) + int(steps[-1]["gasCost"])
    result.refund = result.intrinsic + executed - result.total
    return result


def _count_store(result: Profile, cost: int) -> None:
    # 20,000 (+2,100 cold) creates a slot; 2,900 (+2,100 cold) rewrites one; 100 is a dirty slot.
    if cost >= 20_000:
        result.new_slots += 1
        result.new_slot_gas += cost
    else:
        result.slot_updates += 1
        result.slot_update_gas += cost


def _call_target(step: Mapping[str, Any]) -> str:
    stack = step.get("stack") or []
    # The callee's address is the stack's second word from the top for every call opcode.
    return "0x" + str(stack[-2])[2:].rjust(40, "0")[-40:] if len(stack) >= 2 else "?"


def _call(steps: list[Any], index: int) -> Call:
    """The call at ``steps[index]``: everything it spent (the caller's gas before it, minus the
    caller's gas at its next step once the call returned) and, below the transaction's own
    contract, the calls its callee made."""
    step = steps[index]
    depth = step["depth"]
    inner: list[Call] = []
    for later_index in range(index + 1, len(steps)):
        later = steps[later_index]
        if later["depth"] == depth:
            gas = int(step["gas"]) - int(later["gas"])
            return Call(step["op"], _call_target(step), gas, tuple(inner))
        if depth == 1 and later["depth"] == depth + 1 and later["op"] in _CALLS:
            inner.append(_call(steps, later_index))
    return Call(step["op"], _call_target(step), int(step["gasCost"]), tuple(inner))
