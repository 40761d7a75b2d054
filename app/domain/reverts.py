"""Reverts decoded by name and arguments from the contracts' ABIs (custom errors, ``Error``,
``Panic``) and put in words: ``EscrowShipByPassed(orderId=0x.., shipBy=2026-..Z): ship by
passed``. Pure Python (eth-abi): the service's relay records and the scripts' refusals read the
same decoder, so a refused call says the same thing wherever it is seen.

The sentence is built from the error's own name and arguments (the rules live in the contracts,
which name their errors for what they refuse); a few errors add what to do next.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import collapse_if_tuple
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak

from app.domain.roles import ROLE_NAMES
from app.domain.units import format_time
from app.domain.vocab import LineStatus, OrderStatus, Verdict

_BUILTIN = {
    keccak(text="Error(string)")[:4]: ("Error", ("message",), ("string",)),
    keccak(text="Panic(uint256)")[:4]: ("Panic", ("code",), ("uint256",)),
}
_PREFIXES = ("AccessControl", "Attestation", "Registry", "Escrow", "CreditPool", "Credit", "ERC20")
_LINE_STATUS_ERRORS = ("CreditLineFrozen", "CreditLineNotDefaulted")
# Argument names that hold unix seconds.
_TIMES = re.compile(r".*(At|By|Time|deadline|latest)$")
_BITMAPS = ("items", "undelivered")

# What to do next, for the refusals whose name alone does not say it.
HINTS = {
    "EscrowHandedToCarrier": "the buyer can no longer cancel: dispute once it arrives, or offer "
    "a settlement",
    "EscrowDeliveryUnproven": "an order paid with credit pays the merchant only for items a "
    "carrier reported delivered (or by a ruling)",
    "EscrowShipByTooFar": "choose an earlier --ship-by",
    "EscrowReleaseTooEarly": "before that only the buyer can release (confirm)",
    "EscrowItemsNotDelivered": "only the buyer may release items not reported delivered",
    "EscrowArbitrationExpired": "anyone may now apply the default outcome "
    "(`ape run arbiter resolve-expired`)",
    "EscrowArbitrationPending": "the default outcome applies only after the arbiter's deadline",
    "EscrowNothingToWithdraw": "nothing is credited to this account in this token",
    "EscrowOrderExists": "pass another --salt",
    "EscrowMissingOrderRef": "name what is bought: --item-id (registry items) or --ref (a SKU)",
    "EscrowWrongCarrier": "only the carrier the merchant named may report (assigned 0: none yet)",
    "RegistryGs1PrefixNotGranted": "a verifier grants it: "
    "`ape run ops grant-prefix PREFIX MERCHANT`",
    "RegistryItemHeld": "it is held by another open order, or already sold",
    "RegistryInvalidProof": "another merchant's id, or a wrong key, metadata hash or proof",
    "RegistryMerchantNotActive": "a verifier approves merchants: `ape run ops approve-merchant`",
    "RegistryMerchantUnknown": "a verifier approves merchants: `ape run ops approve-merchant`",
    "RegistryItemNotRegistered": "a batch item needs `ape run merchant activate` first",
    "CreditMerchantIsBorrower": "credit does not pay a shop of the borrower's own identity",
    "CreditOrderWithoutItems": "credit pays only registry items: name them with --item-id",
    "CreditLineNotOpen": "apply first: `ape run borrower apply --attestation FILE`",
    "CreditLineOnHold": "apply again with a fresh attestation",
    "CreditLineDenied": "a newer attestation was denied: only a newer approved one lifts the hold",
    "CreditLinePastDue": "repay what is owed first: `ape run borrower repay --all`",
    "CreditPoolRedeemOnly": "the pool pays lenders through its queue: `ape run lender "
    "request-redeem`, then `ape run lender claim`",
    "CreditPoolNotClaimable": "queued shares become claimable after the cooldown",
    "CreditPoolZeroShares": "nothing to take: queue shares first (`ape run lender request-redeem`)",
    "AttestationQuorumNotMet": "add the others with "
    "`ape run bureau cosign ATTESTATION_FILE --account ...`",
    "AccessControlUnauthorizedAccount": "sign with an account that holds the role",
    "EnforcedPause": "the contract is paused",
}


@dataclass(frozen=True)
class Revert:
    """A decoded revert: the error's name and arguments (``Unknown`` when nothing matched)."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    data: str = "0x"

    def __str__(self) -> str:
        shown = ", ".join(f"{key}={_hex(value)}" for key, value in self.args.items())
        return f"{self.name}({shown})" if self.name != "Unknown" else f"revert {self.data}"


class RevertDecoder:
    """Decodes revert data against the custom errors of one or more ABIs."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]]) -> None:
        self._errors: dict[bytes, tuple[str, tuple[str, ...], tuple[str, ...]]] = dict(_BUILTIN)
        for abi in abis:
            for entry in abi:
                if entry.get("type") != "error":
                    continue
                types = tuple(collapse_if_tuple(item) for item in entry.get("inputs", []))
                names = tuple(
                    item.get("name") or f"arg{i}" for i, item in enumerate(entry["inputs"])
                )
                selector = keccak(text=f"{entry['name']}({','.join(types)})")[:4]
                self._errors[selector] = (entry["name"], names, types)

    def decode(self, data: bytes | str | None) -> Revert:
        raw = as_bytes(data)
        shown = "0x" + raw.hex()
        known = self._errors.get(raw[:4]) if len(raw) >= 4 else None
        if known is None:
            return Revert("Unknown", {}, shown)
        name, names, types = known
        try:
            values = decode(list(types), raw[4:])
        except (DecodingError, ValueError, OverflowError):
            return Revert(name, {}, shown)
        return Revert(name, dict(zip(names, values, strict=True)), shown)


def explain(revert: Revert) -> str:
    """``Name(key=value, ...): words of the name[; what to do next]``."""
    if revert.name == "Unknown":
        return f"revert data {revert.data}"
    hint = HINTS.get(revert.name)
    return f"{described(revert.name, revert.args)}: {words(revert.name)}" + (
        f"; {hint}" if hint else ""
    )


def described(name: str, args: Mapping[str, Any]) -> str:
    """``Name(key=value, ...)`` of an error or an event, each value shown for people: times as
    UTC, statuses and verdicts by name, roles by name, addresses checksummed."""
    return f"{name}({', '.join(f'{k}={_shown(name, k, v)}' for k, v in args.items())})"


def words(name: str) -> str:
    """``EscrowShipByPassed`` -> ``ship by passed``: the error's name without its domain."""
    for prefix in _PREFIXES:
        if name.startswith(prefix) and name != prefix:
            name = name[len(prefix) :]
            break
    return " ".join(re.findall(r"[A-Z0-9]+(?![a-z])|[A-Z]?[a-z0-9]+", name)).lower()


def _shown(error: str, key: str, value: Any) -> str:
    if key == "status":
        kind = LineStatus if error in _LINE_STATUS_ERRORS else OrderStatus
        return _enum(kind, value)
    if key == "verdict":
        return _enum(Verdict, value)
    if key in ("neededRole", "role"):
        return ROLE_NAMES.get(bytes(value), _hex(value))
    if key in _BITMAPS and isinstance(value, int):
        return ",".join(str(i) for i in range(256) if value >> i & 1) or "none"
    if isinstance(value, int) and _TIMES.match(key) and 10**9 < value < 2**40:
        return format_time(value)
    if isinstance(value, str) and is_address(value):
        return str(to_checksum_address(value))
    return _hex(value)


def _enum(kind: Any, value: Any) -> str:
    try:
        return str(kind(int(value)).name.lower())
    except ValueError:
        return str(value)


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, bytes | bytearray) else str(value)


def as_bytes(data: bytes | str | None) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    text = data[2:] if data.startswith("0x") else data
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""
