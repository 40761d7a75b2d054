"""A Hardhat node serves our suite through Ape's generic node provider.

This is what a developer does with `make hardhat-node` (port 8546) and
`ape run deploy --network ethereum:local:node` (ape-config.yaml points the node provider at
127.0.0.1:8546); here the node gets a free port and the provider is pointed at it.

The node runs with the project's hardhat.config.cjs, which answers `eth_mining` truthfully so that
Ape's node provider reads receipts from Hardhat (see that file).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ape.exceptions import VirtualMachineError
from eth_abi.abi import encode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.crypto import keccak

from app.domain.ids import item_id_from_sku, item_key
from app.domain.orders import ZERO_ADDRESS
from app.domain.vocab import IdScheme
from harness.nodes import ChainNode, hardhat_command
from tests.conftest import node_on_a_free_port

# One Hardhat node for the module (it starts in seconds of CPU): its tests stay on one worker.
pytestmark = [pytest.mark.hardhat, pytest.mark.xdist_group("hardhat")]

AUTHENTIC = 0  # IProductRegistry.Verdict.Authentic


@pytest.fixture(scope="module")
def hardhat_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainNode]:
    log = tmp_path_factory.mktemp("hardhat") / "hardhat.log"
    with node_on_a_free_port(hardhat_command, log) as node:
        yield node


@pytest.fixture
def hardhat(networks: Any, hardhat_node: ChainNode) -> Iterator[Any]:
    """Ape connected to the Hardhat node through `ethereum:local:node`, for one test."""
    with networks.parse_network_choice(
        "ethereum:local:node",
        provider_settings={"uri": hardhat_node.rpc_url},
        disconnect_after=True,
    ) as provider:
        yield provider


@pytest.fixture
def registry(hardhat: Any, project: Any, admin: Any, verifier: Any, merchant: Any) -> Any:
    """A ProductRegistry deployed on the Hardhat node, with a verifier and an approved merchant."""
    contract = admin.deploy(project.ProductRegistry, admin.address, ZERO_ADDRESS)
    contract.grantRole(contract.VERIFIER_ROLE(), verifier.address, sender=admin)
    contract.approveMerchant(
        merchant.address, "Hardhat Goods", keccak(text="identity"), sender=verifier
    )
    return contract


def test_hardhat_node_is_reached_through_apes_node_provider_on_chain_1337(hardhat: Any) -> None:
    assert hardhat.name == "node"
    assert hardhat.network.name == "local"
    assert hardhat.chain_id == 1337
    assert hardhat.web3.client_version.startswith("HardhatNetwork/")


def test_item_registered_on_hardhat_verifies_as_authentic(
    registry: Any, merchant: Any, shopper: Any
) -> None:
    # The registry derives the id from the key under the registering merchant.
    item_id = item_id_from_sku(merchant.address, "SKU-HH", "0001")
    key = item_key(IdScheme.SKU, "SKU-HH", "0001")

    receipt = registry.registerItem(key, keccak(text="metadata"), "ipfs://item", sender=merchant)

    assert receipt.block_number > 0
    [event] = receipt.events.filter(registry.ItemRegistered)
    assert event.itemId == item_id
    assert event.merchant == merchant.address
    assert registry.verify(item_id, sender=shopper) == AUTHENTIC


def test_duplicate_registration_on_hardhat_reverts_with_item_already_registered(
    registry: Any, merchant: Any
) -> None:
    item_id = item_id_from_sku(merchant.address, "SKU-HH", "0002")
    key = item_key(IdScheme.SKU, "SKU-HH", "0002")
    registry.registerItem(key, keccak(text="metadata"), "ipfs://item", sender=merchant)

    # Ape's node provider does not decode Hardhat's revert format (an error whose `data` is an
    # object) into the contract's custom error, so `ape.reverts(registry.RegistryItem...)`
    # cannot match here; the revert data Hardhat reports is checked instead: the error's
    # selector and its argument, ABI-encoded.
    with pytest.raises(VirtualMachineError) as revert:
        registry.registerItem(key, keccak(text="metadata"), "ipfs://item", sender=merchant)

    assert revert_data(registry, "RegistryItemAlreadyRegistered", item_id) in str(revert.value)


def revert_data(contract: Any, error: str, *arguments: Any) -> str:
    """The revert data of a custom error of `contract`, as hex: selector + ABI-encoded args."""
    [abi] = [item for item in contract.contract_type.errors if item.name == error]
    selector = function_signature_to_4byte_selector(abi.selector)
    types = [argument.canonical_type for argument in abi.inputs]
    return "0x" + (selector + encode(types, list(arguments))).hex()
