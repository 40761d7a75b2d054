"""`make demo`'s honest story, chapter by chapter: each part played the way its real actor plays
it. The verifier and the merchant run their scripts with their own keys (`ape run merchant ...`),
the carrier and the credit bureau send signed webhooks to the service, buyers, borrowers and
lenders run their scripts, and shoppers read the service's API and pages."""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from app.domain.ids import gs1_digital_link_path
from tools.demo_support import (
    BUYER_ACCOUNT,
    CARRIER_ID,
    EXAMPLES,
    GS1_PREFIX,
    LENDER_ACCOUNT,
    LENDER_ADDRESS,
    MERCHANT_ACCOUNT,
    MERCHANT_ADDRESS,
    SHOPPER_ACCOUNT,
    SHOPPER_ADDRESS,
    Demo,
    minutes_ago,
    rpc,
    say,
)

MERCHANT = ["--account", MERCHANT_ACCOUNT]
CARRIER = ["--carrier", str(CARRIER_ID)]
# The shopper's legal identifier, as the bureau knows it: the chain sees only its commitment.
SHOPPER_IDENTITY = "national id DE-T22000129"


def onboarding_and_registration(demo: Demo) -> None:
    say("3. A verifier checks the merchant's papers and onboards it: only a commitment to the "
        "owner's legal identity is recorded; GS1 licensed the brand its company prefix, and the "
        "verifier grants it on chain, so its GTINs are the brand's alone")  # fmt: skip
    demo.ape("ops", "approve-merchant", MERCHANT_ADDRESS, "--name", "Northwind Outfitters",
             "--identity", "company register HRB 0451; VAT DE811907980")  # fmt: skip
    demo.ape("ops", "grant-prefix", GS1_PREFIX, MERCHANT_ADDRESS)

    say("4. The merchant registers three items one by one (from a CSV file), with its own key: "
        "the registry derives each id from its SKU under the merchant's address")  # fmt: skip
    demo.ape("merchant", "register", str(EXAMPLES / "items.csv"), *MERCHANT,
             "--manifest", str(demo.workdir / "singles-manifest.json"),
             "--journal", str(demo.workdir / "items.journal.json"))  # fmt: skip

    say("5. The merchant registers a production lot of 1,000 items as one Merkle batch, and "
        "publishes its manifest (signed with its key) so shoppers get each proof")  # fmt: skip
    batch = demo.workdir / "batch-manifest.json"
    demo.ape("merchant", "register", str(EXAMPLES / "batch.csv"), "--batch", *MERCHANT,
             "--manifest", str(batch))  # fmt: skip
    demo.ape("merchant", "publish", str(batch), "--service", demo.service.url, *MERCHANT)
    passports(demo)


def passports(demo: Demo) -> None:
    say("5a. The merchant publishes its products' passports (name, picture, origin, production "
        "date, lot, materials, care; in English and Chinese) and their pictures: each is kept "
        "under its keccak256, which the items registered above commit to, so shoppers' pages "
        "show them as checked")  # fmt: skip
    pictures = sorted((EXAMPLES / "pictures").glob("*.png"))
    for picture in pictures:
        _publish(demo, "/v1/media", picture.read_bytes(), "image/png", picture.name)
    documents: set[str] = set()
    for listing in ("items.csv", "batch.csv"):
        with (EXAMPLES / listing).open(newline="") as rows:
            documents.update(row["metadata_file"] for row in csv.DictReader(rows))
    for name in sorted(documents):
        _publish(demo, "/v1/metadata", (EXAMPLES / name).read_bytes(), "application/json", name)
    sys.stdout.write(f"  {len(documents)} passports and {len(pictures)} pictures published\n")


def _publish(demo: Demo, path: str, body: bytes, media_type: str, name: str) -> None:
    answer = demo.http.post(path, content=body, headers={"Content-Type": media_type})
    if answer.status_code not in (200, 201):
        raise SystemExit(f"{name} was not published: {answer.status_code} {answer.text}")
    sys.stdout.write(f"  {name}: {demo.service.url}{answer.json()['url']}\n")


def custody(demo: Demo) -> None:
    say("6. Custody: the merchant records production and shipping; the carrier's webhook "
        "reports transit and delivery, and the service relays it on chain")  # fmt: skip
    demo.ape("merchant", "custody", str(EXAMPLES / "custody.csv"), *MERCHANT,
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
    demo.ape("demo", "report", bag, "--kind", "0", "--evidence",
             "photo of a label with a misprinted hologram; seller: street market",
             "--account", SHOPPER_ACCOUNT)  # fmt: skip
    demo.ape("ops", "confirm-report", "1", "--finding", "hologram serial not issued")

    say("8. The merchant recalls one item of the batch (activated first, from its key and "
        "proof in the manifest)")  # fmt: skip
    batch = demo.workdir / "batch-manifest.json"
    recalled = demo.manifest(batch.name)["items"][0]["item_id"]
    demo.ape("merchant", "recall", "--item-id", recalled, "--manifest", str(batch), "--reason",
             "lot LOT2026: sole delamination found in quality control", *MERCHANT)  # fmt: skip


def escrow(demo: Demo) -> None:
    buyer = ["--account", BUYER_ACCOUNT]
    order = demo.workdir / "order-mug.json"
    disputed = demo.workdir / "order-lamp.json"
    mug = demo.manifest("singles-manifest.json")["items"][1]["item_id"]

    say("9. A buyer orders a registered mug: 0.25 ETH is locked in escrow, paid to no one yet, "
        "and the registry holds the mug for this order alone")  # fmt: skip
    demo.ape("buyer", "open", "--merchant", MERCHANT_ADDRESS, "--price", "0.25", "--item-id", mug,
             "--ref", "web order 1001", "--dispute-window", "1d", "--order-file", str(order),
             *buyer)  # fmt: skip

    say(f"10. The merchant hands the parcel to carrier {CARRIER_ID}; only that carrier's "
        "webhooks count on the order: they report it shipped, then delivered")  # fmt: skip
    demo.ape("merchant", "order", "assign-carrier", "--order-file", str(order), *CARRIER,
             *MERCHANT)  # fmt: skip
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

    say("11. The dispute window passes quietly: anyone may release (the mug is recorded sold "
        "to the buyer); the merchant withdraws")  # fmt: skip
    demo.time_passes(24 * 3600 + 60)
    demo.ape("merchant", "order", "release", "--order-file", str(order), *MERCHANT)
    demo.ape("merchant", "order", "withdraw", *MERCHANT)

    say("12. Another order goes wrong: the merchant ships it, the buyer disputes, the arbiter "
        "splits 70/30")  # fmt: skip
    demo.ape("buyer", "open", "--merchant", MERCHANT_ADDRESS, "--price", "0.1",
             "--ref", "desk lamp, catalogue no. L-220", "--dispute-window", "1d",
             "--order-file", str(disputed), *buyer)  # fmt: skip
    demo.ape("merchant", "order", "ship", "--order-file", str(disputed), *CARRIER,
             "--tracking", "UPS 1Z999AA10123456785", *MERCHANT)  # fmt: skip
    demo.ape("buyer", "dispute", "--order-file", str(disputed), *buyer,
             "--evidence", "lamp arrived with a cracked shade; photos attached")  # fmt: skip
    demo.ape("merchant", "order", "evidence", "--order-file", str(disputed),
             "--evidence", "packing video shows the shade intact", *MERCHANT)  # fmt: skip
    demo.ape("arbiter", "settle", "--order-file", str(disputed), "--buyer-bps", "7000",
             "--ruling", "damage in transit likely; merchant's packing adequate")  # fmt: skip
    demo.ape("buyer", "withdraw", *buyer)


def credit(demo: Demo) -> None:
    shopper, lender = ["--account", SHOPPER_ACCOUNT], ["--account", LENDER_ACCOUNT]
    attestation = demo.workdir / "attestation.json"
    order = demo.workdir / "order-shoes.json"

    say("13. The credit desk's faucet: dev dollars for a lender and a shopper")
    record = demo.deployment()
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
        "encrypted and signs an attestation of the score band and of a commitment to the "
        "shopper's legal identity; the verifier wants two attesters, so the bureau cosigns and "
        "the service relays the application. Only the band and hashes go on chain")  # fmt: skip
    answer = demo.post_signed(demo.bureau, "/v1/credit/reports", {
        "borrower": SHOPPER_ADDRESS,
        "identity": SHOPPER_IDENTITY,
        "score": 712,
        "model": "trustmall-score-v3",
        "report": {
            "bureau": "Example Credit Bureau",
            "subject": "Alex Shopper",
            "accounts": [{"kind": "credit card", "opened": "2019-04", "late_payments": 0}],
        },
    })  # fmt: skip
    attestation.write_text(json.dumps(answer["signed_attestation"], indent=2))
    report_id = answer["id"]
    sys.stdout.write(
        f"  report {report_id}: band {answer['band']}, {answer['status']} "
        f"({len(answer['signers'])} of {answer['quorum']} signatures), attestation {attestation}\n"
    )
    demo.ape("bureau", "cosign", str(attestation), "--service", demo.service.url,
             "--report-id", report_id, env={
                 "TRUSTMALL_BUREAU_API_KEY": demo.bureau.api_key,
                 "TRUSTMALL_BUREAU_HMAC_SECRET": demo.bureau.hmac_secret,
             })  # fmt: skip
    report = demo.get_signed(demo.bureau, f"/v1/credit/reports/{report_id}")
    if not report.get("relay_id"):
        raise SystemExit(f"the cosigned report was not relayed: {report['status']}")
    demo.follow(report["relay_id"], "the credit application")

    say("16. The public policy decided at once, on the record: the shopper's line; signed in "
        "with the own wallet (EIP-4361), the shopper reads the report behind the decision, "
        "checked against the chain's commitment: nobody else can")  # fmt: skip
    demo.ape("borrower", "status", *shopper)
    demo.indexed()
    demo.ape("borrower", "report", "--service", demo.service.url, *shopper)

    say(
        "17. The shopper buys trail running shoes of the lot for 480 dUSD: 180 from the wallet, "
        "300 on credit. Credit pays only for the registry items of an approved merchant the "
        "shopper does not own, and pays the merchant only once the carrier reports delivery"
    )
    batch = demo.workdir / "batch-manifest.json"
    pair = demo.manifest(batch.name)["items"][2]
    shoes, ref = pair["item_id"], f"trail running shoes, serial {pair['serial']}"
    demo.ape("merchant", "activate", str(batch), "--item", shoes, *MERCHANT)
    demo.ape("borrower", "draw", "--merchant", MERCHANT_ADDRESS, "--price", "480",
             "--down-payment", "180", "--item-id", shoes, "--ref", ref,
             "--dispute-window", "2d", "--order-file", str(order), *shopper)  # fmt: skip
    demo.ape("merchant", "order", "assign-carrier", "--order-file", str(order), *CARRIER,
             *MERCHANT)  # fmt: skip
    order_id = json.loads(order.read_text())["order_id"]
    demo.carrier_reports(
        {"event_id": "dpd-LOT2026-0003-pickup", "order_id": order_id, "action": "shipped",
         "occurred_at": minutes_ago(4), "reference": "DPD 0150 1234 5678"},
        {"event_id": "dpd-LOT2026-0003-pod", "order_id": order_id, "action": "delivered",
         "occurred_at": minutes_ago(1), "reference": "left with neighbour, no. 12"},
    )  # fmt: skip

    say("18. Two weeks on: the shoes' payment is released; the shopper repays 200 dUSD, "
        "interest first, then principal")  # fmt: skip
    demo.time_passes(14 * 24 * 3600)
    demo.ape("merchant", "order", "release", "--order-file", str(order), *MERCHANT)
    demo.ape("borrower", "repay", "--amount", "200", *shopper)

    say("19. The lender asks for 5,000 dUSD back: exits queue, so nobody leaves ahead of a loss "
        "already visible; the shares are claimable after the pool's cooldown")  # fmt: skip
    demo.ape("lender", "request-redeem", "--amount", "5000", *lender)


def shoppers_view(demo: Demo, chapter: int) -> None:
    say(f"{chapter}. What shoppers see: the service's verdicts, from its index of the chain")
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
        ("batch item bought on credit", batch["items"][2]["item_id"]),
    ]
    for label, item_id in shown:
        verdict = demo.http.get(f"/v1/items/{item_id}").json()
        trail = ", ".join(c["action"] for c in verdict["custody"]) or "no custody events"
        sys.stdout.write(
            f"  {label:<28} {verdict['verdict']:<20} {verdict['explanation']}\n"
            f"  {'':<28} {_product(demo, verdict)}; trail: {trail}\n"
            f"  {'':<28} {base}/verify/{item_id}\n"
        )
    passport_item = shown[0][1]
    sys.stdout.write(
        f"  the passport page in Chinese: {base}/verify/{passport_item}?lang=zh-CN\n"
        "  (each item page has the report-a-problem form: no wallet needed)\n"
    )
    gs1 = batch["items"][1]
    if gs1.get("gtin") and gs1.get("serial"):
        link = gs1_digital_link_path(gs1["gtin"], gs1["serial"])
        sys.stdout.write(f"  the batch item's GS1 Digital Link: {base}{link}\n")
    sys.stdout.write(
        f"  its QR label: {base}/v1/items/{gs1['item_id']}/qr.svg; the batch's label sheet: "
        f"{base}/v1/batches/{batch['root']}/labels.svg\n"
    )
    line = demo.http.get(f"/v1/credit/lines/{SHOPPER_ADDRESS}").json()
    decision = line["decision"]
    reasons = "; ".join(reason["en"] for reason in decision["reasons"]) or "no adverse reason"
    sys.stdout.write(
        f"  the borrower's credit decision: {decision['outcome']} in band {decision['band']} "
        f"under policy v{decision['policy_version']} ({reasons})\n"
        f"  {'':<28} {base}/credit/{SHOPPER_ADDRESS} (中文: ?lang=zh-CN)\n"
        f"  the market's dashboard: {base}/dashboard, and the merchant's: "
        f"{base}/dashboard/merchants/{MERCHANT_ADDRESS}\n"
    )
    stats = demo.http.get("/v1/stats").json()
    approvals = sum(tier["approved"] for tier in stats["credit"]["by_tier"])
    sys.stdout.write(
        f"  platform figures ({base}/v1/stats): {stats['items']['registered']:,} items "
        f"registered, {stats['disputes']['orders']} orders, {stats['disputes']['disputes']} "
        f"disputed, {approvals} credit approval(s)\n"
    )


def _product(demo: Demo, verdict: dict[str, Any]) -> str:
    """The item's name from the passport its merchant published, and the check of its hash."""
    metadata = verdict.get("metadata") or {}
    document = metadata.get("document")
    if not document:
        return f"no passport published (metadata {metadata.get('check', 'none')})"
    name = demo.http.get(document).json()["name"]
    english = name if isinstance(name, str) else name.get("en") or next(iter(name.values()))
    mark = "checked ✓" if metadata.get("check") == "match" else metadata.get("check")
    return f"{english} (passport {mark})"
