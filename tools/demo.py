"""`make demo`: the whole story on a local Anvil chain, told by the project's own commands.

Starts Anvil on 127.0.0.1:8545 unless a chain already answers there (then it is reused and left
running), deploys the suite, and plays each part with the script a real user would run:
the verifier onboards a merchant; the merchant registers items singly and as a Merkle batch
and appends custody events; a shopper reports a counterfeit; every item's verdict is printed.
Then a buyer pays into escrow, the carrier reports delivery, the contract releases the money after
the dispute window, and a second, disputed order is split by the arbiter.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.prefix) / "bin"
EXAMPLES = ROOT / "examples"
RPC_HOST = "127.0.0.1"
ANVIL_START_TIMEOUT = 30.0
# Ape test accounts of the public test mnemonic: 0 deploys and verifies, 1 is the logistics
# oracle, 2 the merchant, 3 the arbiter, 4 a shopper, 5 a buyer.
MERCHANT_ACCOUNT = "TEST::2"
MERCHANT_ADDRESS = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
BUYER_ACCOUNT = "TEST::5"


def rpc_answers(url: str) -> bool:
    body = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return "result" in json.loads(response.read())
    except OSError:
        return False


@contextlib.contextmanager
def local_chain(port: int, workdir: Path) -> Iterator[None]:
    """Anvil for the story: an existing one is reused; one we start is stopped afterwards."""
    url = f"http://{RPC_HOST}:{port}"
    if rpc_answers(url):
        say(f"using the chain already answering at {url}")
        yield
        return
    log = (workdir / "anvil.log").open("wb")
    anvil = subprocess.Popen(
        [
            str(BIN / "anvil"), "--host", RPC_HOST, "--port", str(port), "--chain-id", "1337",
            "--hardfork", "cancun",
        ],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + ANVIL_START_TIMEOUT
    while not rpc_answers(url):
        if anvil.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"Anvil did not start; see {workdir / 'anvil.log'}")
        time.sleep(0.1)
    say(f"started Anvil at {url} (log: {workdir / 'anvil.log'})")
    try:
        yield
    finally:
        anvil.terminate()
        anvil.wait(timeout=10)
        log.close()


def say(text: str) -> None:
    sys.stdout.write(f"\n== {text}\n")
    sys.stdout.flush()


def ape(*args: str, env: dict[str, str]) -> None:
    command = [str(BIN / "ape"), "run", *args, "--network", "ethereum:local:foundry"]
    sys.stdout.write("$ " + " ".join(["ape", "run", *args]) + "\n")
    sys.stdout.flush()
    subprocess.run(command, check=True, cwd=ROOT, env=env)


def rpc(url: str, method: str, params: list[object]) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read()).get("result")


def time_passes(rpc_url: str, seconds: int) -> None:
    """Moves the local chain's clock forward, as the days between delivery and release would."""
    rpc(rpc_url, "evm_increaseTime", [seconds])
    rpc(rpc_url, "evm_mine", [])
    sys.stdout.write(f"(the chain's clock moves {seconds // 3600} hours forward)\n")


def provenance(workdir: Path, env: dict[str, str]) -> tuple[Path, Path]:
    """Chapters 1-8: onboarding, registration, custody, a counterfeit report, a recall."""
    merchant = ["--account", MERCHANT_ACCOUNT]
    singles = workdir / "singles-manifest.json"
    batch = workdir / "batch-manifest.json"

    say("1. The platform deploys the suite")
    ape("deploy", "--redeploy", env=env)

    say("2. A verifier checks the merchant's papers and onboards it")
    ape("merchant", "approve", MERCHANT_ADDRESS, "--name", "Northwind Outfitters",
        "--identity", "company register HRB 0451; VAT DE811907980", env=env)

    say("3. The merchant registers three items one by one (from a CSV file)")
    ape("merchant", "register", str(EXAMPLES / "items.csv"), *merchant,
        "--manifest", str(singles), "--journal", str(workdir / "items.journal.json"), env=env)

    say("4. The merchant registers a production lot of 1,000 items as one Merkle batch")
    ape("merchant", "register", str(EXAMPLES / "batch.csv"), "--batch", *merchant,
        "--manifest", str(batch), env=env)

    say("5. Custody events: the merchant's produced and shipped, the carrier's (oracle) delivered")
    ape("merchant", "custody", str(EXAMPLES / "custody.csv"), *merchant,
        "--journal", str(workdir / "custody.journal.json"), env=env)
    ape("merchant", "custody", str(EXAMPLES / "custody-carrier.csv"), "--account", "TEST::1",
        "--merchant", MERCHANT_ADDRESS, "--journal", str(workdir / "carrier.journal.json"),
        env=env)

    say("6. A shopper reports a counterfeit; the verifier confirms it")
    flagged = json.loads(singles.read_text())["items"][2]["item_id"]
    ape("demo", "report", "--item-id", flagged, env=env)

    say("7. The merchant recalls one item of the batch")
    recalled = json.loads(batch.read_text())["items"][0]
    ape("merchant", "recall", "--item-id", recalled["item_id"], "--manifest", str(batch),
        "--reason", "lot LOT2026: sole delamination found in quality control", *merchant, env=env)

    say("8. What a shopper's scan reads, item by item")
    ape("demo", "verdicts", "--manifest", str(singles), "--manifest", str(batch), env=env)
    return singles, batch


def escrow(workdir: Path, env: dict[str, str], rpc_url: str, singles: Path) -> None:
    """Chapters 9-12: an order paid into escrow and released; a disputed order split."""
    merchant = ["--account", MERCHANT_ACCOUNT]
    buyer = ["--account", BUYER_ACCOUNT]
    order = workdir / "order-mug.json"
    disputed = workdir / "order-lamp.json"
    mug = json.loads(singles.read_text())["items"][1]["item_id"]

    say("9. A buyer orders a registered mug; 0.25 ETH is locked in escrow, not paid to anyone")
    ape("buyer", "open", "--merchant", MERCHANT_ADDRESS, "--price", "0.25", "--item-id", mug,
        "--ref", "web order 1001", "--dispute-window", "1d", "--order-file", str(order),
        *buyer, env=env)

    say("10. The merchant ships; the carrier (through the oracle) reports delivery")
    ape("merchant", "order", "ship", "--order-file", str(order),
        "--tracking", "DHL 00340434161234567890", *merchant, env=env)
    order_id = json.loads(order.read_text())["order_id"]
    ape("carrier", "delivered", "--order", order_id, "--evidence", "POD signed by J. Doe",
        env=env)
    ape("buyer", "status", "--order-file", str(order), *buyer, env=env)

    say("11. The dispute window passes quietly: anyone may release, and the merchant withdraws")
    time_passes(rpc_url, 24 * 3600 + 60)
    ape("merchant", "order", "release", "--order-file", str(order), *merchant, env=env)
    ape("merchant", "order", "withdraw", *merchant, env=env)
    ape("demo", "verdicts", "--manifest", str(singles), env=env)

    say("12. Another order goes wrong: the buyer disputes, the arbiter splits 70/30")
    ape("buyer", "open", "--merchant", MERCHANT_ADDRESS, "--price", "0.1",
        "--ref", "desk lamp, catalogue no. L-220", "--dispute-window", "1d",
        "--order-file", str(disputed), *buyer, env=env)
    ape("merchant", "order", "ship", "--order-file", str(disputed),
        "--tracking", "UPS 1Z999AA10123456784", *merchant, env=env)
    ape("buyer", "dispute", "--order-file", str(disputed),
        "--evidence", "lamp arrived with a cracked shade; photos attached", *buyer, env=env)
    ape("merchant", "order", "evidence", "--order-file", str(disputed),
        "--evidence", "packing video shows the shade intact", *merchant, env=env)
    ape("arbiter", "list", env=env)
    ape("arbiter", "settle", "--order-file", str(disputed), "--buyer-bps", "7000",
        "--ruling", "damage in transit likely; merchant's packing adequate", env=env)
    ape("buyer", "withdraw", *buyer, env=env)


def credit(workdir: Path, env: dict[str, str], rpc_url: str) -> None:
    """Chapters 13-18: a lender funds the credit pool, a bureau attests a shopper's score band,
    the shopper is approved at once, buys with credit and repays part with interest."""
    from eth_abi.abi import encode
    from eth_utils.crypto import keccak

    shopper_address = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"  # TEST::4
    lender_address = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"  # TEST::7
    shopper, lender = ["--account", "TEST::4"], ["--account", "TEST::7"]
    report, attestation = workdir / "credit-report.json", workdir / "attestation.json"
    order = workdir / "order-chair.json"

    say("13. The platform opens a credit desk: a pool, a bureau's key, a public policy")
    ape("deploy", "--dev-stablecoin", env=env)
    record = json.loads((Path(env["TRUSTMALL_DEPLOYMENTS_DIR"]) / "1337.json").read_text())
    dollar, minter = record["contracts"]["DevStablecoin"]["address"], record["deployer"]
    for account, dollars in ((lender_address, 50_000), (shopper_address, 1_000)):
        call = keccak(text="mint(address,uint256)")[:4] + encode(
            ["address", "uint256"], [account, dollars * 10**6]
        )
        sent = rpc(rpc_url, "eth_sendTransaction",
                   [{"from": minter, "to": dollar, "data": "0x" + call.hex()}])
        if sent is None:
            raise SystemExit("the devnet faucet could not mint dev dollars")
        sys.stdout.write(f"(the devnet faucet mints {dollars:,} dUSD to {account})\n")

    say("14. A lender puts 20,000 dUSD into the credit pool")
    ape("lender", "deposit", "--amount", "20000", *lender, env=env)

    say("15. A bureau scores the shopper: only the band and a hash of the report go on chain")
    full_report = {
        "bureau": "Example Credit Bureau",
        "subject": "Alex Shopper",
        "score": 712,
        "accounts": [{"kind": "credit card", "opened": "2019-04", "late_payments": 0}],
    }
    report.write_text(json.dumps(full_report, indent=2))
    attestation.unlink(missing_ok=True)
    ape("bureau", "attest", "--borrower", shopper_address, "--score", "712",
        "--model", "trustmall-score-v3", "--report", str(report), "--out", str(attestation),
        env=env)

    say("16. The shopper applies: the public policy decides at once, on the record")
    ape("borrower", "apply", "--attestation", str(attestation), *shopper, env=env)

    say("17. The shopper buys a reading chair with credit: the pool pays the escrow order")
    ape("borrower", "draw", "--merchant", MERCHANT_ADDRESS, "--price", "480", "--ref",
        "reading chair RC-2, oak", "--order-file", str(order), *shopper, env=env)
    ape("buyer", "confirm", "--order-file", str(order), *shopper, env=env)

    say("18. Two weeks on, the shopper repays 200 dUSD: interest first, then principal")
    time_passes(rpc_url, 14 * 24 * 3600)
    ape("borrower", "repay", "--amount", "200", *shopper, env=env)
    ape("borrower", "status", *shopper, env=env)
    ape("lender", "status", *lender, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=int(os.environ.get("RPC_PORT", "8545")))
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "demo")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["TRUSTMALL_DEPLOYMENTS_DIR"] = str(args.workdir / "deployments")
    # ape-foundry connects to the Anvil at this address instead of starting its own.
    env["APE_FOUNDRY_HOST"] = f"http://{RPC_HOST}:{args.port}"
    for stale in args.workdir.glob("*.json"):
        stale.unlink()
    rpc_url = f"http://{RPC_HOST}:{args.port}"
    with local_chain(args.port, args.workdir):
        try:
            singles, _batch = provenance(args.workdir, env)
            escrow(args.workdir, env, rpc_url, singles)
            credit(args.workdir, env, rpc_url)
        except subprocess.CalledProcessError as error:
            sys.stderr.write(f"demo step failed: {' '.join(error.cmd)}\n")
            return 1
    say("The end. Files of this run are in " + str(args.workdir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
