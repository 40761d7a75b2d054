"""`make demo`: the whole story on a local chain, told by the project's own commands and service.

Starts Anvil on 127.0.0.1:8545 (an Anvil already answering there is reused), deploys the suite,
and starts the oracle service (`make api`'s uvicorn) on 127.0.0.1:8000. Then each part is
played the way its real actor plays it: the verifier and the merchant with their scripts and
their own keys (`ape run merchant ...`), the carrier and the credit bureau with signed webhooks
to the service, buyers and borrowers with their scripts, and shoppers through the service's API
and pages. At the end it prints the verification pages to open and keeps the chain and the
service running until Ctrl-C (`--no-wait` stops them at once, for CI).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a file (`python tools/demo.py`): import the project

from app.domain.ids import gs1_digital_link_path  # noqa: E402
from app.ingest.auth import API_KEY_HEADER, SIGNATURE_HEADER, signature_header  # noqa: E402
from tools.service_process import ServiceProcess, service_environment  # noqa: E402

BIN = Path(sys.prefix) / "bin"
EXAMPLES = ROOT / "examples"
HOST = "127.0.0.1"
ANVIL_START_TIMEOUT = 30.0
WAIT_SECONDS = 90.0
CARRIER, BUREAU = "demo-carrier", "demo-bureau"
# Ape test accounts of the public test mnemonic (never real money): 0 deploys and verifies,
# 1 is the logistics oracle (the service's key), 2 the merchant, 3 the arbiter, 4 a shopper who
# borrows, 5 a buyer, 6 the bureau's attestation key (the service's attester), 7 a lender.
ORACLE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # TEST::1
ATTESTER_KEY = "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"  # TEST::6
MERCHANT_ACCOUNT = "TEST::2"
MERCHANT_ADDRESS = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
BUYER_ACCOUNT = "TEST::5"
SHOPPER_ACCOUNT, SHOPPER_ADDRESS = "TEST::4", "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
LENDER_ACCOUNT, LENDER_ADDRESS = "TEST::7", "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"


@dataclass(frozen=True)
class Source:
    """A data source's credentials as the source itself holds them (fresh for every run)."""

    name: str
    api_key: str
    hmac_secret: str

    def settings(self, kind: str) -> dict[str, str]:
        return {"kind": kind, "api_key": self.api_key, "hmac_secret": self.hmac_secret}


@dataclass
class Demo:
    """Where the story runs, and the handles its chapters share."""

    workdir: Path
    env: dict[str, str]
    rpc_url: str
    service: ServiceProcess
    http: httpx.Client
    carrier: Source
    bureau: Source

    # ------------------------------------------------------------------ the actors' tools

    def ape(self, *args: str) -> None:
        """Runs a project script as its user would."""
        ape_run(self.env, *args)

    def post_signed(self, source: Source, path: str, payload: Any) -> dict[str, Any]:
        """A source's webhook: its API key and an HMAC signature over the timestamp and body."""
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            API_KEY_HEADER: source.api_key,
            SIGNATURE_HEADER: signature_header(source.hmac_secret, body),
        }
        sys.stdout.write(f"POST {path} as {source.name} ({_count(payload)})\n")
        response = self.http.post(path, content=body, headers=headers)
        if response.status_code >= 300:
            raise SystemExit(f"the service refused {path}: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    def carrier_reports(self, *events: dict[str, Any]) -> None:
        """The carrier posts events; the demo follows each to its transaction on chain."""
        answer = self.post_signed(self.carrier, "/v1/logistics/events", list(events))
        if answer.get("rejected"):
            raise SystemExit(f"the service rejected events: {answer['rejected']}")
        for accepted in answer["accepted"]:
            self.follow(accepted["relay_id"], accepted["event_id"])

    def follow(self, relay_id: str, label: str) -> None:
        """Waits until a record the service accepted is confirmed on chain."""
        relay = self.wait_for(lambda: self._relay_final(relay_id), f"the relay of {label}")
        if relay["status"] != "confirmed":
            raise SystemExit(f"relay of {label} failed: {relay}")
        sys.stdout.write(
            f"  {label}: accepted as {relay_id}, on chain in tx {relay['tx_hash']} "
            f"(block {relay['block_number']})\n"
        )

    def _relay_final(self, relay_id: str) -> dict[str, Any] | None:
        relay: dict[str, Any] = self.http.get(f"/v1/relay/{relay_id}").json()
        return relay if relay["status"] in ("confirmed", "failed") else None

    def indexed(self) -> None:
        """Waits until the service's index has caught up with the chain's head."""

        def caught_up() -> bool:
            response = self.http.get("/readyz")
            body = response.json()
            return response.status_code == 200 and body["index_lag_blocks"] == 0

        self.wait_for(caught_up, "the index catching up with the chain")

    def wait_for(self, check: Any, what: str) -> Any:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.2)
        raise SystemExit(f"{what} did not happen within {WAIT_SECONDS:.0f} s; see {self.workdir}")

    def time_passes(self, seconds: int) -> None:
        """Moves the local chain's clock forward, as the days between events would."""
        rpc(self.rpc_url, "evm_increaseTime", [seconds])
        rpc(self.rpc_url, "evm_mine", [])
        sys.stdout.write(f"(the chain's clock moves {seconds // 3600} hours forward)\n")

    def manifest(self, name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.workdir / name).read_text())
        return loaded


def _count(payload: Any) -> str:
    if not isinstance(payload, list):
        return "1 record"
    return "1 event" if len(payload) == 1 else f"{len(payload)} events"


def say(text: str) -> None:
    sys.stdout.write(f"\n== {text}\n")
    sys.stdout.flush()


def rpc(url: str, method: str, params: list[object]) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read()).get("result")


def rpc_answers(url: str) -> bool:
    try:
        return rpc(url, "eth_chainId", []) is not None
    except OSError:
        return False


def minutes_ago(minutes: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60 * minutes))


# ---------------------------------------------------------------------------------------- chapters


def onboarding_and_registration(demo: Demo) -> None:
    merchant = ["--account", MERCHANT_ACCOUNT]
    say("3. A verifier checks the merchant's papers and onboards it")
    demo.ape("merchant", "approve", MERCHANT_ADDRESS, "--name", "Northwind Outfitters",
             "--identity", "company register HRB 0451; VAT DE811907980")  # fmt: skip

    say("4. The merchant registers three items one by one (from a CSV file), with its own key")
    demo.ape("merchant", "register", str(EXAMPLES / "items.csv"), *merchant,
             "--manifest", str(demo.workdir / "singles-manifest.json"),
             "--journal", str(demo.workdir / "items.journal.json"))  # fmt: skip

    say("5. The merchant registers a production lot of 1,000 items as one Merkle batch, and "
        "publishes its manifest (signed with its key) so shoppers get each proof")  # fmt: skip
    batch = demo.workdir / "batch-manifest.json"
    demo.ape("merchant", "register", str(EXAMPLES / "batch.csv"), "--batch", *merchant,
             "--manifest", str(batch))  # fmt: skip
    demo.ape("merchant", "publish", str(batch), "--service", demo.service.url, *merchant)


def custody(demo: Demo) -> None:
    say("6. Custody: the merchant records production and shipping; the carrier's webhook "
        "reports transit and delivery, and the service relays it on chain")  # fmt: skip
    demo.ape("merchant", "custody", str(EXAMPLES / "custody.csv"), "--account", MERCHANT_ACCOUNT,
             "--journal", str(demo.workdir / "custody.journal.json"))  # fmt: skip
    mug = demo.manifest("singles-manifest.json")["items"][0]["item_id"]
    demo.carrier_reports(
        {"event_id": "dhl-SH-4411-1", "item_id": mug, "action": "in_transit",
         "occurred_at": minutes_ago(90), "location": "GLN 4012345000009",
         "reference": "shipment SH-4411"},
        {"event_id": "dhl-SH-4411-2", "item_id": mug, "action": "delivered",
         "occurred_at": minutes_ago(30), "location": "GLN 4098765000002",
         "reference": "shipment SH-4411"},
    )  # fmt: skip


def counterfeit_and_recall(demo: Demo) -> None:
    say("7. A shopper reports a counterfeit; the verifier confirms it")
    bag = demo.manifest("singles-manifest.json")["items"][2]["item_id"]
    demo.ape("demo", "report", "--item-id", bag)

    say("8. The merchant recalls one item of the batch")
    batch = demo.workdir / "batch-manifest.json"
    recalled = demo.manifest(batch.name)["items"][0]["item_id"]
    demo.ape("merchant", "recall", "--item-id", recalled, "--manifest", str(batch), "--reason",
             "lot LOT2026: sole delamination found in quality control",
             "--account", MERCHANT_ACCOUNT)  # fmt: skip


def escrow(demo: Demo) -> None:
    buyer = ["--account", BUYER_ACCOUNT]
    order = demo.workdir / "order-mug.json"
    disputed = demo.workdir / "order-lamp.json"
    mug = demo.manifest("singles-manifest.json")["items"][1]["item_id"]

    say("9. A buyer orders a registered mug: 0.25 ETH is locked in escrow, paid to no one yet")
    demo.ape("buyer", "open", "--merchant", MERCHANT_ADDRESS, "--price", "0.25", "--item-id", mug,
             "--ref", "web order 1001", "--dispute-window", "1d", "--order-file", str(order),
             *buyer)  # fmt: skip

    say("10. The carrier's webhooks report the order shipped, then delivered")
    order_id = json.loads(order.read_text())["order_id"]
    demo.carrier_reports(
        {"event_id": "ups-1Z-1001-pickup", "order_id": order_id, "action": "shipped",
         "occurred_at": minutes_ago(20), "reference": "UPS 1Z999AA10123456784"},
    )  # fmt: skip
    demo.carrier_reports(
        {"event_id": "ups-1Z-1001-pod", "order_id": order_id, "action": "delivered",
         "occurred_at": minutes_ago(5), "reference": "POD signed by J. Doe"},
    )  # fmt: skip
    demo.ape("buyer", "status", "--order-file", str(order), *buyer)

    say("11. The dispute window passes quietly: anyone may release; the merchant withdraws")
    demo.time_passes(24 * 3600 + 60)
    demo.ape("merchant", "order", "release", "--order-file", str(order),
             "--account", MERCHANT_ACCOUNT)  # fmt: skip
    demo.ape("merchant", "order", "withdraw", "--account", MERCHANT_ACCOUNT)

    say("12. Another order goes wrong: the buyer disputes, the arbiter splits 70/30")
    demo.ape("buyer", "open", "--merchant", MERCHANT_ADDRESS, "--price", "0.1",
             "--ref", "desk lamp, catalogue no. L-220", "--dispute-window", "1d",
             "--order-file", str(disputed), *buyer)  # fmt: skip
    demo.ape("merchant", "order", "ship", "--order-file", str(disputed),
             "--tracking", "UPS 1Z999AA10123456785", "--account", MERCHANT_ACCOUNT)  # fmt: skip
    demo.ape("buyer", "dispute", "--order-file", str(disputed), *buyer,
             "--evidence", "lamp arrived with a cracked shade; photos attached")  # fmt: skip
    demo.ape("merchant", "order", "evidence", "--order-file", str(disputed),
             "--evidence", "packing video shows the shade intact",
             "--account", MERCHANT_ACCOUNT)  # fmt: skip
    demo.ape("arbiter", "settle", "--order-file", str(disputed), "--buyer-bps", "7000",
             "--ruling", "damage in transit likely; merchant's packing adequate")  # fmt: skip
    demo.ape("buyer", "withdraw", *buyer)


def credit(demo: Demo) -> None:
    from eth_abi.abi import encode
    from eth_utils.crypto import keccak

    shopper, lender = ["--account", SHOPPER_ACCOUNT], ["--account", LENDER_ACCOUNT]
    attestation = demo.workdir / "attestation.json"
    order = demo.workdir / "order-chair.json"

    say("13. The credit desk's faucet: dev dollars for a lender and a shopper")
    record = json.loads((Path(demo.env["TRUSTMALL_DEPLOYMENTS_DIR"]) / "1337.json").read_text())
    dollar, minter = record["contracts"]["DevStablecoin"]["address"], record["deployer"]
    for account, dollars in ((LENDER_ADDRESS, 50_000), (SHOPPER_ADDRESS, 1_000)):
        call = keccak(text="mint(address,uint256)")[:4] + encode(
            ["address", "uint256"], [account, dollars * 10**6]
        )
        sent = rpc(demo.rpc_url, "eth_sendTransaction",
                   [{"from": minter, "to": dollar, "data": "0x" + call.hex()}])  # fmt: skip
        if sent is None:
            raise SystemExit("the devnet faucet could not mint dev dollars")
        sys.stdout.write(f"(the devnet faucet mints {dollars:,} dUSD to {account})\n")

    say("14. A lender puts 20,000 dUSD into the credit pool")
    demo.ape("lender", "deposit", "--amount", "20000", *lender)

    say("15. A credit bureau sends the shopper's report to the service: the service keeps it "
        "encrypted, signs an attestation of the score band, and relays the application — only "
        "the band and a hash of the report go on chain")  # fmt: skip
    answer = demo.post_signed(demo.bureau, "/v1/credit/reports", {
        "borrower": SHOPPER_ADDRESS,
        "score": 712,
        "model": "trustmall-score-v3",
        "report": {
            "bureau": "Example Credit Bureau",
            "subject": "Alex Shopper",
            "accounts": [{"kind": "credit card", "opened": "2019-04", "late_payments": 0}],
        },
    })  # fmt: skip
    attestation.write_text(json.dumps(answer["signed_attestation"], indent=2))
    sys.stdout.write(f"  report {answer['id']}: band {answer['band']}, attestation {attestation}\n")
    demo.follow(answer["relay_id"], "the credit application")

    say("16. The public policy decided at once, on the record: the shopper's line")
    demo.ape("borrower", "status", *shopper)

    say("17. The shopper buys a reading chair for 480 dUSD: 180 from the wallet, 300 on credit")
    demo.ape("borrower", "draw", "--merchant", MERCHANT_ADDRESS, "--price", "480",
             "--down-payment", "180", "--ref", "reading chair RC-2, oak",
             "--dispute-window", "2d", "--order-file", str(order), *shopper)  # fmt: skip
    order_id = json.loads(order.read_text())["order_id"]
    demo.carrier_reports(
        {"event_id": "dpd-RC2-pickup", "order_id": order_id, "action": "shipped",
         "occurred_at": minutes_ago(4), "reference": "DPD 0150 1234 5678"},
        {"event_id": "dpd-RC2-pod", "order_id": order_id, "action": "delivered",
         "occurred_at": minutes_ago(1), "reference": "left with neighbour, no. 12"},
    )  # fmt: skip

    say("18. Two weeks on: the chair's payment is released; the shopper repays 200 dUSD, "
        "interest first, then principal")  # fmt: skip
    demo.time_passes(14 * 24 * 3600)
    demo.ape("merchant", "order", "release", "--order-file", str(order),
             "--account", MERCHANT_ACCOUNT)  # fmt: skip
    demo.ape("borrower", "repay", "--amount", "200", *shopper)
    demo.ape("borrower", "status", *shopper)
    demo.ape("lender", "status", *lender)


def shoppers_view(demo: Demo) -> None:
    say("19. What shoppers see: the service's verdicts, from its index of the chain")
    demo.indexed()
    singles = demo.manifest("singles-manifest.json")["items"]
    batch = demo.manifest("batch-manifest.json")
    base = demo.service.url
    shown = [
        ("delivered by the carrier", singles[0]["item_id"]),
        ("sold through escrow", singles[1]["item_id"]),
        ("reported counterfeit", singles[2]["item_id"]),
        ("recalled batch item", batch["items"][0]["item_id"]),
        ("batch item", batch["items"][1]["item_id"]),
    ]
    for label, item_id in shown:
        verdict = demo.http.get(f"/v1/items/{item_id}").json()
        trail = ", ".join(c["action"] for c in verdict["custody"]) or "no custody events"
        sys.stdout.write(
            f"  {label:<25} {verdict['verdict']:<20} {verdict['explanation']}\n"
            f"  {'':<25} trail: {trail}\n"
            f"  {'':<25} {base}/verify/{item_id}\n"
        )
    gs1 = batch["items"][1]
    if gs1.get("gtin") and gs1.get("serial"):
        link = gs1_digital_link_path(gs1["gtin"], gs1["serial"])
        sys.stdout.write(f"  the batch item's GS1 Digital Link: {base}{link}\n")
    sys.stdout.write(f"  its QR label: {base}/v1/items/{gs1['item_id']}/qr.svg\n")
    stats = demo.http.get("/v1/stats").json()
    approvals = sum(tier["approved"] for tier in stats["credit"]["by_tier"])
    sys.stdout.write(
        f"  platform figures ({base}/v1/stats): {stats['items']['registered']:,} items "
        f"registered, {stats['disputes']['orders']} orders, {stats['disputes']['disputes']} "
        f"disputed, {approvals} credit approval(s)\n"
    )


# ---------------------------------------------------------------------------------------- set-up


@contextlib.contextmanager
def local_chain(port: int, workdir: Path) -> Iterator[None]:
    """Anvil for the story: an existing one is reused; one we start is stopped afterwards."""
    url = f"http://{HOST}:{port}"
    if rpc_answers(url):
        say(f"using the chain already answering at {url}")
        yield
        return
    log = (workdir / "anvil.log").open("wb")
    anvil = subprocess.Popen(
        [str(BIN / "anvil"), "--host", HOST, "--port", str(port), "--chain-id", "1337",
         "--hardfork", "cancun"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
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


@contextlib.contextmanager
def oracle_service(
    workdir: Path, env: dict[str, str], rpc_url: str, port: int, carrier: Source, bureau: Source
) -> Iterator[ServiceProcess]:
    """The service on a fresh database, with this run's source credentials. The oracle and
    attester keys are public test keys of the devnet (a real set-up uses encrypted keystores)."""
    database = workdir / "service.db"
    for stale in workdir.glob("service.db*"):
        stale.unlink()
    url = f"http://{HOST}:{port}"
    service = ServiceProcess(
        service_environment(
            rpc_url=rpc_url,
            deployments_dir=Path(env["TRUSTMALL_DEPLOYMENTS_DIR"]),
            database=database,
            oracle_key=ORACLE_KEY,
            sources={CARRIER: carrier.settings("carrier"), BUREAU: bureau.settings("bureau")},
            environment="development",
            attester_private_key=ATTESTER_KEY,
            report_encryption_key=Fernet.generate_key().decode(),
            public_base_url=url,
            # A local Anvil has no reorgs: what is mined is final.
            confirmation_depth=0,
        ),
        port,
        workdir / "service.log",
    )
    service.start()
    sys.stdout.write(
        f"started the service at {url} (API docs {url}/docs; log: {workdir / 'service.log'})\n"
    )
    try:
        yield service
    finally:
        service.stop()


def wait_for_ctrl_c(service: ServiceProcess) -> None:
    say(f"The chain and the service keep running: open the pages above, or {service.url}/docs. "
        "Ctrl-C stops them.")  # fmt: skip
    # Ctrl-C reaches only this process: the chain and the service run in sessions of their own,
    # and are stopped in order by the context managers around this call.
    with contextlib.suppress(KeyboardInterrupt):
        if service.process is not None:
            service.process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=int(os.environ.get("RPC_PORT", "8545")))
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", "8000")))
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "demo")
    parser.add_argument("--no-wait", action="store_true", help="Stop everything at the end.")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["TRUSTMALL_DEPLOYMENTS_DIR"] = str(args.workdir / "deployments")
    # ape-foundry connects to the Anvil at this address instead of starting its own.
    env["APE_FOUNDRY_HOST"] = f"http://{HOST}:{args.port}"
    for stale in args.workdir.glob("*.json"):
        stale.unlink()
    rpc_url = f"http://{HOST}:{args.port}"
    carrier = Source(CARRIER, secrets.token_urlsafe(24), secrets.token_urlsafe(32))
    bureau = Source(BUREAU, secrets.token_urlsafe(24), secrets.token_urlsafe(32))
    with local_chain(args.port, args.workdir):
        try:
            say("1. The platform deploys the suite, with its credit desk (a dev stablecoin)")
            ape_run(env, "deploy", "--redeploy")
            ape_run(env, "deploy", "--dev-stablecoin")
            say("2. The platform starts the oracle service")
            with (
                oracle_service(args.workdir, env, rpc_url, args.api_port, carrier, bureau) as svc,
                httpx.Client(base_url=svc.url, timeout=30) as http,
            ):
                demo = Demo(args.workdir, env, rpc_url, svc, http, carrier, bureau)
                onboarding_and_registration(demo)
                custody(demo)
                counterfeit_and_recall(demo)
                escrow(demo)
                credit(demo)
                shoppers_view(demo)
                say("The end. Files of this run are in " + str(args.workdir))
                if not args.no_wait:
                    wait_for_ctrl_c(svc)
        except subprocess.CalledProcessError as error:
            sys.stderr.write(f"demo step failed: {' '.join(map(str, error.cmd))}\n")
            return 1
        except KeyboardInterrupt:
            sys.stderr.write("\ninterrupted: stopping the service and the chain\n")
            return 130
    return 0


def ape_run(env: dict[str, str], *args: str) -> None:
    command = [str(BIN / "ape"), "run", *args, "--network", "ethereum:local:foundry"]
    sys.stdout.write("$ " + " ".join(["ape", "run", *args]) + "\n")
    sys.stdout.flush()
    subprocess.run(command, check=True, cwd=ROOT, env=env)


if __name__ == "__main__":
    raise SystemExit(main())
