"""The README's merchant snippets work as written: the sign-in one (its client pointed at the
test's app) opens a session and subscribes an endpoint; the verification one accepts a real
delivery and refuses a forged one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from app.merchant.delivery import WebhookDeliverer
from tests.app.index.actors import Shop, SuiteDriver
from tests.app.index.records import Actor
from tests.app.merchant.support import Clock, Receiver, sign_in

README = Path(__file__).resolve().parents[3] / "README.md"
CLIENT_LINE = 'api = httpx.Client(base_url="https://trustmall.example")'


def readme_snippet(containing: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    (block,) = [block for block in blocks if containing in block]
    return str(block)


def test_the_readme_sign_in_snippet_opens_a_session_and_subscribes(
    shop: Shop, merchant: Actor
) -> None:
    snippet = readme_snippet("siwe/session")
    assert CLIENT_LINE in snippet
    exec(
        snippet.replace(CLIENT_LINE, "api = CLIENT"),
        {"KEY": merchant.account.key, "CLIENT": shop.client},
    )
    listed = shop.client.get("/v1/merchant/webhooks").json()["endpoints"]
    assert [endpoint["url"] for endpoint in listed] == ["https://erp.example/trustmall"]


def test_the_readme_verification_snippet_accepts_a_delivery_and_refuses_a_forgery(
    shop: Shop, merchant: Actor, buyer: Actor, suite: SuiteDriver, receiver: Receiver
) -> None:
    namespace: dict[str, Any] = {}
    exec(readme_snippet("def verified_event"), namespace)
    verified_event = namespace["verified_event"]
    headers = sign_in(shop.client, merchant)
    endpoint = shop.client.post(
        "/v1/merchant/webhooks", headers=headers, json={"url": receiver.url}
    ).json()
    receiver.secret = endpoint["secret"]
    suite.open_order(buyer, merchant, [suite.register_item(merchant).item_id])
    shop.index()
    services = shop.app.state.services
    WebhookDeliverer(services.database, services.settings, Clock()).run_once()
    ((signature, body),) = receiver.raw
    event = verified_event(endpoint["secret"], signature, body)
    assert event is not None and event["type"] == "order.funded"
    assert verified_event("whsec_guessed", signature, body) is None
    assert (
        verified_event(endpoint["secret"], signature, body.replace(b"funded", b"refunded")) is None
    )
