"""Reverts decoded by name and arguments, from the contracts' ABIs (custom errors, ``Error``,
``Panic``), so a refused call can be told apart from an unreachable node and named in a record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import collapse_if_tuple
from eth_utils.crypto import keccak
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError

_ERROR_STRING = ("Error", ("message",), ("string",))
_PANIC = ("Panic", ("code",), ("uint256",))
_BUILTIN = {
    keccak(text="Error(string)")[:4]: _ERROR_STRING,
    keccak(text="Panic(uint256)")[:4]: _PANIC,
}


@dataclass(frozen=True)
class Revert:
    """A decoded revert: the error's name and arguments (``Unknown`` when nothing matched)."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    data: str = "0x"

    def __str__(self) -> str:
        shown = ", ".join(f"{key}={_shown(value)}" for key, value in self.args.items())
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
        raw = _as_bytes(data)
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


def revert_data(error: Exception) -> bytes | None:
    """The revert data a web3 call error carries; None if the error is not a revert."""
    if isinstance(error, ContractCustomError | ContractPanicError):
        return _as_bytes(error.data if isinstance(error.data, str) else error.message)
    if isinstance(error, ContractLogicError):
        return _as_bytes(error.data) if isinstance(error.data, str) else b""
    return None


def _as_bytes(data: bytes | str | None) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes):
        return data
    text = data[2:] if data.startswith("0x") else data
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""


def _shown(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
