"""The service's web3 client (``app.chain.contracts.connect``) sends one request for each call
and estimate: web3's default client asks the node its chain id before and after each. A loaded
suite (``load_suite``) builds each contract object when first asked for, once."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from app.chain.contracts import connect, load_suite
from harness.nodes import ChainNode
from tests.app.conftest import Deployment


def _methods_sent(web3: Web3) -> list[str]:
    """The JSON-RPC methods ``web3`` sends, in order (from its first request: web3 keeps the
    function its middleware wraps once it has sent one)."""
    sent: list[str] = []
    make_request = web3.provider.make_request

    def counted(method: Any, params: Any) -> Any:
        sent.append(str(method))
        return make_request(method, params)

    web3.provider.make_request = counted  # type: ignore[method-assign]
    return sent


def test_a_call_and_an_estimate_are_one_request_each(anvil: ChainNode) -> None:
    clients = {"plain": Web3(Web3.HTTPProvider(anvil.rpc_url)), "ours": connect(anvil.rpc_url)}
    answers = {}
    for name, web3 in clients.items():
        sent = _methods_sent(web3)
        sender = web3.eth.accounts[0]
        transfer = {"from": sender, "to": sender, "value": 1}
        sent.clear()
        answers[name] = (web3.eth.call(transfer), web3.eth.estimate_gas(transfer), sent)
    assert answers["ours"][2] == ["eth_call", "eth_estimateGas"]
    # what the trimmed middleware cost: four more round trips for the same two answers
    assert answers["plain"][2].count("eth_chainId") == 4
    assert answers["ours"][:2] == answers["plain"][:2]


def test_a_suite_builds_each_contract_when_first_asked_for(deployment: Deployment) -> None:
    web3 = connect(deployment.rpc_url)
    built: list[str] = []
    contract = web3.eth.contract

    def counted(**named: Any) -> Any:
        built.append(named["address"])
        return contract(**named)

    web3.eth.contract = counted  # type: ignore[method-assign]
    suite = load_suite(web3, deployment.deployments_dir, deployment.abi_dir)
    assert built == [] and "ProductRegistry" in suite.contracts and "Nothing" not in suite.contracts
    assert set(suite.contracts) == set(deployment.addresses)
    registry = suite.registry
    assert suite.registry is registry and suite.contracts.get("ProductRegistry") is registry
    assert built == [registry.address]
    assert registry.address.lower() == deployment.addresses["ProductRegistry"].lower()
    assert (
        registry.functions.VERIFIER_ROLE().call()
        == suite["ProductRegistry"].functions.VERIFIER_ROLE().call()
    )
    assert len(built) == 1
