"""Contract handles for the service, from ``abi/`` and the deployment record — no Ape at runtime."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from web3 import Web3
from web3.contract import Contract

from app.domain.deployments import DeploymentRecord, load_record
from app.domain.errors import TrustMallError
from app.domain.networks import network_profile

RPC_TIMEOUT_SECONDS = 10
# Connections kept open to the node: one per thread that may call it at once (the API's
# threadpool holds 40).
RPC_CONNECTIONS = 48


class DeploymentMissing(TrustMallError, LookupError):
    """The chain the service talks to has no deployment record, or lacks a contract."""


# web3's default middleware this project's clients go without:
# - "validation" asks the node its chain id before and after every call, estimate and
#   transaction, to compare it with the transaction's own field: three round trips for one
#   eth_call. The node refuses a signed transaction for another chain itself, and the service
#   checks the node's chain id once, when it loads the suite (``load_suite``).
# - "ens_name_to_address" looks for ENS names in every request's values; nothing here uses any.
UNUSED_MIDDLEWARE = ("validation", "ens_name_to_address")


def connect(rpc_url: str, timeout: float = RPC_TIMEOUT_SECONDS) -> Web3:
    """A web3 client for the node at ``rpc_url`` (HTTP), with a request timeout in seconds."""
    provider = Web3.HTTPProvider(
        rpc_url, request_kwargs={"timeout": timeout}, session=rpc_session(rpc_url)
    )
    return without_unused_middleware(Web3(provider))


def without_unused_middleware(web3: Web3) -> Web3:
    """``web3`` without the middleware of ``UNUSED_MIDDLEWARE`` (those it still has)."""
    for name in UNUSED_MIDDLEWARE:
        if name in web3.middleware_onion:
            web3.middleware_onion.remove(name)
    return web3


def rpc_session(rpc_url: str) -> requests.Session:
    """One HTTP session for every thread's calls to ``rpc_url``, its proxy and CA bundle read
    from the environment once, here. A session that trusts the environment scans every variable
    on each request (``HTTP_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``...): a tenth of the
    work of accepting a merchant's request (bench/signed_requests.py)."""
    session = requests.Session()
    session.proxies = dict(requests.utils.get_environ_proxies(rpc_url))
    session.verify = ca_bundle() or True
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=RPC_CONNECTIONS)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def ca_bundle() -> str | None:
    """The CA bundle the environment names for HTTPS (as ``requests`` reads it), if any."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")


def load_abi(abi_dir: Path, name: str) -> list[dict[str, Any]]:
    abi: list[dict[str, Any]] = json.loads((abi_dir / f"{name}.json").read_text(encoding="utf-8"))
    return abi


class DeployedContracts(Mapping[str, Contract]):
    """A deployment's contracts by name, each built as a web3 contract object when first asked
    for. web3 takes tens of milliseconds to build one from a large ABI (OrderEscrow's: 60 ms, the
    whole suite's: 200), and most users of a suite call two or three of them."""

    def __init__(
        self, web3: Web3, addresses: dict[str, str], abis: dict[str, list[dict[str, Any]]]
    ) -> None:
        self._web3 = web3
        self._addresses = addresses
        self._abis = abis
        self._built: dict[str, Contract] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Contract:
        contract = self._built.get(name)
        if contract is not None:
            return contract
        address = Web3.to_checksum_address(self._addresses[name])
        with self._lock:
            if (contract := self._built.get(name)) is None:
                contract = self._web3.eth.contract(address=address, abi=self._abis[name])
                self._built[name] = contract
            return contract

    def __contains__(self, name: object) -> bool:
        return name in self._addresses

    def __iter__(self) -> Iterator[str]:
        return iter(self._addresses)

    def __len__(self) -> int:
        return len(self._addresses)


@dataclass(frozen=True)
class Suite:
    """The deployed contracts on one chain, as web3 contract objects."""

    web3: Web3
    chain_id: int
    record: DeploymentRecord
    contracts: Mapping[str, Contract]

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


def load_suite(
    web3: Web3, deployments_dir: Path, abi_dir: Path, expected_chain_id: int | None = None
) -> Suite:
    """The suite deployed on the chain ``web3`` talks to, from its deployment record. The node
    must serve ``expected_chain_id`` (the settings' ``chain_id``); unset, a node serving a public
    chain is refused: the service would run it without that network's rules."""
    chain_id = web3.eth.chain_id
    if expected_chain_id is not None and chain_id != expected_chain_id:
        raise DeploymentMissing(f"the node serves chain {chain_id}, not {expected_chain_id}")
    if expected_chain_id is None and (profile := network_profile(chain_id)).public:
        raise DeploymentMissing(
            f"the node serves {profile.label}, a public network: set TRUSTMALL_CHAIN_ID="
            f"{chain_id} so that its rules apply (keystores only, confirmation depth)"
        )
    record = load_record(deployments_dir, chain_id)
    if record is None:
        raise DeploymentMissing(
            f"no deployment record for chain {chain_id} in {deployments_dir}: run `ape run deploy`"
        )
    named = [name for name in record.contracts if (abi_dir / f"{name}.json").exists()]
    contracts = DeployedContracts(
        web3,
        {name: record.contracts[name].address for name in named},
        {name: load_abi(abi_dir, name) for name in named},
    )
    return Suite(web3=web3, chain_id=chain_id, record=record, contracts=contracts)


class SuiteCache:
    """One app's deployed suite, loaded on first use and kept: loading parses every ABI and
    builds every contract class, tens of milliseconds a request for the features that read the
    chain now and then (a bureau's report, a carrier's unknown subject). A feature that finds the
    node failing ``forget``s it: a restarted node may serve another deployment."""

    def __init__(self) -> None:
        self._suite: Suite | None = None
        self._lock = threading.Lock()

    def get(
        self, rpc_url: str, deployments_dir: Path, abi_dir: Path, chain_id: int | None
    ) -> Suite:
        """The suite, loading it if none is kept (``load_suite``'s errors pass through, and
        nothing is kept then: a deployment written later is found)."""
        with self._lock:
            if self._suite is None:
                self._suite = load_suite(connect(rpc_url), deployments_dir, abi_dir, chain_id)
            return self._suite

    def forget(self) -> None:
        with self._lock:
            self._suite = None
