"""One story on the credit deployment (quorum 1), shared by the credit line tests: a bureau's
report approved for a borrower who then pays two orders with credit, has one cancelled and its
refund settled onto the line, and repays from the wallet; and a second borrower's report denied
for several reasons at once (band below the minimum, attestation stale, the first borrower's
identity). All on the session's Anvil, relayed by the service, and indexed by its app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from web3 import Web3

from app.main import create_app
from app.settings import Environment, Settings, SourceCredentials, SourceKind
from harness.ape_run import ADMIN
from harness.nodes import ChainNode
from tests.app.conftest import (
    ATTESTER_KEY,
    BUREAU,
    ORACLE_KEY,
    Deployment,
    SourceSecrets,
    deploy_suite,
)
from tests.app.credit.support import identity_of, post_report, relay_all, report_body
from tests.app.index.actors import SuiteDriver
from tests.app.index.records import Actor, Order
from tests.app.keeper.credit import USD, Credit

# Values a bureau chose, which the public page shows (the model) or only the borrower's view
# (the report): both must come out escaped.
MODEL = "<b>score</b> & \"v3\" 'x'"
REPORT = {"name": "<script>alert('Zelda')</script> Quintrell", "income": 987654321}
SCORE = 760
LOW_SCORE = 400


@dataclass
class Story:
    client: TestClient
    credit: Credit
    approved: Actor
    denied: Actor
    merchant: Actor
    approved_report: dict[str, Any]
    denied_report: dict[str, Any]
    kept: Order
    cancelled: Order

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)


def story_settings(
    deployment: Deployment, database: Path, bureau: SourceSecrets, key: bytes
) -> Settings:
    return Settings(
        _env_file=None,
        environment=Environment.TEST,
        rpc_url=deployment.rpc_url,
        deployments_dir=deployment.deployments_dir,
        abi_dir=deployment.abi_dir,
        database_url=f"sqlite:///{database}",
        oracle_private_key=SecretStr(ORACLE_KEY),
        attester_private_key=SecretStr(ATTESTER_KEY),
        report_encryption_key=SecretStr(Fernet.generate_key().decode()),
        identity_key=SecretStr("0x" + key.hex()),
        sources={
            BUREAU: SourceCredentials(
                kind=SourceKind.BUREAU,
                api_key=SecretStr(bureau.api_key),
                hmac_secret=SecretStr(bureau.hmac_secret),
            )
        },
        confirmation_depth=0,
        run_background_tasks=False,
    )


def _report(client: TestClient, bureau: SourceSecrets, body: dict[str, Any]) -> dict[str, Any]:
    answer = post_report(client, bureau, body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def play(
    w3: Web3,
    deployment: Deployment,
    bureau: SourceSecrets,
    identity_key: bytes,
    database: Path,
) -> Iterator[Story]:
    driver = SuiteDriver(w3, deployment)
    credit = Credit(driver)
    credit.fund_pool()
    app = create_app(story_settings(deployment, database, bureau, identity_key))
    # The index starts where the deployment does, as a service's would: the policy was published
    # by the deployment.
    approved, denied, merchant = driver.new_account(), driver.new_account(), driver.new_merchant()
    with TestClient(app) as client:
        approved_report = _report(
            client, bureau, report_body(SCORE, approved.address, model=MODEL, report=REPORT)
        )
        relay_all(client, deployment)
        kept = credit.order(approved, merchant, 120 * USD)
        cancelled = credit.order(approved, merchant, 80 * USD)
        driver.cancel(merchant, cancelled)  # the escrow credits CreditLines, the payer
        driver.send(credit.lines.functions.settleRefund(cancelled.terms), ADMIN)
        driver.send(credit.stable.functions.mint(approved.address, 50 * USD), ADMIN)
        driver.send(
            credit.stable.functions.approve(credit.lines.address, 50 * USD), approved.address
        )
        driver.send(credit.lines.functions.repay(approved.address, 50 * USD), approved.address)

        version = credit.lines.functions.currentPolicyVersion().call()
        refresh = int(credit.lines.functions.policyRules(version).call()[1])
        now = driver.block_time()
        stale = report_body(
            LOW_SCORE,
            denied.address,
            identity=identity_of(approved.address),
            issued_at=now - refresh - 3_600,
            expires_in=refresh + 2 * 86_400,
        )
        denied_report = _report(client, bureau, stale)
        relay_all(client, deployment)
        app.state.index.indexer.run_once()
        yield Story(
            client,
            credit,
            approved,
            denied,
            merchant,
            approved_report,
            denied_report,
            kept,
            cancelled,
        )


# The modules that read the story: one worker plays it once for all of them.
STORY_GROUP = pytest.mark.xdist_group("credit-line-story")


@pytest.fixture(scope="session")
def story(
    w3: Web3,
    anvil: ChainNode,
    bureau_secrets: SourceSecrets,
    identity_key: bytes,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Story]:
    """Played once per session on a suite of its own (a quorum of 1, like ``credit_deployment``);
    the tests only read it."""
    base = tmp_path_factory.mktemp("credit-lines")
    deployment = deploy_suite(anvil.rpc_url, base / "suite", "--dev-stablecoin", "--quorum", "1")
    yield from play(w3, deployment, bureau_secrets, identity_key, base / "service.db")
