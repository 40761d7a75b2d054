"""An escrow order's terms and the order file that keeps them (no provider needed).

OrderEscrow never stores an order's terms: its id is ``keccak256(abi.encode(terms))`` and every
call after ``open`` passes the terms again. ``ape run buyer open --order-file F`` writes them to
``F`` before the order is sent, so they are never lost; they can also be rebuilt from the
``OrderOpened`` event by order id (``--order 0x...``).

Order file (version 1; keys sorted, two-space indent; uint256 values as decimal strings)::

    {
      "version": 1,
      "chain_id": 1337,
      "escrow": "0x...",                    # OrderEscrow address
      "order_id": "0x...",                  # keccak256(abi.encode(terms)), checked on load
      "reference": "SKU-CHAIR-7 x1",        # text whose keccak256 is terms.order_ref, if known
      "opened_tx": "0x...",                 # the open transaction (null until it is mined)
      "opened_block": 12,
      "terms": {
        "buyer": "0x...", "merchant": "0x...", "payer": "0x...",
        "token": "0x0000000000000000000000000000000000000000",   # ETH, else the ERC-20
        "amount": "250000000000000000",     # base units
        "ship_by": 1798761600, "deliver_by": 1799366400,          # unix seconds
        "dispute_window": 259200,           # seconds
        "fee_bps": 100,
        "order_ref": "0x...",               # bytes32
        "salt": "1234...",
        "item_ids": ["0x..."]               # registry item ids, or [] for a SKU order
      }
    }
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from eth_abi.abi import encode
from eth_utils.crypto import keccak
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from app.domain.abi_types import Address, Bytes32, Uint256, from_hex, hex32
from app.domain.deployments import write_json
from app.domain.input_files import read_model

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ETH = ZERO_ADDRESS
MAX_ITEMS = 32
ABI_FIELDS = (
    "buyer",
    "merchant",
    "payer",
    "token",
    "amount",
    "shipBy",
    "deliverBy",
    "disputeWindow",
    "feeBps",
    "orderRef",
    "salt",
    "itemIds",
)
TERMS_ABI = (
    "(address,address,address,address,uint256,uint40,uint40,uint32,uint16,"
    "bytes32,uint256,bytes32[])"
)


def text_hash(text: str) -> str:
    """keccak256 of UTF-8 text, as order references, tracking numbers and evidence are kept."""
    return hex32(keccak(text.encode("utf-8")))


class OrderTerms(BaseModel):
    """IOrderEscrow.OrderTerms, in ABI order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    buyer: Address
    merchant: Address
    payer: Address
    token: Address
    amount: Uint256
    ship_by: int = Field(ge=0, lt=2**40)
    deliver_by: int = Field(ge=0, lt=2**40)
    dispute_window: int = Field(ge=0, lt=2**32)
    fee_bps: int = Field(ge=0, lt=2**16)
    order_ref: Bytes32
    salt: Uint256
    item_ids: tuple[Bytes32, ...] = ()

    def as_abi(self) -> tuple[Any, ...]:
        """The tuple a contract call takes."""
        return (
            self.buyer,
            self.merchant,
            self.payer,
            self.token,
            self.amount,
            self.ship_by,
            self.deliver_by,
            self.dispute_window,
            self.fee_bps,
            from_hex(self.order_ref),
            self.salt,
            [from_hex(item) for item in self.item_ids],
        )

    @property
    def order_id(self) -> str:
        """keccak256(abi.encode(terms)), as the contract computes it."""
        return hex32(keccak(encode([TERMS_ABI], [self.as_abi()])))

    @property
    def is_eth(self) -> bool:
        return self.token == ETH

    @property
    def item_count(self) -> int:
        """Units for item-by-item release: the registry items, or 1 for a SKU order."""
        return max(len(self.item_ids), 1)

    @classmethod
    def from_abi(cls, values: Sequence[Any] | Mapping[str, Any]) -> OrderTerms:
        """Terms from a decoded ABI tuple (an ``OrderOpened`` event's ``terms``), as a sequence
        in ABI order or a mapping by the Solidity field names (as web3 decodes structs)."""
        if isinstance(values, Mapping):
            values = [values[name] for name in ABI_FIELDS]
        fields = dict(zip(cls.model_fields, values, strict=True))
        return cls.model_validate(
            {k: str(fields[k]) for k in ("buyer", "merchant", "payer", "token")}
            | {k: int(fields[k]) for k in _INTS}
            | {
                "order_ref": hex32(bytes(fields["order_ref"])),
                "item_ids": tuple(hex32(bytes(item)) for item in fields["item_ids"]),
            }
        )


_INTS = ("amount", "ship_by", "deliver_by", "dispute_window", "fee_bps", "salt")


class OrderFile(BaseModel):
    """What ``--order-file`` holds: an order's terms and where it lives."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    chain_id: int
    escrow: Address
    order_id: Bytes32
    terms: OrderTerms
    reference: str | None = None
    opened_tx: str | None = None
    opened_block: int | None = None

    @model_validator(mode="after")
    def _id_matches_terms(self) -> OrderFile:
        if self.terms.order_id != self.order_id:
            raise ValueError(
                f"order_id {self.order_id} is not the hash of the terms ({self.terms.order_id}): "
                "the file was edited or is corrupt"
            )
        return self


def read_order_file(path: Path) -> OrderFile:
    return read_model(path, OrderFile, "an order file")


def write_order_file(path: Path, order: OrderFile) -> None:
    write_json(path, order.model_dump(mode="json"))
