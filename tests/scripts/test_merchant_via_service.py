"""`ape run merchant register --via-service URL` on the session's Anvil and suite: the merchant's
account signs each chunk of items as a ForwardRequest, the service (a real process, its relayer
on, with a keeper key of its own) relays it and pays; what the chain and the script say."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from web3 import Web3
from web3.contract import Contract

from app.domain.ids import item_id_from_sku
from harness.nodes import ChainNode, free_port
from harness.service import ServiceProcess
from tests.app.merchant.live_service import relaying_service
from tests.scripts.conftest import (
    MERCHANT,
    MERCHANT_ACCOUNT,
    ApeRun,
    Run,
    item_rows,
    write_csv,
)
from tests.scripts.test_merchant import ITEM_HEADER, ZERO_ADDRESS, owner_of, sku_ids

pytestmark = pytest.mark.anvil

REQUEST_ID = r"req_[0-9a-f]{32}"


@pytest.fixture(scope="module")
def service(
    anvil: ChainNode,
    merchant: str,
    script_dirs: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    """The service for the suite `ape run deploy` recorded, on the session's Anvil."""
    base = tmp_path_factory.mktemp("via-service")
    dirs = (script_dirs["deployments"], script_dirs["abi"])
    with relaying_service(anvil.rpc_url, *dirs, base) as found:
        yield found


def register_via(ape_run: ApeRun, service: ServiceProcess, path: Path, *args: str) -> Run:
    return ape_run(
        "merchant", "register", str(path), "--account", MERCHANT_ACCOUNT,
        "--via-service", service.url, "--timeout", "60", *args,
    )  # fmt: skip


def test_items_registered_through_the_service_are_the_merchants_and_it_pays_no_gas(
    ape_run: ApeRun, service: ServiceProcess, registry: Contract, w3: Web3, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, item_rows("VIA", 5))
    balance, sent = w3.eth.get_balance(MERCHANT), w3.eth.get_transaction_count(MERCHANT)

    run = register_via(ape_run, service, path, "--chunk-size", "2")

    assert run.returncode == 0, run.output
    posted = re.findall(
        rf"request ({REQUEST_ID}) \(nonce \d+, gas \d+\): (.*), (\d) item", run.output
    )
    assert [(what, int(n)) for _, what, n in posted] == [
        ("rows 1-2", 2),
        ("rows 3-4", 2),
        ("line 6", 1),
    ]
    confirmed = re.findall(rf"request ({REQUEST_ID}) confirmed in tx 0x[0-9a-f]{{64}}", run.output)
    # Said as each is seen settled: two settled by one transaction may be seen in either order.
    assert sorted(confirmed) == sorted(request for request, _, _ in posted)
    assert f"{MERCHANT} signs 3 request(s) for {service.url} to relay" in run.output
    assert "registered 5 item(s) in 3 relayed request(s)" in run.output
    for item_id in sku_ids("VIA", 5):
        assert owner_of(registry, item_id) == MERCHANT
        assert f"item 0x{item_id.hex()}  sku VIA serial" in run.output
        assert f"{service.url}/verify/0x{item_id.hex()}" in run.output
    assert w3.eth.get_balance(MERCHANT) == balance
    assert w3.eth.get_transaction_count(MERCHANT) == sent

    again = register_via(ape_run, service, path)

    assert again.returncode == 0, again.output
    assert "5 item(s) already registered by you: skipped" in again.output
    assert "nothing to register; nothing was posted" in again.output


def test_a_file_the_registry_refuses_exits_with_the_services_code_and_the_registry_error(
    ape_run: ApeRun, service: ServiceProcess, registry: Contract, w3: Web3, tmp_path: Path
) -> None:
    # REFUSED/0001 is the merchant's already, with other metadata: the script does not skip it,
    # the service simulates the request and the registry refuses the item.
    first = write_csv(tmp_path / "first.csv", ITEM_HEADER, item_rows("REFUSED", 1))
    assert register_via(ape_run, service, first).returncode == 0
    path = write_csv(
        tmp_path / "items.csv",
        ITEM_HEADER,
        [
            'REFUSED,0002,"{""name"":""new""}",https://shop.example/refused/2.json',
            'REFUSED,0001,"{""name"":""changed""}",https://shop.example/refused/1.json',
        ],
    )
    sent = w3.eth.get_transaction_count(MERCHANT)

    run = register_via(ape_run, service, path)

    assert run.returncode == 2, run.output
    taken = item_id_from_sku(MERCHANT, "REFUSED", "0001")
    assert (
        "line 3: rows 1-2: the service refuses it: contract_refused: "
        f"RegistryItemAlreadyRegistered(itemId=0x{taken.hex()})"
    ) in run.output
    assert "nothing was posted" in run.output
    assert owner_of(registry, item_id_from_sku(MERCHANT, "REFUSED", "0002")) == ZERO_ADDRESS
    assert w3.eth.get_transaction_count(MERCHANT) == sent


def test_a_refusal_after_requests_went_waits_for_them_and_exits_1_saying_they_were_posted(
    ape_run: ApeRun, service: ServiceProcess, registry: Contract, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "items.csv",
        ITEM_HEADER,
        [
            'REFUSED,0003,"{""name"":""new""}",https://shop.example/refused/3.json',
            'REFUSED,0001,"{""name"":""changed again""}",https://shop.example/refused/1.json',
        ],
    )

    run = register_via(ape_run, service, path, "--chunk-size", "1")

    assert run.returncode == 1, run.output
    assert re.search(rf"request {REQUEST_ID} confirmed in tx", run.output), run.output
    assert "registered 1 item(s) in 1 relayed request(s)" in run.output
    refused = "line 3: the service refuses it: contract_refused: RegistryItemAlreadyRegistered("
    assert refused in run.output
    assert "(1 request(s) were posted; see above)" in run.output
    assert owner_of(registry, item_id_from_sku(MERCHANT, "REFUSED", "0003")) == MERCHANT


def test_a_service_relaying_to_another_registry_gets_no_signature(
    ape_run: ApeRun, service: ServiceProcess, script_dirs: dict[str, Path], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, item_rows("ELSEWHERE", 1))
    record = json.loads((script_dirs["deployments"] / "1337.json").read_text())
    escrow = record["contracts"]["OrderEscrow"]["address"]  # a contract, not the service's

    run = register_via(ape_run, service, path, "--registry", escrow)

    assert run.returncode == 2, run.output
    signing = httpx.get(f"{service.url}/v1/merchant/requests/signing", timeout=10).json()
    named = signing["contracts"]["ProductRegistry"]
    assert f"the service relays to the registry {named}, not to {escrow}" in run.output
    assert "nothing was posted" in run.output


def test_a_service_that_does_not_answer_stops_the_run_before_anything_is_signed(
    ape_run: ApeRun, merchant: str, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "items.csv", ITEM_HEADER, item_rows("NOWHERE", 1))

    run = ape_run(
        "merchant", "register", str(path), "--account", MERCHANT_ACCOUNT,
        "--via-service", f"http://127.0.0.1:{free_port()}",
    )  # fmt: skip

    assert run.returncode == 2, run.output
    assert "does not answer" in run.output
    assert "nothing was posted" in run.output
