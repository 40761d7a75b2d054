"""Every command, given bad inputs, stops with one `Error:` line, exit status 2, no traceback and
nothing sent: wrong addresses and ids, missing or malformed files, outputs that cannot be
written, unknown orders, and calls the contracts refuse (explained from their own errors)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from web3 import Web3

from harness.ape_run import fresh_command
from tests.scripts.conftest import (
    BUYER_ACCOUNT,
    MERCHANT,
    MERCHANT_ACCOUNT,
    STRANGER_ACCOUNT,
    ApeRun,
    write_csv,
)

pytestmark = pytest.mark.anvil

UNKNOWN = "0x" + "ab" * 32
ORDER = ("--order", UNKNOWN)
B = ("--account", BUYER_ACCOUNT)
M = ("--account", MERCHANT_ACCOUNT)
OPEN = ("buyer", "open", "--merchant", MERCHANT, "--price", "1", "--ref", "r")
ATTEST = ("bureau", "attest", "--borrower", MERCHANT, "--identity", "I", "--score", "700",
          "--model", "m", "--out", "{tmp}/a.json")  # fmt: skip

# (arguments, a fragment of the error); {tmp} is the test's folder, holding `items.csv` (a
# header typo), `file` (a plain file) and `taken.json` (an existing output).
CASES: list[tuple[tuple[str, ...], str]] = [
    (("ops", "approve-merchant", "0x1234", "--name", "X", "--identity", "I"), "MERCHANT: '0x1234'"),
    (("ops", "approve-merchant", "TEST::99", "--name", "X", "--identity", "I"), "TEST::99"),
    (("ops", "approve-merchant", MERCHANT, "--name", "X"), "--identity"),
    (("ops", "approve-merchant", MERCHANT, "--name", "X", "--identity", "I"), "AlreadyApproved"),
    (("ops", "grant-prefix", "12", MERCHANT), "RegistryInvalidGs1Prefix"),
    (("ops", "revoke-prefix", "1234567"), "RegistryGs1PrefixNotHeld"),
    (("ops", "reassign-item", "0x12", "--to", "0", "--reason", "r"), "ITEM_ID"),
    (("ops", "reassign-item", UNKNOWN, "--reason", "r"), "Missing option '--to'"),
    (("merchant", "register", "{tmp}/nope.csv", *M), "no such file"),
    (("merchant", "register", "{tmp}/items.csv", *M), "did you mean 'sku'"),
    (("merchant", "register", "{tmp}/good.csv", "--manifest", "{tmp}/file/m.json", *M), "file"),
    (("merchant", "register", "{tmp}/good.csv", "--account", STRANGER_ACCOUNT), "NotActive"),
    (
        ("merchant", "register", "{tmp}/good.csv", "--batch", "--manifest", "{tmp}/file/m", *M),
        "file",
    ),
    (("merchant", "activate", "{tmp}/good.csv", *M), "MANIFEST_FILE"),
    (("merchant", "custody", "{tmp}/nope.csv", *M), "no such file"),
    (("merchant", "recall", "--reason", "r", *M), "name one target"),
    (("merchant", "recall", "--item-id", "0x12", "--reason", "r", *M), "--item-id"),
    (("merchant", "publish", "{tmp}/nope.json", *M), "no such file"),
    (("merchant", "status", "{tmp}/nope.csv", *M), "no such file"),
    (("merchant", "order", "ship", "--carrier", "1", "--tracking", "t", *M), "name the order"),
    (("merchant", "order", "release", "--order", "0x12", *M), "--order"),
    (("merchant", "order", "assign-carrier", *ORDER, "--carrier", "1", *M), "no order"),
    (("merchant", "order", "withdraw", "--token", "gold", *M), "--token"),
    (("buyer", "open", "--merchant", MERCHANT, "--price", "abc", "--ref", "r", *B), "--price"),
    (("buyer", "open", "--merchant", "nobody", "--price", "1", "--ref", "r", *B), "--merchant"),
    (("buyer", "open", "--merchant", MERCHANT, "--price", "1", *B), "--item-id"),
    ((*OPEN, "--order-file", "{tmp}/taken.json", *B), "never overwritten"),
    ((*OPEN, "--ship-by", "soon", *B), "--ship-by"),
    (("buyer", "open", "--merchant", MERCHANT, "--price", "100000", "--ref", "r", *B), "holds"),
    (("buyer", "status", "--order-file", "{tmp}/nope.json", *B), "--order-file"),
    (("buyer", "confirm", *ORDER, *B), "no order"),
    (("buyer", "cancel", "--order-file", "{tmp}/items.csv", *B), "not an order file"),
    (("buyer", "dispute", *ORDER, *B), "--evidence"),
    (("buyer", "offer", *ORDER, "--buyer-bps", "10", "--expires-in", "later", *B), "duration"),
    (("buyer", "accept", *ORDER, "--buyer-bps", "10", *B), "no order"),
    (("buyer", "withdraw-offer", *ORDER, *B), "no order"),
    (("buyer", "evidence", *ORDER, "--evidence-file", "{tmp}/nope", *B), "--evidence-file"),
    (("buyer", "refund-recalled", *ORDER, *B), "no order"),
    (("buyer", "withdraw", "--token", MERCHANT, *B), "no contract code at token"),
    (("buyer", "withdraw", "--account", STRANGER_ACCOUNT), "NothingToWithdraw"),
    (("buyer", "list", "--escrow", "0x12", *B), "--escrow"),
    (("carrier", "shipped", "--order", "0x12", "--carrier", "1", "--evidence", "e"), "--order"),
    (
        (
            "carrier",
            "delivered",
            *ORDER,
            *ORDER,
            "--carrier",
            "1",
            "--evidence",
            "e",
            "--item",
            "0",
        ),
        "--item goes with exactly one --order",
    ),
    (("carrier", "breach", *ORDER, "--carrier", "1", "--evidence", "e", *B), "ORACLE_ROLE"),
    (("arbiter", "settle", "--buyer-bps", "1", "--ruling", "r"), "name the order"),
    (("arbiter", "resolve-expired", "--all", *ORDER), "--all goes without"),
    (("arbiter", "status", *ORDER), "no order"),
    (("lender", "request-redeem", "--account", "TEST::7"), "one of --shares"),
    (
        ("borrower", "apply", "--attestation", "{tmp}/nope.json", "--account", "TEST::6"),
        "'--attestation'",
    ),
    (("borrower", "apply", "--attestation", "{tmp}/file"), "is not an attestation file"),
    (("borrower", "repay", "--account", "TEST::6"), "--amount or --all"),
    (("borrower", "status"), "whose line: give --borrower ADDRESS, or --account"),
    (("borrower", "draw", "--account", "TEST::6"), "--merchant and --price"),
    (("borrower", "draw-to-wallet", "--amount", "1", "--account", "TEST::6"), "Credit"),
    (
        (
            "bureau",
            "attest",
            "--borrower",
            "0x1",
            "--identity",
            "I",
            "--score",
            "700",
            "--model",
            "m",
            "--report",
            "{tmp}/file",
            "--out",
            "{tmp}/a.json",
        ),
        "--borrower",
    ),
    ((*ATTEST, "--report", "{tmp}/nope.json"), "'--report'"),
    ((*ATTEST, "--report", "{tmp}/file"), "is not JSON"),
    (("bureau", "cosign", "{tmp}/nope.json"), "ATTESTATION_FILE"),
]


def test_merchant_address_looks_up_a_test_account_without_a_node() -> None:
    from scripts.merchant import cli

    found = CliRunner().invoke(fresh_command(cli), ["address", "TEST::8"])
    unknown = CliRunner().invoke(fresh_command(cli), ["address", "nobody"])

    assert (found.exit_code, found.output) == (0, "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f\n")
    assert unknown.exit_code == 2 and unknown.output.startswith("Error: ACCOUNT:"), unknown.output


def nonces(w3: Web3) -> list[int]:
    return [int(w3.eth.get_transaction_count(a)) for a in w3.eth.accounts[:10]]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    write_csv(tmp_path / "items.csv", "SKU,serial,metadata,metadata_uri", ["A,1,{},u"])
    write_csv(tmp_path / "good.csv", "sku,serial,metadata,metadata_uri", ["BAD-IN,1,{},u"])
    (tmp_path / "file").write_text("a file, not a folder")
    (tmp_path / "taken.json").write_text("{}")
    return tmp_path


def case_id(value: object) -> str:
    return " ".join(value)[:60] if isinstance(value, tuple) else ""


@pytest.mark.parametrize(("args", "fragment"), CASES, ids=case_id)
def test_bad_input_stops_with_one_error_line_exit_2_and_nothing_sent(
    ape_run: ApeRun, merchant: str, w3: Web3, files: Path, args: tuple[str, ...], fragment: str
) -> None:
    before = nonces(w3)

    run = ape_run(*(a.replace("{tmp}", str(files)) for a in args))

    errors = [line for line in run.output.splitlines() if line.startswith("Error:")]
    assert run.returncode == 2, run.output
    assert len(errors) == 1 and "Traceback" not in run.output, run.output
    assert fragment in run.output, run.output  # a file's problems follow its Error line
    assert nonces(w3) == before


@pytest.mark.parametrize(
    ("network", "fragment"),
    [
        ("ethereum:local:node", "cannot reach a node for ethereum:local"),
        ("ethereum:sepolia:node", "RPC URL"),
    ],
)
def test_a_network_without_a_node_is_one_line_not_a_traceback(
    network: str, fragment: str, tmp_path: Path
) -> None:
    from scripts.buyer import cli

    settings = json.dumps({"uri": "http://127.0.0.1:9"})  # nothing listens on the discard port
    args = ["list", "--account", BUYER_ACCOUNT, "--network", network]
    if network.startswith("ethereum:local"):
        args += ["--provider-settings", settings]
    run = CliRunner().invoke(
        fresh_command(cli), args, env={"TRUSTMALL_DEPLOYMENTS_DIR": str(tmp_path)}
    )

    errors = [line for line in run.output.splitlines() if line.startswith("Error:")]
    assert run.exit_code == 2, run.output
    assert len(errors) == 1 and fragment in errors[0], run.output
