"""`make demo`'s chapter of the keeper: four orders are left to what anyone may do, and nobody
calls. The service is restarted with a keeper key of its own (a development key derived here,
funded on the local chain; a real set-up keeps it in an encrypted keystore); until then the
story's own orders were settled by their parties, as the earlier chapters show."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils.crypto import keccak

from app.domain.ids import item_id_from_sku
from tools.demo_support import (
    BUYER_ACCOUNT,
    CARRIER_ID,
    MERCHANT_ACCOUNT,
    MERCHANT_ADDRESS,
    Demo,
    minutes_ago,
    rpc,
    say,
)

KEEPER = Account.from_key(keccak(text="trustmall demo keeper"))
BUYER = ["--account", BUYER_ACCOUNT]
MERCHANT = ["--account", MERCHANT_ACCOUNT]
KETTLE_SKU = "KEEPER-KETTLE"
DAY = 86_400


def keeper(demo: Demo, chapter: int) -> None:
    say(f"{chapter}. Nobody calls: four orders are left to the keeper, which does only what "
        "anyone may do once the contract allows it")  # fmt: skip
    forgotten = _order(demo, "order-forgotten.json", "0.02", "tea towels, delivered and forgotten")
    demo.ape("merchant", "order", "assign-carrier", "--order-file", str(forgotten),
             "--carrier", str(CARRIER_ID), *MERCHANT)  # fmt: skip
    forgotten_id = _id(forgotten)
    demo.carrier_reports(
        {"event_id": "ups-keeper-pickup", "order_id": forgotten_id, "action": "shipped",
         "occurred_at": minutes_ago(30), "reference": "UPS 1Z999AA10123456790"},
        {"event_id": "ups-keeper-pod", "order_id": forgotten_id, "action": "delivered",
         "occurred_at": minutes_ago(10), "reference": "POD left at the door"},
    )  # fmt: skip
    unshipped = _order(demo, "order-unshipped.json", "0.03", "mixing bowl, never shipped")
    asleep = _order(demo, "order-asleep.json", "0.04", "wall clock, disputed")
    demo.ape("merchant", "order", "ship", "--order-file", str(asleep), "--carrier",
             str(CARRIER_ID), "--tracking", "UPS 1Z999AA10123456791", *MERCHANT)  # fmt: skip
    demo.ape("buyer", "dispute", "--order-file", str(asleep), *BUYER,
             "--evidence", "the clock runs backwards")  # fmt: skip
    demo.ape("merchant", "order", "evidence", "--order-file", str(asleep),
             "--evidence", "it is a novelty clock; see the listing", *MERCHANT)  # fmt: skip
    kettle = _registered_kettle(demo)
    recalled = _order(demo, "order-recalled.json", "0.05", "kettle", "--item-id", kettle)
    demo.ape("merchant", "recall", "--sku", KETTLE_SKU, "--serial", "0001",
             "--reason", "faulty thermostat", *MERCHANT)  # fmt: skip

    say(f"{chapter}a. The service is restarted with a keeper key ({KEEPER.address}); the "
        "recalled kettle's share goes back to the buyer at once, no one asking")  # fmt: skip
    rpc(demo.rpc_url, "anvil_setBalance", [KEEPER.address, hex(10**18)])
    demo.service.stop()
    demo.service.env.update({
        "TRUSTMALL_KEEPER_PRIVATE_KEY": "0x" + bytes(KEEPER.key).hex(),
        "TRUSTMALL_KEEPER_INTERVAL_SECONDS": "1",
    })  # fmt: skip
    demo.service.start()
    _done(demo, {_id(recalled): "refund_recalled"})

    say(f"{chapter}b. A month passes: the forgotten order's window closes, the unshipped "
        "order's ship-by passes, the arbiter sleeps through the dispute's deadline")  # fmt: skip
    demo.time_passes(30 * DAY)
    _done(demo, {forgotten_id: "release", _id(unshipped): "refund", _id(asleep): "default_ruling"})
    for path in (forgotten, unshipped, asleep, recalled):
        demo.ape("buyer", "status", "--order-file", str(path), *BUYER)


def _order(demo: Demo, name: str, price: str, reference: str, *more: str) -> Path:
    path = demo.workdir / name
    demo.ape("buyer", "open", "--merchant", MERCHANT_ADDRESS, "--price", price, "--ref",
             reference, "--dispute-window", "1d", "--order-file", str(path), *more,
             *BUYER)  # fmt: skip
    return path


def _id(order_file: Path) -> str:
    return str(json.loads(order_file.read_text())["order_id"])


def _registered_kettle(demo: Demo) -> str:
    rows = demo.workdir / "kettle.csv"
    rows.write_text('sku,serial,metadata,metadata_uri\n'
                    f'{KETTLE_SKU},0001,"{{""name"":""Kettle""}}",https://shop.example/kettle.json\n',
                    encoding="utf-8")  # fmt: skip
    demo.ape("merchant", "register", str(rows), *MERCHANT)
    return "0x" + item_id_from_sku(MERCHANT_ADDRESS, KETTLE_SKU, "0001").hex()


def _done(demo: Demo, wanted: dict[str, str]) -> None:
    """Waits until GET /v1/keeper lists each (order, duty) done; prints them."""

    def found() -> list[dict[str, Any]] | None:
        done = demo.http.get("/v1/keeper").json()["done"]
        mine = [d for d in done if wanted.get(d["order_id"]) == d["duty"]]
        return mine if len(mine) == len(wanted) else None

    for duty in demo.wait_for(found, "the keeper's duties"):
        sys.stdout.write(
            f"keeper: {duty['duty']} of order {duty['order_id']} ({duty['function']}) in tx "
            f"{duty['tx_hash']} (block {duty['block_number']})\n"
        )
