"""The revert data a web3 call error carries; decoding and wording live in
``app.domain.reverts`` (re-exported here for the chain layer's callers)."""

from __future__ import annotations

from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError

from app.domain.reverts import Revert, RevertDecoder, as_bytes, explain

__all__ = ["Revert", "RevertDecoder", "explain", "revert_data"]


def revert_data(error: Exception) -> bytes | None:
    """The revert data a web3 call error carries; None if the error is not a revert."""
    if isinstance(error, ContractCustomError | ContractPanicError):
        return as_bytes(error.data if isinstance(error.data, str) else error.message)
    if isinstance(error, ContractLogicError):
        data = error.data
        if isinstance(data, dict):  # Hardhat's error data is an object: {"message", "data"}
            data = data.get("data")
        return as_bytes(data) if isinstance(data, str) else b""
    return None
