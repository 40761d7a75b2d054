"""The examples' clients (examples/node/register.mjs, examples/python/register.py) as a merchant
runs them, against the service on a real port with its relayer and webhook deliverer on, the
suite on an Anvil of this module's own (its clock is the wall clock the examples' deadlines
follow). The merchant holds no ETH; the test signs in for it (SIWE) and subscribes the example's
receiver, then replays the request.confirmed delivery the example got: it must say it dedupes it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3
from web3.contract import Contract

from app.domain.ids import item_id_from_sku
from app.domain.metadata import metadata_hash
from harness.ape_run import ADMIN
from harness.nodes import ROOT, anvil_command, free_port, stop_process
from harness.service import ServiceProcess
from tests.app.conftest import deploy_suite
from tests.app.merchant.live_service import (
    eventually,
    relaying_service,
    replay_delivered,
    signed_in,
    subscribe,
)
from tests.conftest import node_on_a_free_port

pytestmark = pytest.mark.anvil

CLIENTS = {
    "node": ["node", str(ROOT / "examples" / "node" / "register.mjs")],
    "python": [sys.executable, str(ROOT / "examples" / "python" / "register.py")],
}
REQUEST_ID = r"req_[0-9a-f]{32}"
EVENT_ID = r"evt_[0-9a-f]{32}"


@dataclass(frozen=True)
class Relay:
    service: ServiceProcess
    w3: Web3
    registry: Contract


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    base = tmp_path_factory.mktemp("examples")
    with node_on_a_free_port(anvil_command, base / "anvil.log") as anvil:
        suite = deploy_suite(anvil.rpc_url, base)
        w3 = Web3(Web3.HTTPProvider(anvil.rpc_url))
        abi = json.loads((suite.abi_dir / "ProductRegistry.json").read_text())
        address = Web3.to_checksum_address(suite.addresses["ProductRegistry"])
        registry = w3.eth.contract(address=address, abi=abi)
        with relaying_service(anvil.rpc_url, suite.deployments_dir, suite.abi_dir, base) as svc:
            yield Relay(svc, w3, registry)


@dataclass
class Client:
    """An example's process and what it printed so far, line by line."""

    process: subprocess.Popen[bytes]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def start_reading(self) -> None:
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.decode().rstrip("\n"))

    def said(self, pattern: str, what: str) -> re.Match[str]:
        """The first line matching ``pattern``, once the example printed it."""

        def found() -> re.Match[str] | None:
            ended = self.process.poll() is not None
            if ended and self.reader is not None:
                self.reader.join(timeout=10)  # its last lines read
            matches = (re.search(pattern, line) for line in list(self.lines))
            match = next((m for m in matches if m), None)
            if match is None and ended:
                output = "\n".join(self.lines)
                raise AssertionError(f"the example ended before {what}:\n{output}")
            return match

        return eventually(found, what)


@pytest.mark.parametrize("language", sorted(CLIENTS))
def test_the_example_registers_items_the_service_relays_and_dedupes_a_replayed_webhook(
    relay: Relay, language: str, tmp_path: Path
) -> None:
    merchant = Account.create()
    key = "0x" + bytes(merchant.key).hex()
    approve = relay.registry.functions.approveMerchant(merchant.address, language, b"\x01" * 32)
    relay.w3.eth.wait_for_transaction_receipt(approve.transact({"from": ADMIN}))
    session = signed_in(relay.service.url, key)
    port = free_port()
    endpoint = subscribe(session, f"http://127.0.0.1:{port}/webhooks/trustmall")
    items = [
        {
            "sku": f"EX-{language}",
            "serial": f"{n:04d}",
            "metadata": {"name": "Café cup", "serial": n, "fragile": True},
            "metadata_uri": f"https://shop.example/{language}/{n}.json",
        }
        for n in range(1, 4)
    ]
    items_file = tmp_path / "items.json"
    items_file.write_text(json.dumps(items), encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "TRUSTMALL_MERCHANT_KEY": key,
        "TRUSTMALL_WEBHOOK_SECRET": endpoint["secret"],
    }
    command = [*CLIENTS[language], "--service", relay.service.url, "--items", str(items_file)]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--timeout", "60"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    client = Client(process)
    client.start_reading()
    try:
        request = client.said(rf"request ({REQUEST_ID}) queued: 3 item\(s\)", "the post")[1]
        client.said(rf"request {request} confirmed in block \d+", "the confirmation")
        notified = rf"webhook ({EVENT_ID}) request\.confirmed for {request}: signature verified"
        event = client.said(notified, "the request.confirmed webhook")[1]
        client.said(r"all 1 request\(s\) confirmed", "the end of the waiting")

        replay_delivered(session, endpoint["id"], event)

        client.said(rf"webhook {event}: a duplicate, already handled", "the replay's dedupe")
    finally:
        stop_process(process, timeout=10)
        session.close()
    assert process.returncode == 0, "\n".join(client.lines)
    assert not [line for line in client.lines if "refused" in line], client.lines
    registered = relay.registry.events.ItemRegistered.get_logs(
        from_block=0, argument_filters={"merchant": merchant.address}
    )
    hashes = {bytes(log.args.itemId): bytes(log.args.metadataHash) for log in registered}
    for item in items:
        item_id = item_id_from_sku(merchant.address, str(item["sku"]), str(item["serial"]))
        assert relay.registry.functions.itemOf(item_id).call()[0] == merchant.address
        # The example's canonical JSON is the service's: the shopper's page finds it authentic.
        assert hashes[item_id] == metadata_hash(item["metadata"])
    assert relay.w3.eth.get_balance(merchant.address) == 0
