"""What `make demo`'s chapters share: the actors' accounts and sources, and the stage (the local
chain, the service, the project's scripts) they act on. The story is in tools/demo_story.py, the
attacks in tools/demo_attacks.py, the set-up in tools/demo.py."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx

from app.domain.source_signature import API_KEY_HEADER, SIGNATURE_HEADER, signature_header
from harness.ape_run import run_ape

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.prefix) / "bin"
EXAMPLES = ROOT / "examples"
HOST = "127.0.0.1"
WAIT_SECONDS = 90.0
T = TypeVar("T")

# Ape test accounts of the public test mnemonic (never real money), as `ape run deploy` names
# them on a local network: 0 deploys, verifies and administers, 1 is the custody oracle (the
# service's registry key), 2 the merchant, 3 the arbiter, 4 a shopper who borrows, 5 a buyer,
# 6 the service's attester, 7 a lender, 8 the logistics oracle (the service's escrow key), 9 the
# bureau's cosigning attester. Keys are needed only where the demo signs outside a script.
TEST_KEYS = {
    0: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    1: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    2: "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    5: "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    6: "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    7: "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    8: "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    9: "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
}
ORACLE_KEY, LOGISTICS_ORACLE_KEY, ATTESTER_KEY = TEST_KEYS[1], TEST_KEYS[8], TEST_KEYS[6]
MERCHANT_ACCOUNT, MERCHANT_ADDRESS = "TEST::2", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
BUYER_ACCOUNT = "TEST::5"
SHOPPER_ACCOUNT, SHOPPER_ADDRESS = "TEST::4", "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
LENDER_ACCOUNT, LENDER_ADDRESS = "TEST::7", "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
# The brand's GS1 company prefix: examples/batch.csv's GTINs (4006381333931) lie under it.
GS1_PREFIX = "4006381"
# The platform's numbers for the demo's carriers: the merchant hands its orders to carrier 1;
# carrier 2 is another carrier of the platform, which the attacks use.
CARRIER_ID, RIVAL_CARRIER_ID = 1, 2
CARRIER, RIVAL_CARRIER, BUREAU = "demo-carrier", "rival-carrier", "demo-bureau"


@dataclass(frozen=True)
class Source:
    """A data source's credentials as the source itself holds them (fresh for every run)."""

    name: str
    api_key: str
    hmac_secret: str
    carrier_id: int | None = None
    # The merchants whose goods this carrier moves before a sale (app.ingest.custody_scope).
    merchants: tuple[str, ...] = ()

    def settings(self, kind: str) -> dict[str, str | int | list[str]]:
        found: dict[str, str | int | list[str]] = {
            "kind": kind,
            "api_key": self.api_key,
            "hmac_secret": self.hmac_secret,
        }
        if self.carrier_id is not None:
            found["carrier_id"] = self.carrier_id
        if self.merchants:
            found["merchants"] = list(self.merchants)
        return found


class ServiceHandle(Protocol):
    """The service as the story uses it: one process, or replicas behind a front."""

    url: str
    env: dict[str, str]

    @property
    def process(self) -> subprocess.Popen[bytes] | None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Demo:
    """Where the story runs, and the handles its chapters share."""

    workdir: Path
    env: dict[str, str]
    rpc_url: str
    service: ServiceHandle
    http: httpx.Client
    carrier: Source
    rival_carrier: Source
    bureau: Source

    # ------------------------------------------------------------------ the actors' tools

    def ape(self, *args: str, env: dict[str, str] | None = None) -> None:
        """Runs a project script as its user would."""
        ape_run({**self.env, **(env or {})}, *args)

    def post_signed(self, source: Source, path: str, payload: Any) -> dict[str, Any]:
        """A source's webhook, which the service must accept."""
        response = self._post_signed(source, path, payload)
        if response.status_code >= 300:
            raise SystemExit(f"the service refused {path}: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    def get_signed(self, source: Source, path: str) -> dict[str, Any]:
        """A source reads what it sent (the signature covers the empty body)."""
        response = self.http.get(path, headers=self._signed(source, b""))
        if response.status_code != 200:
            raise SystemExit(f"the service refused {path}: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    def _post_signed(self, source: Source, path: str, payload: Any) -> httpx.Response:
        """A source's webhook: its API key and an HMAC signature over the timestamp and body."""
        body = json.dumps(payload).encode()
        sys.stdout.write(f"POST {path} as {source.name} ({_count(payload)})\n")
        return self.http.post(path, content=body, headers=self._signed(source, body))

    @staticmethod
    def _signed(source: Source, body: bytes) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            API_KEY_HEADER: source.api_key,
            SIGNATURE_HEADER: signature_header(source.hmac_secret, body),
        }

    def carrier_reports(self, *events: dict[str, Any]) -> None:
        """The carrier posts events; the demo follows each to its transaction on chain."""
        for accepted in self.accepted(self.carrier, *events):
            self.follow(accepted["relay_id"], accepted["event_id"])

    def accepted(self, source: Source, *events: dict[str, Any]) -> list[dict[str, Any]]:
        """A carrier's events, posted; what the service accepted (it must accept them all)."""
        answer = self.post_signed(source, "/v1/logistics/events", list(events))
        if answer.get("rejected"):
            raise SystemExit(f"the service rejected events: {answer['rejected']}")
        accepted: list[dict[str, Any]] = answer["accepted"]
        return accepted

    def rejected(self, source: Source, *events: dict[str, Any]) -> list[dict[str, Any]]:
        """A carrier's events the service must reject, each by name; the rejections."""
        response = self._post_signed(source, "/v1/logistics/events", list(events))
        answer: dict[str, Any] = response.json()
        rejected: list[dict[str, Any]] = (
            answer["error"].get("details") or []
            if response.status_code == 422
            else answer.get("rejected", [])
        )
        if len(rejected) != len(events):
            raise SystemExit(f"the service accepted what it must refuse: {answer}")
        return rejected

    def follow(self, relay_id: str, label: str) -> None:
        """Waits until a record the service accepted is confirmed on chain."""
        relay = self.settled(relay_id, label)
        if relay["status"] != "confirmed":
            raise SystemExit(f"relay of {label} failed: {relay}")
        sys.stdout.write(
            f"  {label}: accepted as {relay_id}, on chain in tx {relay['tx_hash']} "
            f"(block {relay['block_number']})\n"
        )

    def settled(self, relay_id: str, label: str) -> dict[str, Any]:
        """The relay record once it is final: confirmed on chain, or failed with a reason."""
        return self.wait_for(lambda: self._relay_final(relay_id), f"the relay of {label}")

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

    def wait_for(self, check: Callable[[], T | None], what: str) -> T:
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

    def deployment(self) -> dict[str, Any]:
        """The deployment record `ape run deploy` wrote for the local chain."""
        path = Path(self.env["TRUSTMALL_DEPLOYMENTS_DIR"]) / "1337.json"
        record: dict[str, Any] = json.loads(path.read_text())
        return record


def _count(payload: Any) -> str:
    if not isinstance(payload, list):
        return "1 record"
    return "1 event" if len(payload) == 1 else f"{len(payload)} events"


def say(text: str) -> None:
    sys.stdout.write(f"\n== {text}\n")
    sys.stdout.flush()


def rpc(url: str, method: str, params: list[object], timeout: float = 10.0) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read()).get("result")


def rpc_answers(url: str, timeout: float = 10.0) -> bool:
    """True when a JSON-RPC chain answers at ``url``; not when nothing listens there, or when
    what listens is silent or speaks something else."""
    try:
        return rpc(url, "eth_chainId", [], timeout) is not None
    except (OSError, ValueError, AttributeError):
        return False


def minutes_ago(minutes: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60 * minutes))


def ape_run(env: dict[str, str], *args: str) -> None:
    command = ["ape", "run", *args]
    sys.stdout.write("$ " + " ".join(command) + "\n")
    sys.stdout.flush()
    if (run := run_ape(env, *args, shown=True, timeout=None)).returncode != 0:
        raise subprocess.CalledProcessError(run.returncode, command)


def kill_strays() -> None:
    """Kills each process this one started that still runs, with its process group.

    A stop signal that lands while ``subprocess.Popen`` is starting a child raises before the
    caller holds the child, so no ``finally`` can stop it: the child (``ape run`` as it starts)
    would run on, alone. Each child here runs in a session of its own, led by its pid."""
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue  # ended while we looked
        if parent == me and state != "Z":
            # The group goes first; the child itself too, should it not lead one yet.
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(int(entry.name), signal.SIGKILL)
