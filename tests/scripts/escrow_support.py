"""Set-up steps of the escrow script tests, sent straight through web3 so that the scripts'
commands run only for the steps under test: orders opened, shipped (with carrier 1) or disputed
directly, registry items, a test stablecoin, and Anvil's clock."""

from __future__ import annotations

import itertools
from typing import Any

from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract

from app.domain.abi_types import hex32
from app.domain.ids import item_id_from_sku, item_key
from app.domain.orders import ETH, OrderTerms, text_hash
from app.domain.vocab import IdScheme, OrderStatus
from tests.scripts.conftest import ADMIN, BUYER, MERCHANT

DAY = 86_400
CARRIER = 1  # the carrier the merchant names in these tests
_salts = itertools.count(1)
_items = itertools.count(1)


def transact(w3: Web3, call: Any, tx: dict[str, Any]) -> Any:
    receipt = w3.eth.wait_for_transaction_receipt(call.transact(tx))
    assert receipt["status"] == 1
    return receipt


def nonce(w3: Web3, account: str) -> int:
    return int(w3.eth.get_transaction_count(account))


def chain_time(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def advance_time(w3: Web3, seconds: int) -> None:
    """Moves the node's clock forward (Anvil's or Hardhat's) and mines a block at the new time."""
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def gas_paid(w3: Web3, tx_hash: Any) -> int:
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])


def register_item(registry: Contract, w3: Web3, merchant: str = MERCHANT) -> str:
    """A fresh SKU item of ``merchant`` in the registry (sent as its ItemKey); its id as 0x-hex."""
    serial = f"{next(_items):04d}"
    key = item_key(IdScheme.SKU, "ESCROW", serial)
    transact(
        w3,
        registry.functions.registerItems([(key, keccak(b"metadata"), "ipfs://item")]),
        {"from": merchant},
    )
    return hex32(item_id_from_sku(merchant, "ESCROW", serial))


def new_terms(
    escrow: Contract,
    w3: Web3,
    *,
    amount: int = 10**17,
    buyer: str = BUYER,
    token: str = ETH,
    item_ids: tuple[str, ...] = (),
) -> OrderTerms:
    """Terms a buyer would choose: ship within 7 days, deliver within 21, a 3-day window."""
    now = chain_time(w3)
    return OrderTerms(
        buyer=buyer,
        merchant=MERCHANT,
        payer=buyer,
        token=token,
        amount=amount,
        ship_by=now + 7 * DAY,
        deliver_by=now + 21 * DAY,
        dispute_window=3 * DAY,
        fee_bps=int(escrow.functions.feeBps().call()),
        order_ref=text_hash("SKU-TEST"),
        salt=next(_salts),
        item_ids=item_ids,
    )


def open_direct(escrow: Contract, w3: Web3, terms: OrderTerms) -> str:
    """Opens and pays an order in ETH from its buyer; returns its id."""
    transact(
        w3,
        escrow.functions.open(terms.as_abi()),
        {"from": terms.buyer, "value": terms.amount},
    )
    return terms.order_id


def ship_direct(escrow: Contract, w3: Web3, terms: OrderTerms, carrier: int = CARRIER) -> None:
    transact(
        w3,
        escrow.functions.ship(terms.as_abi(), carrier, keccak(b"tracking")),
        {"from": terms.merchant},
    )


def dispute_direct(escrow: Contract, w3: Web3, terms: OrderTerms) -> None:
    transact(
        w3, escrow.functions.dispute(terms.as_abi(), keccak(b"evidence")), {"from": terms.buyer}
    )


def status_of(escrow: Contract, order_id: str) -> OrderStatus:
    return OrderStatus(escrow.functions.orderOf(order_id).call()[0])


def credit_of(escrow: Contract, account: str, token: str = ETH) -> int:
    return int(escrow.functions.creditOf(account, token).call())


def deploy_stable(w3: Web3) -> Contract:
    """The test stablecoin (contracts/test/escrow/MockStable6.sol, 6 decimals), deployed by the
    admin from its compiled artifact: the scripts themselves never deploy test contracts."""
    from ape import project

    contract_type = project.MockStable6.contract_type
    abi = [entry.model_dump(mode="json", by_alias=True) for entry in contract_type.abi]
    bytecode = contract_type.deployment_bytecode.bytecode
    receipt = transact(
        w3, w3.eth.contract(abi=abi, bytecode=bytecode).constructor(), {"from": ADMIN}
    )
    return w3.eth.contract(address=receipt["contractAddress"], abi=abi)
