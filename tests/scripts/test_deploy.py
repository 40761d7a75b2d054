"""`ape run deploy` on Anvil: the record it writes, reuse on re-runs, --redeploy, role grants
(on each contract and across the suite, one key per job), revocation of the escrow's stale
registry ORACLE_ROLE, the admin that is never granted, the escrow's admin settings and
seller-record floors, the credit part (with a stablecoin only): verifier (two attesters,
quorum 2), vault, lines, their grants and the default policy with its cap on new credit; a step
the contract refuses, and an output that cannot be written, stop the run with one line.

The command runs in this process (the same click command `ape run deploy` runs, on the session's
Anvil through ``--provider-settings``): a process start costs seconds. Only the keyfile account,
unlocked from the environment as Ape does it, is run as a user runs it, through `ape run`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import Web3

from harness.ape_run import invoke
from harness.nodes import ChainNode
from scripts._lib.abi import compiled_abis
from scripts._lib.credit import default_policy
from scripts.deploy import cli, credit_options
from tests.scripts.conftest import (
    ADMIN,
    ARBITER,
    ATTESTER,
    COSIGNER,
    LOGISTICS_ORACLE,
    MERCHANT,
    ORACLE,
    RIVAL_MERCHANT,
    STRANGER,
    ApeRun,
    Run,
)
from tests.scripts.escrow_support import DAY, deploy_stable, nonce

CREDIT = ("DevStablecoin", "AttestationVerifier", "CreditVault", "CreditLines")
ETH = "0x0000000000000000000000000000000000000000"
ADMIN_DELAY = 2 * DAY

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def deploy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deploy-tests")


@pytest.fixture(scope="module")
def deploy(
    anvil: ChainNode, script_dirs: dict[str, Path], ape_run: ApeRun, deploy_dir: Path
) -> ApeRun:
    """`ape run deploy ARGS --deployments-dir <module's>` in this process, on the session's
    Anvil; ABIs go to the session's directory, never into the repository. (``ape_run``, of the
    session, is set up first: Ape's isolation wants session fixtures before module ones.)"""
    dirs = ["--deployments-dir", str(deploy_dir), "--abi-dir", str(script_dirs["abi"])]

    def run(*args: str) -> Run:
        return invoke(cli, anvil.rpc_url, *dirs, *args)

    return run


@pytest.fixture(scope="module")
def first_deploy(deploy: ApeRun) -> Run:
    run = deploy()
    assert run.returncode == 0, run.output
    return run


def record(deploy_dir: Path) -> dict[str, Any]:
    return dict(json.loads((deploy_dir / "1337.json").read_text()))


def has_role(w3: Web3, address: str, role_name: str, account: str) -> bool:
    abi = [
        {
            "name": "hasRole",
            "type": "function",
            "stateMutability": "view",
            "inputs": [{"name": "role", "type": "bytes32"}, {"name": "account", "type": "address"}],
            "outputs": [{"name": "", "type": "bool"}],
        },
    ]
    role = bytes(32) if role_name == "DEFAULT_ADMIN_ROLE" else keccak(text=role_name)
    return bool(w3.eth.contract(address=address, abi=abi).functions.hasRole(role, account).call())


def grant_role(w3: Web3, address: str, role_name: str, account: str) -> None:
    abi = [
        {
            "name": "grantRole",
            "type": "function",
            "stateMutability": "nonpayable",
            "inputs": [{"name": "role", "type": "bytes32"}, {"name": "account", "type": "address"}],
            "outputs": [],
        },
    ]
    call = w3.eth.contract(address=address, abi=abi).functions.grantRole(
        keccak(text=role_name), account
    )
    assert w3.eth.wait_for_transaction_receipt(call.transact({"from": ADMIN}))["status"] == 1


def read(w3: Web3, address: str, getter: str, output: str) -> Any:
    """A no-argument view of a deployed contract."""
    abi = [
        {
            "name": getter,
            "type": "function",
            "stateMutability": "view",
            "inputs": [],
            "outputs": [{"name": "", "type": output}],
        }
    ]
    return getattr(w3.eth.contract(address=address, abi=abi).functions, getter)().call()


def test_deploy_records_address_tx_block_compiler_and_roles(
    first_deploy: Run, deploy_dir: Path, w3: Web3
) -> None:
    data = record(deploy_dir)
    entry = data["contracts"]["ProductRegistry"]
    receipt = w3.eth.get_transaction_receipt(entry["tx_hash"])
    assert (data["schema_version"], data["chain_id"], data["deployer"]) == (1, 1337, ADMIN)
    assert data["network"] == "ethereum:local:foundry"
    assert receipt["contractAddress"] == entry["address"]
    assert receipt["blockNumber"] == entry["block_number"]
    assert entry["compiler"]["name"] == "solidity"
    assert entry["compiler"]["version"].startswith("0.8.37+commit.")
    assert entry["compiler"]["settings"]["evmVersion"] == "cancun"
    assert entry["code_hash"] == "0x" + keccak(w3.eth.get_code(entry["address"])).hex()
    forwarder = data["contracts"]["TrustMallForwarder"]
    assert entry["constructor_args"] == [ADMIN, forwarder["address"]]
    assert read(w3, entry["address"], "trustedForwarder", "address") == forwarder["address"]
    assert (forwarder["constructor_args"], forwarder["roles"]) == ([], {})
    escrow = data["contracts"]["OrderEscrow"]["address"]
    assert entry["roles"] == {
        "DEFAULT_ADMIN_ROLE": [ADMIN],
        "ESCROW_ROLE": [escrow],
        "ORACLE_ROLE": [ORACLE],
        "VERIFIER_ROLE": [ADMIN],
    }
    for role, holders in entry["roles"].items():
        assert all(has_role(w3, entry["address"], role, holder) for holder in holders)


def test_deploy_adds_the_escrow_with_a_logistics_oracle_of_its_own_and_the_registry_escrow_role(
    first_deploy: Run, deploy_dir: Path, w3: Web3
) -> None:
    contracts = record(deploy_dir)["contracts"]
    registry, escrow = contracts["ProductRegistry"], contracts["OrderEscrow"]
    assert escrow["block_number"] > registry["block_number"]
    assert escrow["constructor_args"] == [ADMIN, registry["address"], ADMIN]
    assert escrow["roles"] == {
        "ARBITER_ROLE": [ARBITER],
        "DEFAULT_ADMIN_ROLE": [ADMIN],
        "ORACLE_ROLE": [LOGISTICS_ORACLE],
    }
    for role, holders in escrow["roles"].items():
        assert all(has_role(w3, escrow["address"], role, holder) for holder in holders)
    # One key, one contract: the custody oracle reports nothing to the escrow, and the escrow
    # reaches the registry through ESCROW_ROLE alone.
    assert not has_role(w3, escrow["address"], "ORACLE_ROLE", ORACLE)
    assert has_role(w3, registry["address"], "ESCROW_ROLE", escrow["address"])
    assert not has_role(w3, registry["address"], "ORACLE_ROLE", escrow["address"])
    assert escrow["settings"] == {
        "allowedTokens": [],
        "arbitrationPeriod": 14 * DAY,
        "defaultAdminDelay": ADMIN_DELAY,
        "disputeWindowBounds": [DAY, 30 * DAY],
        "feeBps": 100,
        "feeRecipient": ADMIN,
        "sellerRecordFloors": {ETH: 10**15},
        "shipByHorizon": 60 * DAY,
    }
    assert registry["settings"] == {"defaultAdminDelay": ADMIN_DELAY}
    assert read(w3, escrow["address"], "feeBps", "uint16") == 100
    assert "logistics oracle " + LOGISTICS_ORACLE in first_deploy.output


def test_deploy_without_a_stablecoin_leaves_the_credit_part_out(
    first_deploy: Run, deploy_dir: Path
) -> None:
    assert "credit: left out" in first_deploy.output
    assert set(record(deploy_dir)["contracts"]) == {
        "TrustMallForwarder",
        "ProductRegistry",
        "OrderEscrow",
    }


def test_deploy_rerun_reuses_live_deployment_and_sends_nothing(
    first_deploy: Run, deploy: ApeRun, deploy_dir: Path, w3: Web3
) -> None:
    before = (deploy_dir / "1337.json").read_bytes()
    nonce = w3.eth.get_transaction_count(ADMIN)

    run = deploy()

    assert run.returncode == 0, run.output
    assert "ProductRegistry: reusing" in run.output
    assert "OrderEscrow: reusing" in run.output
    assert (deploy_dir / "1337.json").read_bytes() == before
    assert w3.eth.get_transaction_count(ADMIN) == nonce


def test_deploy_rerun_grants_a_missing_role_to_a_new_verifier(
    first_deploy: Run, deploy: ApeRun, deploy_dir: Path, w3: Web3
) -> None:
    address = record(deploy_dir)["contracts"]["ProductRegistry"]["address"]

    run = deploy("--verifier", STRANGER)

    assert run.returncode == 0, run.output
    entry = record(deploy_dir)["contracts"]["ProductRegistry"]
    assert entry["address"] == address
    assert has_role(w3, address, "VERIFIER_ROLE", STRANGER)
    assert entry["roles"]["VERIFIER_ROLE"] == sorted([ADMIN, STRANGER])


def test_deploy_rerun_applies_escrow_settings_and_allow_lists_a_token_then_keeps_them(
    first_deploy: Run, deploy: ApeRun, deploy_dir: Path, w3: Web3
) -> None:
    stable = deploy_stable(w3)
    escrow = record(deploy_dir)["contracts"]["OrderEscrow"]["address"]

    run = deploy(
        "--fee-bps", "250",
        "--fee-recipient", MERCHANT, "--dispute-window-bounds", "2h:10d",
        "--arbitration-period", "3d", "--allow-token", stable.address, "--arbiter", STRANGER,
        "--seller-record-floor", "ETH=0.5", "--seller-record-floor", f"{stable.address}=2.5",
        "--ship-by-horizon", "90d",
    )  # fmt: skip

    assert run.returncode == 0, run.output
    entry = record(deploy_dir)["contracts"]["OrderEscrow"]
    assert entry["address"] == escrow
    assert entry["settings"] == {
        "allowedTokens": [stable.address],
        "arbitrationPeriod": 3 * DAY,
        "defaultAdminDelay": ADMIN_DELAY,
        "disputeWindowBounds": [2 * 3600, 10 * DAY],
        "feeBps": 250,
        "feeRecipient": MERCHANT,
        "sellerRecordFloors": {ETH: 5 * 10**17, stable.address: 2_500_000},
        "shipByHorizon": 90 * DAY,
    }
    assert read_floor(w3, escrow, stable.address) == 2_500_000
    assert read(w3, escrow, "feeBps", "uint16") == 250
    assert read(w3, escrow, "arbitrationPeriod", "uint32") == 3 * DAY
    assert read(w3, escrow, "feeRecipient", "address") == MERCHANT
    assert entry["roles"]["ARBITER_ROLE"] == sorted([ARBITER, STRANGER])
    before, sent = (deploy_dir / "1337.json").read_bytes(), nonce(w3, ADMIN)

    rerun = deploy()

    assert rerun.returncode == 0, rerun.output
    assert (deploy_dir / "1337.json").read_bytes() == before
    assert nonce(w3, ADMIN) == sent


def read_floor(w3: Web3, escrow: str, token: str) -> int:
    abi = [
        {
            "name": "sellerRecordFloor",
            "type": "function",
            "stateMutability": "view",
            "inputs": [{"name": "token", "type": "address"}],
            "outputs": [{"name": "", "type": "uint256"}],
        }
    ]
    contract = w3.eth.contract(address=escrow, abi=abi)
    return int(contract.functions.sellerRecordFloor(token).call())


def test_deploy_rerun_revokes_a_stale_registry_oracle_role_of_the_escrow(
    first_deploy: Run, deploy: ApeRun, deploy_dir: Path, w3: Web3
) -> None:
    contracts = record(deploy_dir)["contracts"]
    registry, escrow = contracts["ProductRegistry"]["address"], contracts["OrderEscrow"]["address"]
    # What an older suite granted: the escrow recorded sales through the registry's oracle role.
    grant_role(w3, registry, "ORACLE_ROLE", escrow)

    run = deploy()

    assert run.returncode == 0, run.output
    assert f"revoked ORACLE_ROLE from {escrow}" in run.output
    assert not has_role(w3, registry, "ORACLE_ROLE", escrow)
    assert has_role(w3, registry, "ESCROW_ROLE", escrow)
    assert escrow not in record(deploy_dir)["contracts"]["ProductRegistry"]["roles"]["ORACLE_ROLE"]


def test_deploy_by_another_account_than_the_admin_explains_the_two_step_handover(
    first_deploy: Run, deploy: ApeRun, deploy_dir: Path, w3: Web3
) -> None:
    before, sent = (deploy_dir / "1337.json").read_bytes(), nonce(w3, STRANGER)

    run = deploy("--account", "TEST::4")

    assert run.returncode == 2
    assert f"its admin is {ADMIN}, not {STRANGER}" in run.output
    assert "beginDefaultAdminTransfer" in run.output and "2d later" in run.output
    assert "Traceback" not in run.output
    assert (deploy_dir / "1337.json").read_bytes() == before
    assert nonce(w3, STRANGER) == sent


class _Network:
    is_local = False
    choice = "ethereum:sepolia:node"


def test_quorum_one_is_refused_outside_local_networks(tmp_path: Path) -> None:
    with pytest.raises(click.BadParameter, match="quorum 1 is for local networks only"):
        credit_options(
            _Network(),
            tmp_path,
            {"stablecoin": None, "dev_stablecoin": False, "attesters": (STRANGER,), "quorum": 1},
        )


def test_redeploy_deploys_a_new_contract_with_the_oracles_from_the_environment(
    first_deploy: Run,
    deploy: ApeRun,
    deploy_dir: Path,
    w3: Web3,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = record(deploy_dir)["contracts"]["ProductRegistry"]

    monkeypatch.setenv("TRUSTMALL_ORACLE_ADDRESS", RIVAL_MERCHANT)
    monkeypatch.setenv("TRUSTMALL_LOGISTICS_ORACLE_ADDRESS", MERCHANT)

    run = deploy("--redeploy")

    assert run.returncode == 0, run.output
    new = record(deploy_dir)["contracts"]["ProductRegistry"]
    assert new["address"] != old["address"]
    assert new["tx_hash"] != old["tx_hash"]
    assert new["block_number"] > old["block_number"]
    assert new["bytecode_hash"] == old["bytecode_hash"]
    # A new forwarder with it: the old registry's, immutable, is not carried over.
    forwarder = record(deploy_dir)["contracts"]["TrustMallForwarder"]["address"]
    assert new["constructor_args"] == [ADMIN, forwarder] != old["constructor_args"]
    escrow = record(deploy_dir)["contracts"]["OrderEscrow"]
    assert new["roles"]["ORACLE_ROLE"] == [RIVAL_MERCHANT]
    assert has_role(w3, new["address"], "ORACLE_ROLE", RIVAL_MERCHANT)
    assert escrow["roles"]["ORACLE_ROLE"] == [MERCHANT]
    # The escrow follows its registry: deployed anew, pointing at the new one.
    assert escrow["constructor_args"][1] == new["address"]
    assert read(w3, escrow["address"], "registry", "address") == new["address"]
    assert escrow["settings"]["feeBps"] == 100


def test_deploy_writes_abi_files_of_the_compiled_contracts(
    first_deploy: Run, script_dirs: dict[str, Path]
) -> None:
    written = {p.name: p.read_text() for p in script_dirs["abi"].glob("*.json")}
    assert written == compiled_abis()


def test_deploy_signs_with_a_keyfile_account_unlocked_by_its_passphrase_variable(
    ape_run: ApeRun, tmp_path: Path
) -> None:
    # Anvil's sixth default key (public test material), in an Ape keyfile under a scratch
    # data folder; APE_ACCOUNTS_<alias>_PASSPHRASE unlocks it with no prompt (stdin is closed).
    key = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"
    (tmp_path / "ape" / "accounts").mkdir(parents=True)
    keyfile = Account.encrypt(key, "correct horse")
    (tmp_path / "ape" / "accounts" / "ops.json").write_text(json.dumps(keyfile))
    deployer = Account.from_key(key).address

    run = ape_run(
        "deploy",
        "--account",
        "ops",
        "--deployments-dir",
        str(tmp_path / "deployments"),
        extra_env={
            "APE_DATA_FOLDER": str(tmp_path / "ape"),
            "APE_ACCOUNTS_ops_PASSPHRASE": "correct horse",
        },
    )

    assert run.returncode == 0, run.output
    entry = record(tmp_path / "deployments")["contracts"]["ProductRegistry"]
    assert entry["deployer"] == deployer
    assert entry["roles"]["DEFAULT_ADMIN_ROLE"] == [deployer]


def test_deploy_with_dev_stablecoin_adds_credit_with_its_grants_and_the_default_policy(
    first_deploy: Run, deploy: ApeRun, deploy_dir: Path, w3: Web3
) -> None:
    before = record(deploy_dir)["contracts"]

    run = deploy("--dev-stablecoin")

    assert run.returncode == 0, run.output
    contracts = record(deploy_dir)["contracts"]
    for name in ("ProductRegistry", "OrderEscrow"):
        assert contracts[name]["address"] == before[name]["address"], f"{name} was reused"
    dollar, verifier, vault, lines = (contracts[name] for name in CREDIT)
    escrow = contracts["OrderEscrow"]
    assert lines["constructor_args"] == [
        ADMIN, verifier["address"], vault["address"], escrow["address"],
    ]  # fmt: skip
    assert vault["constructor_args"] == [dollar["address"], ADMIN]
    # Two attesters (the service's and the bureau's), two signatures per attestation.
    assert verifier["constructor_args"] == [ADMIN, [ATTESTER, COSIGNER], "2"]
    # What the lines need on the others, granted and recorded.
    for holder, role, entry in (
        (verifier, "CONSUMER_ROLE", verifier),
        (vault, "LINE_ROLE", vault),
        (escrow, "FUNDER_ROLE", escrow),
    ):
        assert entry["roles"][role] == [lines["address"]]
        assert has_role(w3, holder["address"], role, lines["address"])
    assert lines["roles"] == {
        "DEFAULT_ADMIN_ROLE": [ADMIN], "POLICY_ROLE": [ADMIN], "RISK_ROLE": [ADMIN],
    }  # fmt: skip
    assert dollar["roles"] == {"DEFAULT_ADMIN_ROLE": [ADMIN], "MINTER_ROLE": [ADMIN]}
    # Settings: the stablecoin allow-listed for orders paid with credit, with a floor of one
    # whole stablecoin for seller records; the verifier's set; the vault's exit cooldown.
    assert dollar["address"] in escrow["settings"]["allowedTokens"]
    assert escrow["settings"]["sellerRecordFloors"][dollar["address"]] == 10**6
    assert read_floor(w3, escrow["address"], dollar["address"]) == 10**6
    assert vault["settings"] == {
        "asset": dollar["address"], "defaultAdminDelay": ADMIN_DELAY, "redeemCooldown": 3 * DAY,
    }  # fmt: skip
    assert verifier["settings"] == {
        "attesterSetVersion": read(w3, verifier["address"], "attesterSetVersion", "uint64"),
        "attesters": sorted([ATTESTER, COSIGNER]),
        "defaultAdminDelay": ADMIN_DELAY,
        "quorum": 2,
    }
    assert read(w3, dollar["address"], "decimals", "uint8") == 6
    policy = lines["settings"]["policy"]
    assert policy == {"version": 1, **default_policy(6).as_json()}
    assert (policy["capPeriod"], policy["periodCap"]) == (DAY, 50_000 * 10**6)
    assert read(w3, lines["address"], "currentPolicyVersion", "uint16") == 1
    assert "Credit policy v1: minimum band 1" in run.output
    assert "new credit at most 50000 dUSD per 1d" in run.output


def test_a_step_the_contract_refuses_stops_the_run_with_its_custom_error_and_nothing_sent(
    first_deploy: Run, deploy: ApeRun, deploy_dir: Path, w3: Web3
) -> None:
    deploy("--dev-stablecoin")  # the credit part, if an earlier test did not add it
    before, sent = (deploy_dir / "1337.json").read_bytes(), nonce(w3, ADMIN)

    run = deploy("--quorum", "5")

    assert run.returncode == 2, run.output
    assert "AttestationVerifier at " in run.output
    assert "refuses to set quorum to 5" in run.output
    assert "AttestationInvalidQuorum(quorum=5, attesterCount=2)" in run.output
    assert "Traceback" not in run.output
    assert (deploy_dir / "1337.json").read_bytes() == before
    assert nonce(w3, ADMIN) == sent


def test_an_output_directory_that_cannot_be_written_stops_the_run_before_anything_is_sent(
    first_deploy: Run, deploy: ApeRun, tmp_path: Path, w3: Web3
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    sent = nonce(w3, ADMIN)

    for option in ("--abi-dir", "--deployments-dir"):
        run = deploy(option, str(blocker / "out"))

        assert run.returncode == 2, run.output
        assert option in run.output and "Traceback" not in run.output
        assert nonce(w3, ADMIN) == sent


def test_a_fresh_suite_refused_a_setting_is_resumed_by_a_rerun_that_deploys_nothing_twice(
    anvil: ChainNode, script_dirs: dict[str, Path], tmp_path: Path, w3: Web3
) -> None:
    dirs = ["--deployments-dir", str(tmp_path), "--abi-dir", str(script_dirs["abi"])]

    refused = invoke(cli, anvil.rpc_url, *dirs, "--fee-bps", "5000")
    deployed = record(tmp_path)["contracts"]
    sent = nonce(w3, ADMIN)
    resumed = invoke(cli, anvil.rpc_url, *dirs, "--fee-bps", "250")

    assert refused.returncode == 1, refused.output  # the contracts exist: sent before the stop
    assert "EscrowFeeAboveCap(feeBps=5000, cap=1000)" in refused.output
    assert "re-run to resume" in refused.output
    assert resumed.returncode == 0, resumed.output
    assert "deployed at" not in resumed.output
    after = record(tmp_path)["contracts"]
    assert {n: c["address"] for n, c in after.items()} == {
        n: c["address"] for n, c in deployed.items()
    }
    assert read(w3, after["OrderEscrow"]["address"], "feeBps", "uint16") == 250
    assert nonce(w3, ADMIN) > sent  # the settings and roles the first run never sent
