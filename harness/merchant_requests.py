"""Merchants' signed requests as the fault campaign and the benchmark make them, on a suite
deployed by ``harness.suite.deploy``: fresh merchant keys approved on the registry by the admin
(Anvil's unlocked account; the merchants hold no ETH, the service pays their gas), and for each
merchant a run of ``registerItems`` requests with sequential forwarder nonces, signed ahead with
the merchant's key (EIP-712, the forwarder's domain) into bodies of ``POST /v1/merchant/requests``.

And the chain's record of them, the verdict's source: the forwarder's ``ExecutedForwardRequest``
logs by (signer, nonce) and the registry's ``ItemRegistered`` logs by item.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from app.chain.contracts import load_abi
from app.domain.forward_requests import FORWARDER, Domain, ForwardRequest, request_id
from app.domain.ids import item_id_of_key, item_key
from app.domain.vocab import IdScheme
from harness.ape_run import ADMIN

REQUESTS_PATH = "/v1/merchant/requests"
EXECUTED_TOPIC = "0x" + keccak(text="ExecutedForwardRequest(address,uint256,bool)").hex()
ITEM_REGISTERED_TOPIC = "0x" + keccak(text="ItemRegistered(bytes32,address,bytes32,string)").hex()
# Gas a request signs for: its items' storage and events with room to spare (the forwarder gives
# the call exactly this much; the service relays at most merchant_request_max_gas, 15,000,000).
GAS_PER_REQUEST = 100_000
GAS_PER_ITEM = 60_000
# Far enough that no clock the campaigns move (the keeper's groups push the chain's by hours and
# days) catches up with it; the forwarder stores deadlines as uint48.
DEADLINE_SECONDS = 365 * 86_400


@dataclass(frozen=True)
class SignedRequest:
    """One signed request: its merchant and nonce, the POST body, the id the service will answer
    (``req_`` and the digest's start: known before posting) and the items it registers."""

    merchant: str
    nonce: int
    body: dict[str, Any]
    id: str
    item_ids: tuple[str, ...]


@dataclass(frozen=True)
class Executed:
    """One ``ExecutedForwardRequest`` log: whether the call succeeded, and where it ran."""

    success: bool
    tx_hash: str
    block: int


class MerchantDriver:
    """The deployed registry and forwarder, the merchants' signing domain, driven with web3."""

    @classmethod
    def of_deployment(cls, w3: Web3, base: Path) -> MerchantDriver:
        """The suite ``harness.suite.deploy`` deployed into ``base``."""
        record = json.loads((base / "deployments" / "1337.json").read_text())
        addresses = {name: entry["address"] for name, entry in record["contracts"].items()}
        return cls(w3, addresses, base / "abi")

    def __init__(self, w3: Web3, addresses: dict[str, str], abi_dir: Path) -> None:
        self.w3 = w3
        self.registry = w3.eth.contract(
            address=Web3.to_checksum_address(addresses["ProductRegistry"]),
            abi=load_abi(abi_dir, "ProductRegistry"),
        )
        self.forwarder: Contract = w3.eth.contract(
            address=Web3.to_checksum_address(addresses[FORWARDER]),
            abi=load_abi(abi_dir, FORWARDER),
        )
        self.domain = Domain(int(w3.eth.chain_id), str(self.forwarder.address))

    def approve(self, count: int, label: str) -> list[LocalAccount]:
        """``count`` fresh merchant keys, approved by the admin (sent together, then every
        receipt checked); none holds any ETH."""
        merchants: list[LocalAccount] = [Account.create() for _ in range(count)]
        hashes = [
            self.registry.functions.approveMerchant(
                merchant.address, f"{label} {index}", keccak(text=f"{label} {merchant.address}")
            ).transact({"from": ADMIN})
            for index, merchant in enumerate(merchants)
        ]
        for tx_hash in hashes:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
            if receipt["status"] != 1:
                raise RuntimeError(f"approveMerchant {tx_hash.hex()} reverted")
        return merchants

    def sign(
        self, merchants: list[LocalAccount], per_merchant: int, items: int, label: str
    ) -> list[list[SignedRequest]]:
        """For each merchant, ``per_merchant`` requests of ``registerItems`` with ``items`` new
        SKU items each, nonces 0, 1, ... in order (the forwarder's, for keys never used)."""
        deadline = int(time.time()) + DEADLINE_SECONDS
        return [
            [
                self._signed(merchant, nonce, items, f"{label}-{index}", deadline)
                for nonce in range(per_merchant)
            ]
            for index, merchant in enumerate(merchants)
        ]

    def _signed(
        self, merchant: LocalAccount, nonce: int, items: int, sku: str, deadline: int
    ) -> SignedRequest:
        serials = [f"{nonce}-{i}" for i in range(items)]
        inputs = [
            (item_key(IdScheme.SKU, sku, serial), keccak(text=f"{sku} {serial}"), "")
            for serial in serials
        ]
        request = ForwardRequest(
            sender=merchant.address,
            to=str(self.registry.address),
            value=0,
            gas=GAS_PER_REQUEST + GAS_PER_ITEM * items,
            nonce=nonce,
            deadline=deadline,
            data=HexBytes(self.registry.encode_abi("registerItems", [inputs])),
        )
        signature = request.signed_by(merchant, self.domain)
        ids = tuple(
            "0x" + item_id_of_key(merchant.address, IdScheme.SKU, sku, serial).hex()
            for serial in serials
        )
        return SignedRequest(
            merchant=merchant.address,
            nonce=nonce,
            body=request.as_json(self.domain.chain_id, signature),
            id=request_id(request.digest(self.domain)),
            item_ids=ids,
        )

    # ------------------------------------------------------------------------------ the chain

    def executed(self, signers: list[str]) -> dict[tuple[str, int], list[Executed]]:
        """Every ``ExecutedForwardRequest`` log of these signers, by (signer lowercase, nonce)."""
        found: dict[tuple[str, int], list[Executed]] = defaultdict(list)
        for start in range(0, len(signers), 100):
            topics = ["0x" + bytes(12).hex() + s[2:].lower() for s in signers[start : start + 100]]
            logs = self.w3.eth.get_logs(
                {
                    "address": self.forwarder.address,
                    "topics": [EXECUTED_TOPIC, topics],
                    "fromBlock": 0,
                    "toBlock": "latest",
                }
            )
            for log in logs:
                data = bytes(log["data"])
                signer = "0x" + bytes(log["topics"][1])[-20:].hex()
                found[(signer, int.from_bytes(data[:32], "big"))].append(
                    Executed(
                        success=bool(int.from_bytes(data[32:64], "big")),
                        tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
                        block=int(log["blockNumber"]),
                    )
                )
        return dict(found)

    def registered(self, from_block: int) -> dict[str, list[str]]:
        """Every ``ItemRegistered`` log from ``from_block``: item id -> the merchants (lowercase)
        it was registered under, one entry per log."""
        logs = self.w3.eth.get_logs(
            {
                "address": self.registry.address,
                "topics": [ITEM_REGISTERED_TOPIC],
                "fromBlock": from_block,
                "toBlock": "latest",
            }
        )
        found: dict[str, list[str]] = defaultdict(list)
        for log in logs:
            item = "0x" + bytes(log["topics"][1]).hex()
            found[item].append("0x" + bytes(log["topics"][2])[-20:].hex())
        return dict(found)
