"""A merchant's signed request as the forwarder runs it (ERC-2771): the target called by the
forwarder, with the signer's address after the calldata and exactly the signed gas. Simulating
that call is how the service learns the target contract's own answer to a request, before it
accepts it and after a relayed one failed.

Before it accepts a request the service reads three things of the chain: the signer's standing on
the registry, its forwarder nonce, and the simulated call. ``read_for_request`` reads them in one
JSON-RPC batch, the calls encoded here: one round trip to the node, and none of web3's per-call
ABI lookups, validation and formatting, which cost the request path more than the node's own work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import BlockIdentifier, RPCEndpoint, TxParams, Wei

from app.chain.reverts import revert_data
from app.chain.rpc_reads import Batches
from app.domain.forward_requests import ForwardRequest
from app.domain.reverts import as_bytes

MERCHANT_STANDING = keccak(text="merchantStanding(address)")[:4]
NONCES = keccak(text="nonces(address)")[:4]
# Calls in one JSON-RPC batch at most (providers cap batches; Anvil does not).
BATCH_CALLS = 100


@dataclass(frozen=True)
class RequestReads:
    """What the chain says of a request: the signer's ``merchantStanding`` status (the
    registry's ``MerchantStatus`` value), its forwarder nonce, its call's refusal as
    ``forwarded_refusal`` gives it, and the latest block's time (the forwarder's clock for the
    deadline)."""

    standing: int
    nonce: int
    refusal: bytes | None
    block_time: int


def forwarded_refusal(
    web3: Web3, forwarder: str, request: ForwardRequest, block: BlockIdentifier = "pending"
) -> bytes | None:
    """The revert data of the request's call at ``block``'s state (empty when it reverts
    without data, or runs out of its signed gas), or None when the call succeeds."""
    params: TxParams = {
        "from": Web3.to_checksum_address(forwarder),
        "to": Web3.to_checksum_address(request.to),
        "data": _forwarded_data(request),
        "gas": request.gas,
        "value": Wei(request.value),
    }
    try:
        web3.eth.call(params, block)
    except ContractLogicError as error:
        return revert_data(error) or b""
    except Web3RPCError as error:
        if _out_of_gas(error.rpc_response.get("error") if error.rpc_response else None):
            return b""
        raise
    return None


def read_for_request(
    batches: Batches, registry: str, forwarder: str, request: ForwardRequest
) -> RequestReads:
    """The signer's standing and forwarder nonce (latest block), the call's refusal (pending
    state) and the latest block's time, in one JSON-RPC batch. Raises ``Web3RPCError`` when the
    node answers an error to either view, or no batch; ``OSError`` when it cannot be reached."""
    signer = _word_of(request.sender)
    call = {
        "from": forwarder,
        "to": request.to,
        "data": "0x" + _forwarded_data(request).hex(),
        "gas": hex(request.gas),
        "value": hex(request.value),
    }
    batch: list[tuple[Any, Any]] = [
        (
            RPCEndpoint("eth_call"),
            [{"to": registry, "data": _hex(MERCHANT_STANDING + signer)}, "latest"],
        ),
        (RPCEndpoint("eth_call"), [{"to": forwarder, "data": _hex(NONCES + signer)}, "latest"]),
        (RPCEndpoint("eth_call"), [call, "pending"]),
        (RPCEndpoint("eth_getBlockByNumber"), ["latest", False]),
    ]
    answers = batches.make_batch_request(batch)
    if not isinstance(answers, list) or len(answers) != len(batch):
        raise Web3RPCError(f"the node answered no batch: {answers}")
    standing, nonce = (_word(answer) for answer in answers[:2])
    block = answers[3].get("result") or {}
    block_time = int(str(block.get("timestamp", "0x0")), 16)
    return RequestReads(standing, nonce, _refusal(answers[2]), block_time)


def forwarder_nonces(batches: Batches, forwarder: str, signers: list[str]) -> dict[str, int]:
    """Each signer's forwarder nonce at the latest block, ``BATCH_CALLS`` to a JSON-RPC batch.
    Raises ``Web3RPCError`` when the node answers an error, ``OSError`` when it cannot be
    reached."""
    found: dict[str, int] = {}
    for start in range(0, len(signers), BATCH_CALLS):
        chunk = signers[start : start + BATCH_CALLS]
        batch = [
            (
                RPCEndpoint("eth_call"),
                [{"to": forwarder, "data": _hex(NONCES + _word_of(s))}, "latest"],
            )
            for s in chunk
        ]
        answers = batches.make_batch_request(batch)
        if not isinstance(answers, list) or len(answers) != len(batch):
            raise Web3RPCError(f"the node answered no batch: {answers}")
        found.update((signer, _word(answer)) for signer, answer in zip(chunk, answers, strict=True))
    return found


def _word_of(address: str) -> bytes:
    """An address as its ABI word."""
    return bytes(12) + bytes.fromhex(address.removeprefix("0x"))


def _forwarded_data(request: ForwardRequest) -> bytes:
    return request.data + bytes.fromhex(request.sender.removeprefix("0x"))


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _word(answer: dict[str, Any]) -> int:
    """A view's first return word (uint256, or a uint8 enum)."""
    result = answer.get("result")
    if not isinstance(result, str) or len(result) < 66:
        raise Web3RPCError(f"eth_call: {answer.get('error', answer)}")
    return int(result[2:66], 16)


def _refusal(answer: dict[str, Any]) -> bytes | None:
    """The simulated call's answer as web3 maps an ``eth_call`` error to a contract's revert
    (``ContractLogicError``: its data, or none), and running out of the signed gas as a revert
    without data; any other error is the node's."""
    error = answer.get("error")
    if error is None:
        return None
    if not isinstance(error, dict):
        raise Web3RPCError(f"eth_call: {error}")
    message = str(error.get("message") or "")
    if "data" in error:
        data = error["data"]
        if isinstance(data, str):
            return as_bytes(data)
        if data is None or (isinstance(data, dict) and message):
            return b""
    if message and (error.get("code") == 3 or "execution reverted" in message):
        return b""
    if _out_of_gas(error):
        return b""
    raise Web3RPCError(f"eth_call: {error}")


def _out_of_gas(error: Any) -> bool:
    """Whether a node's error says the call ran out of gas (Anvil: "EVM error OutOfGas", geth:
    "out of gas"): the call the forwarder makes with the signed gas would fail alike."""
    if not isinstance(error, dict):
        return False
    message = str(error.get("message") or "").lower().replace(" ", "")
    return "outofgas" in message
