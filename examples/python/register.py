"""Registers a merchant's items through the TrustMall service, which relays them and pays the gas:
the merchant's key signs each request here (EIP-712) and never leaves this process. Then waits
for each request to be confirmed (polling, and by the request.confirmed webhook, whose signature
it checks and which it dedupes by event id). See examples/README.md.

    TRUSTMALL_MERCHANT_KEY=0x... TRUSTMALL_WEBHOOK_SECRET=whsec_... \\
        python examples/python/register.py --service http://127.0.0.1:8000 --port 8787

Needs eth-account (with eth-utils), eth-abi and httpx only.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

HERE = Path(__file__).resolve().parent
REGISTER_ITEMS = "registerItems(((uint8,string,string),bytes32,string)[])"
ITEM_INPUTS = "((uint8,string,string),bytes32,string)[]"
ITEMS_PER_REQUEST = 100
SKU = 0  # IProductRegistry.IdScheme.Sku


def gas_for(count: int, max_gas: int) -> int:
    """No node to estimate with: an allowance per item, about twice what a SKU item with a short
    URI takes. The service simulates each request with exactly this gas before accepting it."""
    return min(50_000 + 60_000 * count, max_gas)


def canonical(metadata: Any) -> bytes:
    """RFC 8785 canonical JSON for text, integers and booleans (what these files hold): the
    registry keeps its keccak256."""
    return json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - the example's report, line by line


# --- the webhook receiver: check the signature, handle each event id once ------------------------
class Inbox:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.handled: set[str] = set()  # event ids
        self.outcomes: dict[str, dict[str, Any]] = {}  # request id -> its outcome's event
        self.lock = threading.Lock()

    def verified(self, header: str, body: bytes, tolerance: int = 300) -> bool:
        fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        message = f"{fields.get('t')}.".encode() + body
        expected = hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()
        fresh = abs(time.time() - int(fields.get("t", "0"))) <= tolerance
        return fresh and hmac.compare_digest(expected, fields.get("v1", ""))

    def receive(self, header: str, body: bytes) -> int:
        if not self.verified(header, body):
            say("webhook refused: bad or stale signature")
            return 400
        event = json.loads(body)
        with self.lock:
            if event["id"] in self.handled:
                say(f"webhook {event['id']}: a duplicate, already handled")
                return 200
            self.handled.add(event["id"])
            request = event["data"].get("request")
            say(f"webhook {event['id']} {event['type']} for {request}: signature verified")
            if event["type"].startswith("request."):
                self.outcomes[request] = event
        return 200


def serve(inbox: Inbox, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(inbox.receive(self.headers.get("TrustMall-Signature", ""), body))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- the service's API ----------------------------------------------------------------------------
def answer(response: httpx.Response) -> Any:
    said = response.json()
    if response.is_error:
        error = said.get("error", {})
        details = f" {json.dumps(error['details'])}" if error.get("details") else ""
        say(f"refused: {error.get('code')}: {error.get('message')}{details}")
        sys.exit(1)
    return said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_url = os.environ.get("TRUSTMALL_SERVICE_URL", "http://127.0.0.1:8000")
    parser.add_argument("--service", default=default_url)
    parser.add_argument("--items", type=Path, default=HERE.parent / "items-relayed.json")
    parser.add_argument("--port", type=int, default=8787, help="where the webhook endpoint points")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for outcomes")
    args = parser.parse_args()
    key = os.environ.get("TRUSTMALL_MERCHANT_KEY")  # the merchant's own: never sent anywhere
    secret = os.environ.get("TRUSTMALL_WEBHOOK_SECRET")  # the endpoint's, shown once at creation
    if not key or not secret:
        sys.exit("set TRUSTMALL_MERCHANT_KEY and TRUSTMALL_WEBHOOK_SECRET (see examples/README.md)")
    account = Account.from_key(key)
    inbox = Inbox(secret)
    serve(inbox, args.port)
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, lambda *_: sys.exit(0))
    api = httpx.Client(base_url=args.service, timeout=30)

    # Sign and post the requests, in nonce order. A careful client also checks the domain
    # against the chain it knows (the forwarder the registry trusts); `ape run merchant register
    # --via-service` does.
    signing = answer(api.get("/v1/merchant/requests/signing"))
    nonce = int(answer(api.get(f"/v1/merchant/requests/nonce/{account.address}"))["nonce"])
    deadline = int(time.time()) + 3_600  # a request still queued then fails
    items = [
        ((SKU, i["sku"], i["serial"]), keccak(canonical(i["metadata"])), i["metadata_uri"])
        for i in json.loads(args.items.read_text(encoding="utf-8"))
    ]
    requests: list[str] = []
    for start in range(0, len(items), ITEMS_PER_REQUEST):
        chunk = items[start : start + ITEMS_PER_REQUEST]
        data = keccak(text=REGISTER_ITEMS)[:4] + encode([ITEM_INPUTS], [chunk])
        request = {
            "from": account.address,
            "to": signing["contracts"]["ProductRegistry"],
            "value": 0,
            "gas": gas_for(len(chunk), signing["max_gas"]),
            "nonce": nonce,
            "deadline": deadline,
            "data": data,
        }
        typed = {
            "types": signing["types"],
            "primaryType": signing["primary_type"],
            "domain": signing["domain"],
            "message": request,
        }
        signature = account.sign_message(encode_typed_data(full_message=typed)).signature
        body = {
            **request,
            "chainId": signing["chain_id"],
            "value": "0",
            "gas": str(request["gas"]),
            "nonce": str(nonce),
            "data": "0x" + data.hex(),
            "signature": "0x" + bytes(signature).hex(),
        }
        accepted = answer(api.post("/v1/merchant/requests", json=body))
        say(f"request {accepted['id']} {accepted['status']}: {len(chunk)} item(s), nonce {nonce}")
        requests.append(accepted["id"])
        nonce += 1

    # Wait for each outcome: by polling, and by its webhook.
    until = time.monotonic() + args.timeout
    settled: dict[str, dict[str, Any]] = {}
    while len(settled) < len(requests) or any(r not in inbox.outcomes for r in requests):
        if time.monotonic() > until:
            say(f"timed out: {len(settled)} of {len(requests)} request(s) settled")
            sys.exit(1)
        for request_id in [r for r in requests if r not in settled]:
            found = answer(api.get(f"/v1/merchant/requests/{request_id}"))
            if found["status"] == "confirmed":
                say(f"request {request_id} confirmed in block {found['block_number']} "
                    f"(tx {found['tx_hash']})")  # fmt: skip
            elif found["status"] == "failed":
                say(f"request {request_id} failed: {found['reason']}")
            if found["status"] in ("confirmed", "failed"):
                settled[request_id] = found
        time.sleep(0.25)
    if any(found["status"] != "confirmed" for found in settled.values()):
        sys.exit(1)
    say(f"all {len(requests)} request(s) confirmed; still receiving webhooks on port "
        f"{args.port} (Ctrl-C to stop)")  # fmt: skip
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
