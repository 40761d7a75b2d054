"""Contract handles for the service, from ``abi/`` and the deployment record — no Ape at runtime."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from app.domain.deployments import DeploymentRecord, load_record
from app.domain.errors import TrustMallError

RPC_TIMEOUT_SECONDS = 10


class DeploymentMissing(TrustMallError, LookupError):
    """The chain the service talks to has no deployment record, or lacks a contract."""


def connect(rpc_url: str) -> Web3:
    """A web3 client for the node at ``rpc_url`` (HTTP), with a request timeout."""
    return Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": RPC_TIMEOUT_SECONDS}))


def load_abi(abi_dir: Path, name: str) -> list[dict[str, Any]]:
    abi: list[dict[str, Any]] = json.loads((abi_dir / f"{name}.json").read_text(encoding="utf-8"))
    return abi


@dataclass(frozen=True)
class Suite:
    """The deployed contracts on one chain, as web3 contract objects."""

    web3: Web3
    chain_id: int
    record: DeploymentRecord
    contracts: dict[str, Contract]

    def __getitem__(self, name: str) -> Contract:
        try:
            return self.contracts[name]
        except KeyError:
            raise DeploymentMissing(
                f"{name} is not deployed on chain {self.chain_id}: run `ape run deploy`"
            ) from None

    @property
    def registry(self) -> Contract:
        return self["ProductRegistry"]

    def deployed_at_block(self, name: str) -> int:
        return self.record.contracts[name].block_number


def load_suite(web3: Web3, deployments_dir: Path, abi_dir: Path) -> Suite:
    """The suite deployed on the chain ``web3`` talks to, from its deployment record."""
    chain_id = web3.eth.chain_id
    record = load_record(deployments_dir, chain_id)
    if record is None:
        raise DeploymentMissing(
            f"no deployment record for chain {chain_id} in {deployments_dir}: run `ape run deploy`"
        )
    contracts = {
        name: web3.eth.contract(
            address=Web3.to_checksum_address(entry.address), abi=load_abi(abi_dir, name)
        )
        for name, entry in record.contracts.items()
        if (abi_dir / f"{name}.json").exists()
    }
    return Suite(web3=web3, chain_id=chain_id, record=record, contracts=contracts)
