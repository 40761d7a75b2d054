"""A Hardhat node serves our suite through Ape's generic node provider.

This is what a developer does with `make hardhat-node` (port 8546) and
`ape run deploy --network ethereum:local:node` (ape-config.yaml points the node provider at
127.0.0.1:8546); here the node gets a free port and the provider is pointed at it. The whole suite
is deployed by the deploy script's own command, and a short story is played on it with the
operators' scripts (tests/scripts play them at length on Anvil): an order paid, delivered and
released after its dispute window, and an order paid with an attested credit line.

The node runs with the project's hardhat.config.cjs, which answers `eth_mining` truthfully so that
Ape's node provider reads receipts from Hardhat (see that file).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ape import project
from ape.exceptions import VirtualMachineError
from eth_abi.abi import encode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from app.chain.contracts import connect
from app.domain.ids import item_id_from_sku, item_key
from app.domain.orders import ZERO_ADDRESS, read_order_file
from app.domain.vocab import IdScheme, LineStatus, OrderStatus
from harness.ape_run import (
    ADMIN,
    BUYER,
    BUYER_ACCOUNT,
    HARDHAT_NETWORK,
    LENDER,
    LENDER_ACCOUNT,
    MERCHANT,
    MERCHANT_ACCOUNT,
    Run,
    contract_types_kept,
    invoke,
)
from harness.nodes import ChainNode, hardhat_command
from tests.conftest import node_on_a_free_port
from tests.scripts.conftest import events_of
from tests.scripts.credit_support import contract, line_of
from tests.scripts.escrow_support import (
    DAY,
    advance_time,
    chain_time,
    credit_of,
    gas_paid,
    register_item,
    status_of,
    transact,
)

# One Hardhat node for the module (it starts in seconds of CPU): its tests stay on one worker.
pytestmark = [pytest.mark.hardhat, pytest.mark.xdist_group("hardhat")]

AUTHENTIC = 0  # IProductRegistry.Verdict.Authentic
# After each transaction to a contract, Ape's node provider looks for console.log calls in its
# trace; Hardhat offers only struct-log traces, which Ape parses for seconds a transaction. Our
# contracts log nothing to the console: traces from the transaction alone (Ape's "basic") do.
BASIC_TRACES: dict[str, object] = {"call_trace_approach": "basic"}


@pytest.fixture(scope="module", autouse=True)
def _hardhat_contracts_forgotten() -> Iterator[None]:
    """What Ape learns of the Hardhat node's contracts is forgotten after the module: both nodes
    are chain 1337 on Ape's "local" network, and the same deployer's contracts land at the same
    addresses, so a later test on Anvil would read its contract as the Hardhat one."""
    with contract_types_kept():
        yield


@pytest.fixture(scope="module")
def hardhat_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainNode]:
    log = tmp_path_factory.mktemp("hardhat") / "hardhat.log"
    with node_on_a_free_port(hardhat_command, log) as node:
        yield node


@pytest.fixture
def hardhat(networks: Any, hardhat_node: ChainNode) -> Iterator[Any]:
    """Ape connected to the Hardhat node through `ethereum:local:node`, for one test."""
    with networks.parse_network_choice(
        HARDHAT_NETWORK,
        provider_settings={"uri": hardhat_node.rpc_url, **BASIC_TRACES},
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


# ------------------------------------------------------------------ the suite and its scripts

SUITE = (
    "TrustMallForwarder", "ProductRegistry", "OrderEscrow", "DevStablecoin",
    "AttestationVerifier", "CreditVault", "CreditLines",
)  # fmt: skip
ETHER, USD = 10**18, 10**6
REPORT = {"bureau": "Example Credit Bureau", "subject": "J. Doe", "score": 712}


@dataclass(frozen=True)
class Suite:
    """The suite `ape run deploy` put on the Hardhat node: its record, and the scripts on it."""

    node: ChainNode
    dirs: dict[str, Path]
    w3: Web3

    def run(self, script: str, *args: str, status: int = 0) -> Run:
        """``ape run SCRIPT ARGS`` as the script's command, in this process, on the node; it
        exits with ``status``."""
        cli = importlib.import_module(f"scripts.{script}").cli
        where = ("--deployments-dir", str(self.dirs["deployments"]))
        run = invoke(
            cli, self.node.rpc_url, *args, *where, network=HARDHAT_NETWORK, settings=BASIC_TRACES
        )
        assert run.returncode == status, f"ape run {script} {' '.join(args)}:\n{run.output}"
        return run

    def contract(self, name: str) -> Contract:
        return contract(self.w3, self.dirs, name)


@pytest.fixture(scope="module")
def suite(hardhat_node: ChainNode, tmp_path_factory: pytest.TempPathFactory) -> Suite:
    """`ape run deploy --dev-stablecoin --fee-bps 0` (no fee: the merchant is paid the whole
    price), its record and ABIs in a temporary directory; the merchant approved by the verifier,
    the lender holding dev dollars."""
    base = tmp_path_factory.mktemp("hardhat-suite")
    dirs = {"deployments": base / "deployments", "abi": base / "abi"}
    found = Suite(hardhat_node, dirs, connect(hardhat_node.rpc_url))
    found.run("deploy", "--dev-stablecoin", "--fee-bps", "0", "--abi-dir", str(dirs["abi"]))
    found.run("ops", "approve-merchant", MERCHANT, "--name", "Hardhat Goods", "--identity", "KVK 2")
    mint = found.contract("DevStablecoin").functions.mint(LENDER, 10_000 * USD)
    transact(found.w3, mint, {"from": ADMIN})
    return found


def test_deploy_on_hardhat_records_every_contract_of_the_suite_with_code(suite: Suite) -> None:
    record = json.loads((suite.dirs["deployments"] / "1337.json").read_text())

    assert sorted(record["contracts"]) == sorted(SUITE)
    # Ape names a node provider given a URI by the URI: a choice that reaches this node again.
    assert (record["chain_id"], record["network"]) == (1337, f"ethereum:local:{suite.node.rpc_url}")
    for name in SUITE:
        assert suite.w3.eth.get_code(record["contracts"][name]["address"]), name


def test_order_on_hardhat_is_delivered_refused_early_and_released_to_the_merchant(
    suite: Suite, tmp_path: Path
) -> None:
    w3, escrow = suite.w3, suite.contract("OrderEscrow")
    item = register_item(suite.contract("ProductRegistry"), w3)
    order_file, held = tmp_path / "order.json", w3.eth.get_balance(escrow.address)

    suite.run("buyer", "open", "--merchant", MERCHANT, "--price", "0.5", "--item-id", item,
              "--ref", "PO-HH", "--dispute-window", "1d", "--order-file", str(order_file),
              "--account", BUYER_ACCOUNT)  # fmt: skip
    terms = read_order_file(order_file).terms
    assert w3.eth.get_balance(escrow.address) == held + ETHER // 2
    suite.run("merchant", "order", "ship", "--order-file", str(order_file), "--carrier", "1",
              "--tracking", "DHL 4711", "--account", MERCHANT_ACCOUNT)  # fmt: skip
    suite.run("carrier", "delivered", "--order", terms.order_id, "--carrier", "1",
              "--evidence", "POD signed")  # fmt: skip
    assert status_of(escrow, terms.order_id) is OrderStatus.DELIVERED

    # Released before the window is over: the script's simulation is refused, nothing is sent;
    # the revert data Hardhat reports names the error and until when the window runs.
    releasable_at = chain_time(w3) + DAY
    early = suite.run("merchant", "order", "release", "--order-file", str(order_file),
                      "--account", MERCHANT_ACCOUNT, status=2)  # fmt: skip
    assert "nothing was sent" in early.output
    assert f"EscrowReleaseTooEarly(orderId={terms.order_id}, releasableAt=" in early.output
    with pytest.raises(ContractLogicError) as refused:
        escrow.functions.release(terms.as_abi()).call({"from": MERCHANT})
    order_id = bytes.fromhex(terms.order_id[2:])
    too_early = revert_data(project.OrderEscrow, "EscrowReleaseTooEarly", order_id, releasable_at)
    assert too_early in str(refused.value)

    advance_time(w3, DAY + 1)
    suite.run("merchant", "order", "release", "--order-file", str(order_file),
              "--account", MERCHANT_ACCOUNT)  # fmt: skip
    assert status_of(escrow, terms.order_id) is OrderStatus.RELEASED
    assert credit_of(escrow, MERCHANT) == ETHER // 2  # the whole price: no fee on this suite
    balance = w3.eth.get_balance(Web3.to_checksum_address(MERCHANT))

    suite.run("merchant", "order", "withdraw", "--account", MERCHANT_ACCOUNT)

    (paid,) = events_of(escrow, "Withdrawn", account=MERCHANT)
    paid_out = balance + ETHER // 2 - gas_paid(w3, paid.transactionHash)
    assert w3.eth.get_balance(Web3.to_checksum_address(MERCHANT)) == paid_out
    assert w3.eth.get_balance(escrow.address) == held


def test_attested_credit_line_on_hardhat_pays_an_escrow_order(suite: Suite, tmp_path: Path) -> None:
    lines, vault = suite.contract("CreditLines"), suite.contract("CreditVault")
    report, attestation = tmp_path / "report.json", tmp_path / "attestation.json"
    report.write_text(json.dumps(REPORT), encoding="utf-8")
    suite.run("lender", "deposit", "--amount", "1000", "--account", LENDER_ACCOUNT)

    suite.run("bureau", "attest", "--borrower", BUYER, "--identity", "NL-BSN 1234.56.789",
              "--score", "712", "--model", "tm-score-v3", "--report", str(report),
              "--out", str(attestation))  # fmt: skip
    suite.run("bureau", "cosign", str(attestation))
    applied = suite.run("borrower", "apply", "--attestation", str(attestation),
                        "--account", BUYER_ACCOUNT)  # fmt: skip
    assert "approved under policy v1" in applied.output
    assert LineStatus(line_of(lines, BUYER)[0]) is LineStatus.ACTIVE

    item = register_item(suite.contract("ProductRegistry"), suite.w3)
    order_file, escrow = tmp_path / "order.json", suite.contract("OrderEscrow")
    dollar = suite.contract("DevStablecoin")
    held = dollar.functions.balanceOf(escrow.address).call()
    suite.run("borrower", "draw", "--merchant", MERCHANT, "--price", "250", "--item-id", item,
              "--ref", "armchair A-7", "--order-file", str(order_file),
              "--account", BUYER_ACCOUNT)  # fmt: skip

    terms = read_order_file(order_file).terms
    assert (terms.buyer, terms.payer, terms.amount) == (BUYER, lines.address, 250 * USD)
    assert status_of(escrow, terms.order_id) is OrderStatus.FUNDED
    assert line_of(lines, BUYER)[6] == 250 * USD  # principal
    assert vault.functions.lentAssets().call() == 250 * USD
    assert dollar.functions.balanceOf(escrow.address).call() == held + 250 * USD
