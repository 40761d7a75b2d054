"""Daily quotas are counters raised with each acceptance, in its transaction: a request refused
after it was counted leaves no trace, and two acceptances at once cannot both take the last of a
quota (the second waits for the first and is refused)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.api.errors import ApiError
from app.db.migrate import upgrade_schema
from app.db.session import Database
from app.domain.forward_requests import ForwardRequest, calldata_gas
from app.main import create_app
from app.merchant.request_models import ALL_SIGNERS, RequestUsage
from app.merchant.requests import _keep as keep
from app.merchant.requests import charge_quotas, utc_day
from app.outbox.models import OutboxRecord
from app.settings import Settings
from tests.app.databases import ServiceDatabases
from tests.app.index.actors import Shop, SuiteDriver
from tests.app.index.records import Actor
from tests.app.merchant.request_support import GAS, error_code, post, signed_body, sku_inputs
from tests.app.merchant.test_requests import relay_key, shop_settings  # noqa: F401

pytestmark = pytest.mark.both_databases

SIGNERS = ("0x" + "11" * 20, "0x" + "22" * 20)


def request_of(signer: str) -> ForwardRequest:
    return ForwardRequest(signer, "0x" + "33" * 20, 0, GAS, 0, int(time.time()) + 3_600, b"")


def test_a_request_refused_after_it_was_counted_takes_nothing_of_the_quota(
    shop_settings: Settings,  # noqa: F811
    start_block: int,
    suite: SuiteDriver,
    merchant: Actor,
) -> None:
    app = create_app(shop_settings.model_copy(update={"merchant_requests_per_day": 1}))
    registry = suite.registry
    with TestClient(app) as client:
        quota_shop = Shop(client, app)
        starved = signed_body(
            quota_shop, merchant.account, registry,
            registry.functions.registerItems(sku_inputs("quota-refused", 5)), gas=40_000,
        )  # fmt: skip
        assert error_code(post(quota_shop, starved)) == (422, "contract_refused")
        good = signed_body(
            quota_shop, merchant.account, registry,
            registry.functions.registerItems(sku_inputs("quota-kept", 1)),
        )  # fmt: skip

        accepted = post(quota_shop, good)

        with app.state.services.database.sessions() as session:
            usage = session.get_one(RequestUsage, (utc_day(time.time()), merchant.address))
    assert accepted.status_code == 202, accepted.text
    charged = GAS + calldata_gas(bytes.fromhex(good["data"][2:]))  # what the relayer pays
    assert (usage.requests, usage.gas) == (1, charged)


def test_two_acceptances_at_once_cannot_both_take_the_last_of_the_services_budget(
    shop_settings: Settings,  # noqa: F811
    databases: ServiceDatabases,
    tmp_path: Path,
) -> None:
    settings = shop_settings.model_copy(update={"request_gas_budget_per_day": GAS + GAS // 2})
    database = Database(databases.url(tmp_path, "quotas"))
    upgrade_schema(database.engine)
    second_writes = threading.Event()
    outcome: dict[str, Any] = {}

    def second() -> None:
        with database.sessions() as session:
            connection = session.connection()

            @event.listens_for(connection, "before_cursor_execute")
            def writing(*_args: Any) -> None:
                second_writes.set()

            try:
                charge_quotas(session, settings, request_of(SIGNERS[1]), time.time())
                session.commit()
                outcome["second"] = "accepted"
            except ApiError as refused:
                outcome["second"] = refused.code

    with database.sessions() as first:
        charge_quotas(first, settings, request_of(SIGNERS[0]), time.time())
        rival = threading.Thread(target=second)
        rival.start()
        # The first holds its count uncommitted while the second counts too.
        assert second_writes.wait(timeout=30)
        first.commit()
    rival.join(timeout=60)

    assert outcome == {"second": "gas_budget_exhausted"}
    with database.sessions() as session:
        service = session.get_one(RequestUsage, (utc_day(time.time()), ALL_SIGNERS))
        assert (service.requests, service.gas) == (1, GAS)
        assert session.get(RequestUsage, (utc_day(time.time()), SIGNERS[1])) is None
    database.dispose()


@pytest.mark.parametrize("limit", ["merchant_requests_per_day", "merchant_request_gas_per_day"])
def test_a_merchants_quota_counts_its_own_requests_only(
    shop_settings: Settings,  # noqa: F811
    databases: ServiceDatabases,
    tmp_path: Path,
    limit: str,
) -> None:
    settings = shop_settings.model_copy(update={limit: 1 if "requests" in limit else GAS})
    database = Database(databases.url(tmp_path, "quotas"))
    upgrade_schema(database.engine)
    codes = []
    for signer in (SIGNERS[0], SIGNERS[1], SIGNERS[0]):
        with database.sessions() as session:
            try:
                charge_quotas(session, settings, request_of(signer), time.time())
                session.commit()
                codes.append("counted")
            except ApiError as refused:
                codes.append(refused.code)
    database.dispose()

    expected = "request_quota_exceeded" if "requests" in limit else "gas_quota_exceeded"
    assert codes == ["counted", "counted", expected]


def test_two_requests_of_one_nonce_kept_at_once_cannot_both_be_accepted(
    databases: ServiceDatabases, tmp_path: Path
) -> None:
    """Both passed the nonce check before either was kept (two requests racing): the second to
    be kept collides with the first on the outbox key and is refused. A request of that nonce
    counts as tried again only once the first has failed."""
    database = Database(databases.url(tmp_path, "race"))
    upgrade_schema(database.engine)
    first, second = (
        replace(request_of(SIGNERS[0]), data=bytes([n])) for n in (1, 2)
    )  # one nonce, two calls
    with database.sessions() as session:
        keep(session, first, b"\x01" * 65, b"\x01" * 32, "registerItems", time.time())
    with database.sessions() as session, pytest.raises(ApiError) as refused:
        keep(session, second, b"\x02" * 65, b"\x02" * 32, "registerItems", time.time())
    assert (refused.value.status_code, refused.value.code) == (409, "nonce_mismatch")
    with database.sessions() as session:
        assert session.query(OutboxRecord).count() == 1
    database.dispose()
