"""A merchant's signed request as the forwarder runs it (ERC-2771): the target called by the
forwarder, with the signer's address after the calldata and exactly the signed gas. Simulating
that call is how the service learns the target contract's own answer to a request, before it
accepts it and after a relayed one failed."""

from __future__ import annotations

from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.types import BlockIdentifier, TxParams, Wei

from app.chain.reverts import revert_data
from app.domain.forward_requests import ForwardRequest


def forwarded_refusal(
    web3: Web3, forwarder: str, request: ForwardRequest, block: BlockIdentifier = "pending"
) -> bytes | None:
    """The revert data of the request's call at ``block``'s state (empty when it reverts
    without data, e.g. out of its signed gas), or None when the call succeeds."""
    params: TxParams = {
        "from": Web3.to_checksum_address(forwarder),
        "to": Web3.to_checksum_address(request.to),
        "data": request.data + bytes.fromhex(request.sender.removeprefix("0x")),
        "gas": request.gas,
        "value": Wei(request.value),
    }
    try:
        web3.eth.call(params, block)
    except ContractLogicError as error:
        return revert_data(error) or b""
    return None
