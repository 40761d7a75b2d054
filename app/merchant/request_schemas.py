"""What the signed-request endpoints take and answer (``/v1/merchant/requests``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.domain.abi_types import Address
from app.domain.forward_requests import MAX_REQUEST_DATA, RequestId


def _uint256(text: str) -> str:
    if int(text) >= 2**256:
        raise ValueError("above the largest uint256")
    return text


# Decimal text, so that JSON readers without big integers keep it exact; the signer signed the
# number, which the forwarder's uint256 must hold.
Uint256Text = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,78}$", description="A uint256 as decimal digits"),
    AfterValidator(_uint256),
]
# Calldata: a selector and arguments, at most MAX_REQUEST_DATA bytes.
HexData = Annotated[
    str,
    Field(pattern=r"^0x(?:[0-9a-fA-F]{2})+$", min_length=10, max_length=2 + 2 * MAX_REQUEST_DATA),
]
MAX_DEADLINE = 2**48 - 1


class SignedRequestCreate(BaseModel):
    """An ERC-2771 ``ForwardRequest`` the merchant signed with EIP-712 (``eth_signTypedData_v4``)
    over the forwarder's domain: see ``GET /v1/merchant/requests/signing``."""

    model_config = ConfigDict(populate_by_name=True)

    chain_id: int = Field(alias="chainId", gt=0, description="The chain the request was signed for")
    sender: Address = Field(alias="from", description="The merchant who signed")
    to: Address = Field(description="ProductRegistry or OrderEscrow")
    value: Uint256Text = Field(default="0", description="Always 0: the service relays no value")
    gas: Uint256Text = Field(description="Gas the call gets, as signed")
    nonce: Uint256Text = Field(description="The signer's next forwarder nonce")
    deadline: int = Field(gt=0, le=MAX_DEADLINE, description="Unix seconds (uint48), as signed")
    data: HexData = Field(description="The target's calldata: selector and ABI-encoded arguments")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


RequestStatus = Literal["queued", "submitted", "confirmed", "failed"]


class SignedRequestPublic(BaseModel):
    """A relayed request and where it is on its way to the chain."""

    id: RequestId = Field(
        description="req_ and the first 32 hex digits of the request's EIP-712 hash"
    )
    status: RequestStatus
    signer: str
    nonce: str
    target: str
    function: str
    gas: str
    deadline: int
    reason: str | None = Field(default=None, description="Why it failed, in the contract's words")
    tx_hash: str | None = None
    block_number: int | None = None


class RequestsWithdrawnPublic(BaseModel):
    """The requests a withdrawal took back: the one named, then its signer's later queued ones."""

    withdrawn: list[RequestId] = Field(description="Their ids, in nonce order")


class RequestNoncePublic(BaseModel):
    signer: str
    nonce: str = Field(description="The nonce to sign the signer's next request with")
    on_chain: str = Field(description="The forwarder's nonce of the signer now")
    queued: int = Field(description="The signer's requests accepted and not yet on chain")


class SigningPublic(BaseModel):
    """What a client needs to sign requests: the EIP-712 domain and types, and the targets."""

    chain_id: int
    domain: dict[str, Any]
    types: dict[str, list[dict[str, str]]]
    primary_type: str
    contracts: dict[str, str] = Field(description="Relayed contracts by name: their addresses")
    functions: dict[str, list[str]] = Field(description="Functions relayed, by contract")
    max_gas: int = Field(description="The most gas one request may sign for")
