"""An outside client that knows only abi/ and deployments/ cannot perform attacks 1-5 of the threat
model (SECURITY.md) against the suite `make demo` deploys.

One Anvil and one deployment: `ape run deploy --dev-stablecoin` (its click command, run in this
process) on network ethereum:local:foundry at the node, the record in a directory of the test's,
the ABIs written beside it, the default keys of a local network included: the
deployer verifies, test accounts 6 and 9 attest with a quorum of 2. On a fresh chain this is what
the demo's `deploy --redeploy` then `deploy --dev-stablecoin` leave. From then on nothing of Ape or
of the project is used: plain web3.py, contracts found through deployments/1337.json and spoken to
through abi/*.json only, transactions signed locally with Anvil's well-known keys. The honest
parties set the scene (the verifier approves the merchants and grants a GS1 prefix, merchants
register and recall items, the bureau and the service attest a borrower, a lender funds the
pool); then the attacker tries each attack. Every attempt is a real transaction with its own gas
limit (nothing is simulated first), mined and refused: its receipt's status is 0, and its revert
data, traced, decodes against the error selectors of abi/*.json to the expected custom error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import decode, encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import HTTPProvider, Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder

from harness.ape_run import TEST_PRIVATE_KEYS, invoke
from harness.nodes import anvil_command, free_port, running
from scripts.deploy import cli as deploy_cli

DAY = 86_400
GAS = 3_000_000  # every attempt carries its own limit: it is mined, not estimated away
DUSD = 10**6
GTIN = "09506000134352"  # brand M's product; its GS1 company prefix is 9506000
PREFIX = "9506000"
SKU, SERIAL = 0, 1  # IProductRegistry.IdScheme, and the position of a key's serial
ETH = "0x0000000000000000000000000000000000000000"


def _account(index: int) -> LocalAccount:
    return Account.from_key(TEST_PRIVATE_KEYS[index])


DEPLOYER, MERCHANT, RIVAL, SHOPPER, BUYER = (_account(i) for i in (0, 2, 3, 4, 5))
ATTESTER, LENDER, COSIGNER = _account(6), _account(7), _account(9)
# The attacker's throwaway addresses (a second wallet, a fake merchant), funded by the deployer.
THROWAWAYS = [Account.from_key(keccak(text=f"outside client throwaway {i}")) for i in range(3)]


@dataclass
class Client:
    """What the outside client knows: the chain, the contracts of the record, their ABIs."""

    w3: Web3
    rpc_url: str
    contracts: dict[str, Any]
    errors: dict[bytes, tuple[str, list[dict[str, Any]]]]

    def __getitem__(self, name: str) -> Any:
        return self.contracts[name]

    def send(self, call: Any, sender: LocalAccount, value: int = 0) -> Any:
        tx = call.transact({"from": sender.address, "value": value, "gas": GAS})
        return self.w3.eth.wait_for_transaction_receipt(tx)

    def refused(self, call: Any, sender: LocalAccount, value: int = 0) -> tuple[Any, ...]:
        """Sends the transaction, checks it was mined and reverted, and returns its custom error
        decoded against the ABIs: (name, *arguments)."""
        receipt = self.send(call, sender, value)
        assert receipt["status"] == 0, "the attack went through"
        trace = self.w3.provider.make_request(
            "debug_traceTransaction",
            [receipt["transactionHash"].to_0x_hex(), {"tracer": "callTracer"}],
        )["result"]
        data = bytes.fromhex(str(trace["output"]).removeprefix("0x"))
        name, inputs = self.errors[data[:4]]
        values = decode([_type(i) for i in inputs], data[4:])
        return (name, *(_plain(v) for v in values))


def _type(item: dict[str, Any]) -> str:
    """The canonical ABI type of an input (tuples spelled out)."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in item["components"]) + ")" + kind[5:]
    return kind


def _plain(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    return value


def _client(rpc_url: str, deployments: Path, abi_dir: Path) -> Client:
    w3 = Web3(HTTPProvider(rpc_url))
    signers = [DEPLOYER, MERCHANT, RIVAL, SHOPPER, BUYER, ATTESTER, LENDER, COSIGNER, *THROWAWAYS]
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(signers), layer=0)
    record = json.loads((deployments / f"{w3.eth.chain_id}.json").read_text())
    contracts, errors = {}, {}
    for name, entry in record["contracts"].items():
        abi = json.loads((abi_dir / f"{name}.json").read_text())
        contracts[name] = w3.eth.contract(address=entry["address"], abi=abi)
        for item in (i for i in abi if i["type"] == "error"):
            signature = f"{item['name']}({','.join(_type(i) for i in item['inputs'])})"
            errors[keccak(text=signature)[:4]] = (item["name"], item["inputs"])
    return Client(w3, rpc_url, contracts, errors)


@dataclass(frozen=True)
class Scene:
    """What the honest parties set up: items by purpose, and the borrower's approved line."""

    client: Client
    items: dict[str, bytes]
    decoy: bytes


def _key(sku: str) -> tuple[int, str, str]:
    return (SKU, sku, "S1")


def _terms(client: Client, buyer: str, merchant: str, items: list[bytes], **changes: Any) -> tuple:
    """IOrderEscrow.OrderTerms in ETH: shipped within a day, delivered within three."""
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    values: dict[str, Any] = {
        "buyer": buyer, "merchant": merchant, "payer": buyer, "token": ETH, "amount": 10**16,
        "shipBy": now + DAY, "deliverBy": now + 3 * DAY, "disputeWindow": 2 * DAY,
        "feeBps": client["OrderEscrow"].functions.feeBps().call(),
        "orderRef": keccak(text=f"order {now} {len(items)} {buyer}"), "salt": now, "itemIds": items,
    }  # fmt: skip
    values.update(changes)
    return tuple(values.values())


def _approve_line(client: Client, borrower: LocalAccount) -> None:
    """The bureau and the service sign the borrower's attestation (EIP-712: the struct's fields
    from the ABI, the domain from the verifier's eip712Domain), and the borrower applies."""
    verifier, lines = client["AttestationVerifier"], client["CreditLines"]
    [apply] = [i for i in lines.abi if i.get("name") == "applyForCredit"]
    fields = [{"name": c["name"], "type": c["type"]} for c in apply["inputs"][0]["components"]]
    _, name, version, chain_id, contract, _, _ = verifier.functions.eip712Domain().call()
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    message = {
        "borrower": borrower.address, "identityHash": keccak(text="borrower's national id"),
        "band": 2, "modelId": keccak(text="trustmall-score-v3"), "reportHash": keccak(text="r"),
        "issuedAt": now - 60, "expiresAt": now + 30 * DAY, "nonce": now,
        "attesterSetVersion": verifier.functions.attesterSetVersion().call(),
    }  # fmt: skip
    domain = {"name": name, "version": version, "chainId": chain_id, "verifyingContract": contract}
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "CreditAttestation": fields,
        },
        "primaryType": "CreditAttestation", "domain": domain, "message": message,
    }  # fmt: skip
    signers = sorted((ATTESTER, COSIGNER), key=lambda a: int(a.address, 16))
    signable = encode_typed_data(full_message=typed)
    signatures = [bytes(a.sign_message(signable).signature) for a in signers]
    attestation = tuple(message[f["name"]] for f in fields)
    client.send(lines.functions.applyForCredit(attestation, signatures), borrower)


def _set_the_scene(client: Client) -> Scene:
    registry, w3 = client["ProductRegistry"], client.w3
    for account in THROWAWAYS:
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction(
                {"from": DEPLOYER.address, "to": account.address, "value": 10**18}
            )
        )
    for shop, owner in ((MERCHANT, "Northwind's register"), (RIVAL, "Rival's register")):
        identity = keccak(text=owner)
        client.send(registry.functions.approveMerchant(shop.address, "Shop", identity), DEPLOYER)
    client.send(registry.functions.grantGs1Prefix(PREFIX, MERCHANT.address), DEPLOYER)
    purposes = ("decoy order", "credit order", "sale", "unique")
    inputs = [(_key(f"SKU-{p}"), keccak(text=p), f"ipfs://{p}") for p in purposes]
    client.send(registry.functions.registerItems(inputs), MERCHANT)
    items = {
        p: registry.functions.itemIdOfKey(MERCHANT.address, _key(f"SKU-{p}")).call()
        for p in purposes
    }
    client.send(registry.functions.registerItem(_key("DECOY"), keccak(text="d"), ""), RIVAL)
    decoy = registry.functions.itemIdOfKey(RIVAL.address, _key("DECOY")).call()
    client.send(registry.functions.recallItem(decoy, keccak(text="recall")), RIVAL)
    token, vault = client["DevStablecoin"], client["CreditVault"]
    client.send(token.functions.mint(LENDER.address, 5_000 * DUSD), DEPLOYER)
    client.send(token.functions.approve(vault.address, 5_000 * DUSD), LENDER)
    client.send(vault.functions.deposit(5_000 * DUSD, LENDER.address), LENDER)
    _approve_line(client, SHOPPER)
    return Scene(client, items, decoy)


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """Anvil, the demo's deployment, and the honest parties' set-up."""
    base = tmp_path_factory.mktemp("outside-client")
    port = free_port()
    with running(anvil_command(port), port, base / "anvil.log") as node:
        deployed = invoke(
            deploy_cli, node.rpc_url, "--dev-stablecoin",
            "--deployments-dir", str(base / "deployments"), "--abi-dir", str(base / "abi"),
        )  # fmt: skip
        assert deployed.returncode == 0, deployed.output
        yield _set_the_scene(_client(node.rpc_url, base / "deployments", base / "abi"))


# ================================================================== the attacks


def test_attack1_a_buyer_cannot_list_another_merchants_recalled_item_as_a_decoy(
    scene: Scene,
) -> None:
    client, escrow = scene.client, scene.client["OrderEscrow"]
    terms = _terms(
        client, BUYER.address, MERCHANT.address, [scene.items["decoy order"], scene.decoy]
    )

    refused = client.refused(escrow.functions.open(terms), BUYER, value=terms[4])

    assert refused == ("RegistryItemNotOfMerchant", scene.decoy, MERCHANT.address)


def test_attack2_a_borrower_cannot_cash_out_credit(scene: Scene) -> None:
    """Into an order to its own second address (with no items, then with a real item), and
    through a real shop by confirming receipt before any delivery report."""
    client, lines, escrow = scene.client, scene.client["CreditLines"], scene.client["OrderEscrow"]
    pocket, lines_address = THROWAWAYS[0].address, lines.address
    token = client["DevStablecoin"].address
    credit: dict[str, Any] = {"payer": lines_address, "token": token, "amount": 500 * DUSD}
    bare = _terms(client, SHOPPER.address, pocket, [], **credit)
    listed = _terms(client, SHOPPER.address, pocket, [scene.items["credit order"]], **credit)
    shop = _terms(
        client, SHOPPER.address, MERCHANT.address, [scene.items["credit order"]], **credit
    )

    assert client.refused(lines.functions.drawToOrder(bare), SHOPPER) == (
        "CreditOrderWithoutItems",
    )
    assert client.refused(lines.functions.drawToOrder(listed), SHOPPER) == (
        "CreditMerchantNotActive", pocket,
    )  # fmt: skip
    assert client.send(lines.functions.drawToOrder(shop), SHOPPER)["status"] == 1
    order_id = escrow.functions.orderIdOf(shop).call()
    assert client.refused(escrow.functions.confirmReceipt(shop), SHOPPER) == (
        "EscrowDeliveryUnproven", order_id, 1,
    )  # fmt: skip
    assert escrow.functions.creditOf(MERCHANT.address, token).call() == 0
    assert escrow.functions.creditOf(pocket, token).call() == 0


def test_attack3_throwaway_addresses_cannot_record_a_sale_of_a_merchants_item(
    scene: Scene,
) -> None:
    client, registry = scene.client, scene.client["ProductRegistry"]
    buyer, fake_merchant = THROWAWAYS[1], THROWAWAYS[2]
    item = scene.items["sale"]
    terms = _terms(client, buyer.address, fake_merchant.address, [item], amount=1)

    refused = client.refused(client["OrderEscrow"].functions.open(terms), buyer, value=1)

    assert refused == ("RegistryItemNotOfMerchant", item, fake_merchant.address)
    assert registry.functions.itemOf(item).call()[2] == 0  # lastAction: None, no Sold


def test_attack4_a_rival_cannot_squat_a_brands_gs1_id_or_a_merchants_sku_id(scene: Scene) -> None:
    """R registers brand M's GTIN and serial; R registers M's SKU key (it gets an id of its
    own); R commits M's SKU id in a batch leaf of its own and activates it."""
    client, registry = scene.client, scene.client["ProductRegistry"]
    gs1 = (1, GTIN, "SN-1")
    assert client.refused(registry.functions.registerItem(gs1, keccak(text="m"), ""), RIVAL) == (
        "RegistryGs1PrefixNotGranted", RIVAL.address, GTIN,
    )  # fmt: skip
    key = _key("SKU-unique")
    client.send(registry.functions.registerItem(key, keccak(text="m"), ""), RIVAL)
    rivals = registry.functions.itemIdOfKey(RIVAL.address, key).call()
    assert rivals != scene.items["unique"]
    assert registry.functions.itemOf(scene.items["unique"]).call()[0] == MERCHANT.address

    stolen_key = _key("SKU-batch")
    stolen = registry.functions.itemIdOfKey(MERCHANT.address, stolen_key).call()
    own = registry.functions.itemIdOfKey(RIVAL.address, _key("SKU-rival")).call()
    meta = keccak(text="meta")
    leaves = [keccak(keccak(encode(["bytes32", "bytes32"], [i, meta]))) for i in (stolen, own)]
    root = keccak(b"".join(sorted(leaves)))
    client.send(registry.functions.registerBatch(root, 2, meta, "ipfs://batch"), RIVAL)
    activate = registry.functions.activateBatchItem(root, stolen_key, meta, [leaves[1]])
    derived = registry.functions.itemIdOfKey(RIVAL.address, stolen_key).call()
    assert client.refused(activate, RIVAL) == ("RegistryInvalidProof", root, derived)
    assert registry.functions.itemOf(stolen).call()[0] == ETH  # nobody's


def test_attack5_an_item_cannot_be_held_by_two_orders(scene: Scene) -> None:
    client, escrow = scene.client, scene.client["OrderEscrow"]
    item = scene.items["unique"]
    first = _terms(client, BUYER.address, MERCHANT.address, [item])
    second = _terms(client, SHOPPER.address, MERCHANT.address, [item], salt=2)
    assert client.send(escrow.functions.open(first), BUYER, value=first[4])["status"] == 1

    refused = client.refused(escrow.functions.open(second), SHOPPER, value=second[4])

    assert refused == ("RegistryItemHeld", item)
