"""The service split as it scales on one machine: API processes (``python -m app.serve --workers
2``, their background tasks off) only accept, and the workers' own process (``python -m
app.worker``) relays what they accepted, on the same database. Real processes: the API processes,
the worker, the session's Anvil."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from app.chain.contracts import connect
from harness.merchant_requests import REQUESTS_PATH, MerchantDriver
from harness.nodes import free_port
from harness.service import ServiceProcess, WorkerProcess
from tests.app.conftest import Deployment
from tests.app.merchant.live_service import eventually, relay_environment


def test_api_processes_accept_and_the_worker_process_relays_what_they_accepted(
    deployment: Deployment, tmp_path: Path
) -> None:
    w3 = connect(deployment.rpc_url)
    driver = MerchantDriver(w3, deployment.addresses, deployment.abi_dir)
    lanes = driver.sign(driver.approve(2, "Split"), 3, 2, "split")
    port = free_port()
    env = relay_environment(
        deployment.rpc_url, deployment.deployments_dir, deployment.abi_dir, tmp_path, port
    )
    api_env = {**env, "TRUSTMALL_RUN_BACKGROUND_TASKS": "false"}
    api = ServiceProcess(api_env, port, tmp_path / "api.log", api_processes=2)
    with api, httpx.Client(base_url=api.url, timeout=30) as client:
        answers = [
            client.post(REQUESTS_PATH, json=request.body)
            for nonces in zip(*lanes, strict=True)
            for request in nonces
        ]
        assert [answer.status_code for answer in answers] == [202] * 6, answers[0].text
        assert {answer.json()["status"] for answer in answers} == {"queued"}

        with WorkerProcess(env, tmp_path / "worker.log") as worker:

            def settled() -> list[str] | None:
                found = [
                    client.get(f"{REQUESTS_PATH}/{request.id}").json()["status"]
                    for lane in lanes
                    for request in lane
                ]
                return found if all(status == "confirmed" for status in found) else None

            eventually(settled, "every accepted request confirmed by the worker process")
            process = worker.process
            assert process is not None
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        assert client.get("/healthz").status_code == 200  # the API outlives the worker

    registered = {
        item: driver.registry.functions.itemOf(bytes.fromhex(item[2:])).call()[0]
        for lane in lanes
        for request in lane
        for item in request.item_ids
    }
    merchants = {
        item: request.merchant for lane in lanes for request in lane for item in request.item_ids
    }
    assert registered == merchants
    log = (tmp_path / "worker.log").read_text()
    assert "workers_started" in log and "workers_stopped" in log
