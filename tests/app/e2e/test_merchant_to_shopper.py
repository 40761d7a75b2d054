"""End to end, as the people involved do it: the suite deployed by `ape run deploy`, the service
run as `make api` runs it (a uvicorn process with its indexer and relayer), a merchant using its
scripts with its own key (`ape run ops approve-merchant|register|publish`), a carrier posting signed
webhooks, and a shopper opening the verification page in headless Chromium — for an item
registered singly with the carrier's trail, and for a batch item reached by its GS1 Digital Link.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from app.domain.ids import gs1_company_prefixes, item_id_from_gs1
from harness.ape_run import (
    MERCHANT,
    MERCHANT_ACCOUNT,
    RIVAL_ACCOUNT,
    RIVAL_MERCHANT,
    Run,
    invoke,
    run_ape,
)
from harness.browser import PHONE_HEIGHT, PHONE_WIDTH, chromium, decode_png, render
from harness.nodes import ROOT, ChainNode, free_port
from harness.service import ServiceProcess, service_environment
from tests.app.conftest import (
    CARRIER,
    CARRIER_ID,
    ORACLE_KEY,
    SourceSecrets,
    ape_environment,
    deploy_suite,
)
from tests.app.ingest.support import event, post_signed
from tests.app.merchant.live_service import eventually

pytestmark = pytest.mark.anvil

GTIN = "4006381333931"
# The brand's GS1 company prefix (7 digits): the verifier grants it, so the GTIN's ids are its.
GS1_PREFIX = gs1_company_prefixes(GTIN)[3]
BATCH_SERIALS = [f"E2E-{n:04d}" for n in range(1, 9)]
AUTHENTIC_GREEN = (0x13, 0x73, 0x33)  # .ok in app/api/html_pages.py


@dataclass(frozen=True)
class Story:
    """What the merchant's scripts wrote, and the running service."""

    service: ServiceProcess
    singles: dict[str, Any]
    batch: dict[str, Any]
    run: Callable[..., Run]
    publish: Run


@pytest.fixture(scope="module")
def story(
    anvil: ChainNode, carrier_secrets: SourceSecrets, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Story]:
    base = tmp_path_factory.mktemp("e2e")
    deploy_suite(anvil.rpc_url, base)
    env = ape_environment(anvil.rpc_url, base)

    def ape(*args: str) -> Run:
        run = run_ape(env, *args)
        assert run.returncode == 0, f"ape run {' '.join(args)}:\n{run.output}"
        return run

    def operator(*args: str) -> None:
        # The verifier's set-up runs in this process (an `ape run` costs seconds to start); the
        # merchant's commands, which this story is about, run as a merchant runs them.
        from scripts.ops import cli

        run = invoke(cli, anvil.rpc_url, *args, "--deployments-dir", str(base / "deployments"))
        assert run.returncode == 0, f"ape run ops {' '.join(args)}:\n{run.output}"

    port = free_port()
    service = ServiceProcess(
        service_environment(
            rpc_url=anvil.rpc_url,
            deployments_dir=base / "deployments",
            abi_dir=base / "abi",
            database=base / "service.db",
            oracle_key=ORACLE_KEY,
            sources={
                CARRIER: {
                    "kind": "carrier",
                    "api_key": carrier_secrets.api_key,
                    "hmac_secret": carrier_secrets.hmac_secret,
                    "carrier_id": CARRIER_ID,
                    # The carrier moves this merchant's goods (app.ingest.custody_scope).
                    "merchants": [MERCHANT],
                }
            },
            environment="test",
            confirmation_depth=0,
            public_base_url=f"http://127.0.0.1:{port}",
            relay_poll_seconds=0.1,
            index_poll_seconds=0.1,
        ),
        port,
        base / "service.log",
    )
    service.start()
    try:
        operator("approve-merchant", MERCHANT, "--name", "Bergwerk Shoes",
                 "--identity", "company register HRB 7731")  # fmt: skip
        operator("grant-prefix", GS1_PREFIX, MERCHANT)
        ape("merchant", "register", str(ROOT / "examples" / "items.csv"),
            "--account", MERCHANT_ACCOUNT, "--manifest", str(base / "singles.json"))  # fmt: skip
        batch_csv = base / "batch.csv"
        with batch_csv.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["gtin", "serial", "metadata", "metadata_uri"])
            for serial in BATCH_SERIALS:
                metadata = json.dumps({"product": "Trail shoe", "lot": "E2E", "serial": serial})
                writer.writerow([GTIN, serial, metadata, f"https://shop.example/{serial}.json"])
        ape("merchant", "register", str(batch_csv), "--batch", "--account", MERCHANT_ACCOUNT,
            "--manifest", str(base / "batch.json"))  # fmt: skip
        publish = ape("merchant", "publish", str(base / "batch.json"),
                      "--service", service.url, "--account", MERCHANT_ACCOUNT)  # fmt: skip
        yield Story(
            service=service,
            singles=json.loads((base / "singles.json").read_text()),
            batch=json.loads((base / "batch.json").read_text()),
            run=lambda *args: run_ape(env, *args),
            publish=publish,
        )
    finally:
        service.stop()


def _item(client: httpx.Client, item_id: str) -> dict[str, Any] | None:
    response = client.get(f"/v1/items/{item_id}")
    return response.json() if response.status_code == 200 else None


def test_batch_published_by_the_merchants_script_is_verified_by_its_gs1_link_in_a_browser(
    story: Story, tmp_path: Path
) -> None:
    assert "published: batch " in story.publish.output
    assert f"{len(BATCH_SERIALS)} items" in story.publish.output
    assert "matches the batch's on-chain metadata hash" in story.publish.output
    serial = BATCH_SERIALS[2]
    item_id = "0x" + item_id_from_gs1(GTIN, serial).hex()

    with httpx.Client(base_url=story.service.url, timeout=10) as client:
        record = eventually(lambda: _item(client, item_id), "the batch item's indexing")
    assert record["authentic"] is True
    assert record["batch"]["root"] == story.batch["root"]
    assert record["batch"]["proof_verified"] is True
    assert record["merchant"]["name"] == "Bergwerk Shoes"

    dom = chromium(tmp_path, "--dump-dom", f"{story.service.url}/01/0{GTIN}/21/{serial}")
    assert dom.returncode == 0, dom.stderr
    assert '<h1 id="verdict">Authentic</h1>' in dom.stdout
    assert story.batch["root"] in dom.stdout
    assert "Bergwerk Shoes" in dom.stdout


def test_carrier_webhooks_reach_the_chain_and_the_shoppers_page_shows_the_trail(
    story: Story, carrier_secrets: SourceSecrets, tmp_path: Path
) -> None:
    item_id = story.singles["items"][0]["item_id"]
    events = [
        event("e2e-shipped", item_id=item_id, action="shipped"),
        event("e2e-delivered", item_id=item_id, action="delivered"),
    ]
    with httpx.Client(base_url=story.service.url, timeout=10) as client:
        answer = post_signed(client, carrier_secrets, events)
        assert answer.status_code == 202, answer.text
        relay_ids = [accepted["relay_id"] for accepted in answer.json()["accepted"]]

        def confirmed() -> list[dict[str, Any]] | None:
            relays = [client.get(f"/v1/relay/{relay_id}").json() for relay_id in relay_ids]
            return relays if all(r["status"] == "confirmed" for r in relays) else None

        relays = eventually(confirmed, "the relay of the carrier's events")

        def trail() -> list[dict[str, Any]] | None:
            record = _item(client, item_id)
            return record["custody"] if record and len(record["custody"]) == 2 else None

        custody = eventually(trail, "the indexing of the relayed custody events")
    assert [c["action"] for c in custody] == ["shipped", "delivered"]
    oracle = Account.from_key(ORACLE_KEY).address
    assert {c["submitter"] for c in custody} == {oracle}
    assert {c["tx_hash"] for c in custody} == {r["tx_hash"] for r in relays}

    page = render(f"{story.service.url}/verify/{item_id}", tmp_path)
    assert '<h1 id="verdict">Authentic</h1>' in page.dom
    assert relays[0]["tx_hash"] in page.dom
    pixels = decode_png(page.screenshot)
    assert (len(pixels[0]), len(pixels)) == (PHONE_WIDTH, PHONE_HEIGHT)
    assert pixels[80][40] == AUTHENTIC_GREEN  # the verdict banner, under the language switch


def test_publish_refuses_a_batch_another_merchant_registered_and_an_absent_service(
    story: Story, tmp_path: Path
) -> None:
    manifest = tmp_path / "batch.json"
    manifest.write_text(json.dumps(story.batch))
    rival = story.run("merchant", "publish", str(manifest), "--service", story.service.url,
                      "--account", RIVAL_ACCOUNT)  # fmt: skip
    assert rival.returncode == 2  # stopped before anything was sent
    assert f"is registered by {MERCHANT}, not by {RIVAL_MERCHANT}" in rival.output

    dead = f"http://127.0.0.1:{free_port()}"
    absent = story.run("merchant", "publish", str(manifest), "--service", dead,
                       "--account", MERCHANT_ACCOUNT)  # fmt: skip
    assert absent.returncode == 2
    assert f"the service at {dead}/v1/batches/{story.batch['root']}/manifest does not answer" in (
        absent.output
    )
