"""Reading why a call is refused, directly or as the forwarder would make it.

OpenZeppelin's forwarder drops the target's revert data: `execute` reverts with `FailedCall()`
whatever the target said, and `executeBatch` only emits `success = false`. The target's own
refusal is read from a simulation of the exact call the forwarder makes (`eth_call` from the
forwarder's address, the signer's 20 bytes appended), and compared with a direct call's.
"""

from __future__ import annotations

from typing import Any

from ape.exceptions import ContractLogicError, CustomError
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from tests.contracts.escrow.helpers import revert_data
from tests.contracts.forwarder.forward_requests import SignedRequest


def error_data(contract: Any, error: str, *arguments: Any) -> bytes:
    """A custom error of `contract`'s ABI as the EVM returns it: selector, then arguments."""
    [abi] = [item for item in contract.contract_type.errors if item.name == error]
    types = [argument.canonical_type for argument in abi.inputs]
    return keccak(text=abi.selector)[:4] + encode(types, list(arguments))


def refusal_of_call(chain: Any, sender: str, to: str, data: bytes, value: int = 0) -> bytes | None:
    """The revert data of a call `sender` makes to `to` with `data` (simulated, nothing kept);
    None when the call succeeds."""
    call = chain.provider.network.ecosystem.create_transaction(
        sender=sender, receiver=to, data=data, value=value
    )
    try:
        chain.provider.send_call(call)
    except CustomError as refused:
        # Ape decoded an error of the called contract's ABI: encoded again from its inputs.
        types = [argument.canonical_type for argument in refused.abi.inputs]
        values = [refused.inputs[argument.name or ""] for argument in refused.abi.inputs]
        return keccak(text=refused.abi.selector)[:4] + encode(types, values)
    except ContractLogicError as refused:
        # Another contract's error (the registry's, bubbled up through the escrow), undecoded.
        return revert_data(refused)
    return None


def refusal_as_forwarded(chain: Any, forwarder: Any, signed: SignedRequest) -> bytes | None:
    """The target's refusal of the call the forwarder makes for `signed` (None: it succeeds)."""
    request = signed.request
    return refusal_of_call(
        chain, str(forwarder.address), request.to, signed.forwarded_calldata(), request.value
    )


def refusal_as_direct(chain: Any, signed: SignedRequest) -> bytes | None:
    """The target's refusal of the same call sent by the signer itself."""
    request = signed.request
    return refusal_of_call(chain, request.sender, request.to, request.data, request.value)
