"""``GET /v1/items/{id}``: the verdict by the registry's rules and why, the merchant and its seller
record, the metadata check, the custody trail with transactions, the sale record; from the index
and, with ``?fresh=true``, from the chain; and its refusals."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.domain.metadata import canonical_json
from app.domain.vocab import CustodyAction
from app.main import create_app
from app.settings import Settings
from app.shop.verdicts import item_verdict
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.page.problem_reports_support import new_verifier


def _tx(receipt: Any) -> str:
    return "0x" + bytes(receipt["transactionHash"]).hex()


def _both(shop: Shop, item_hex: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The item as the index has it and as the chain has it."""
    shop.index()
    indexed = shop.client.get(f"/v1/items/{item_hex}")
    fresh = shop.client.get(f"/v1/items/{item_hex}", params={"fresh": "true"})
    assert indexed.status_code == 200, indexed.text
    assert fresh.status_code == 200, fresh.text
    return indexed.json(), fresh.json()


def _same_story(indexed: dict[str, Any], fresh: dict[str, Any]) -> None:
    """Index and chain agree on everything but where the answer came from."""
    assert (indexed.pop("source"), fresh.pop("source")) == ("index", "chain")
    assert indexed == fresh


def test_authentic_item_answers_merchant_metadata_and_custody_trail_with_transactions(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    produced = suite.record_custody(merchant, item.item_id, CustodyAction.PRODUCED)
    shipped = suite.record_custody(merchant, item.item_id, CustodyAction.SHIPPED)

    indexed, fresh = _both(shop, item.hex)

    assert indexed["authentic"] is True
    assert (indexed["verdict"], indexed["reason"]) == ("authentic", "authentic")
    assert indexed["merchant"] == {
        "address": merchant.address,
        "name": "Test Goods Ltd",
        "status": "active",
        "seller_record": {
            "orders_total": 0,
            "orders_completed": 0,
            "orders_refunded": 0,
            "disputes_total": 0,
            "disputes_lost": 0,
        },
    }
    assert indexed["metadata"] == {
        "uri": item.uri,
        "hash": "0x" + item.metadata_hash.hex(),
        "check": "unchecked",
        "detail": None,
        "document": None,
    }
    assert indexed["registration"]["kind"] == "single"
    assert indexed["registration"]["tx_hash"] == _tx(item.receipt)
    assert [(e["action"], e["tx_hash"], e["block_number"]) for e in indexed["custody"]] == [
        ("produced", _tx(produced), produced["blockNumber"]),
        ("shipped", _tx(shipped), shipped["blockNumber"]),
    ]
    assert indexed["as_of_block"] == suite.head()
    assert indexed["batch"] is None and indexed["sales"] == []
    _same_story(indexed, fresh)


def test_item_of_a_suspended_merchant_is_not_authentic(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    suite.suspend(merchant)

    indexed, fresh = _both(shop, item.hex)

    assert indexed["authentic"] is False
    assert (indexed["verdict"], indexed["reason"]) == ("merchant_suspended", "merchant_suspended")
    assert indexed["merchant"]["status"] == "suspended"
    _same_story(indexed, fresh)


def test_item_with_a_confirmed_report_reads_flagged(
    shop: Shop, suite: SuiteDriver, merchant: Actor, shopper: Actor
) -> None:
    item = suite.register_item(merchant)
    confirmed = suite.file_report(shopper, item.item_id)
    suite.file_report(new_verifier(suite), item.item_id)  # still open, filed by a verifier
    suite.file_report(shopper, item.item_id)  # open too, but anyone's: not shown
    flagged = suite.confirm_report(confirmed)

    indexed, fresh = _both(shop, item.hex)

    assert (indexed["verdict"], indexed["reason"]) == ("flagged", "flagged")
    assert [(f["report_id"], f["tx_hash"]) for f in indexed["flags"]] == [(confirmed, _tx(flagged))]
    assert indexed["open_reports"] == 1
    _same_story(indexed, fresh)


def test_recalled_item_reads_recalled_and_recall_outranks_a_flag(
    shop: Shop, suite: SuiteDriver, merchant: Actor, shopper: Actor
) -> None:
    item = suite.register_item(merchant)
    suite.confirm_report(suite.file_report(shopper, item.item_id))
    recall = suite.recall_item(merchant, item.item_id)

    indexed, fresh = _both(shop, item.hex)

    assert (indexed["verdict"], indexed["reason"]) == ("recalled", "recalled")
    assert indexed["recall"]["scope"] == "item"
    assert indexed["recall"]["tx_hash"] == _tx(recall)
    _same_story(indexed, fresh)


def test_item_sold_through_escrow_carries_its_sale_record_and_the_sellers_record(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    item = suite.register_item(merchant)
    order = suite.open_order(buyer, merchant, [item.item_id], amount=3 * 10**15)
    suite.ship(merchant, order)
    suite.confirm_receipt(buyer, order)

    indexed, fresh = _both(shop, item.hex)

    sale = {
        "order_id": order.hex,
        "status": "released",
        "buyer": buyer.address,
        "token": "0x0000000000000000000000000000000000000000",
        "amount": str(3 * 10**15),
        "released": True,
    }
    assert [{k: s[k] for k in sale} for s in indexed["sales"]] == [sale]
    assert [{k: s[k] for k in sale} for s in fresh["sales"]] == [sale]
    assert indexed["custody"][-1]["action"] == "sold"
    assert indexed["custody"][-1]["submitter"] == suite.escrow.address
    assert indexed["merchant"]["seller_record"]["orders_completed"] == 1
    _same_story(indexed, fresh)


def test_fresh_answers_from_the_chain_before_the_index_has_the_item(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    shop.index()
    item = suite.register_item(merchant)

    indexed = shop.client.get(f"/v1/items/{item.hex}")
    fresh = shop.client.get(f"/v1/items/{item.hex}", params={"fresh": "true"})

    assert indexed.status_code == 404
    assert fresh.status_code == 200
    assert fresh.json()["source"] == "chain"
    assert fresh.json()["verdict"] == "authentic"
    assert fresh.json()["as_of_block"] == item.receipt["blockNumber"]


def test_unknown_item_answers_404_with_its_code(shop: Shop) -> None:
    shop.index()
    unknown = "0x" + "ab" * 32

    for params in ({}, {"fresh": "true"}):
        response = shop.client.get(f"/v1/items/{unknown}", params=params)
        assert response.status_code == 404
        body = response.json()["error"]
        assert body["code"] == "item_unknown"
        assert body["details"]["verdict"] == "unknown"


@pytest.mark.parametrize(
    "bad_id", ["0x12", "ab" * 32, "0x" + "zz" * 32, "0x" + "ab" * 33, "0x" + "ab" * 31 + "a"]
)
def test_malformed_item_id_answers_422_invalid_item_id(shop: Shop, bad_id: str) -> None:
    response = shop.client.get(f"/v1/items/{bad_id}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_item_id"


def test_fresh_must_be_a_boolean(shop: Shop) -> None:
    response = shop.client.get(f"/v1/items/0x{'cd' * 32}", params={"fresh": "maybe"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"
    assert response.json()["error"]["details"][0]["field"] == "query.fresh"


def test_fresh_answers_503_when_the_chain_is_away(settings: Settings) -> None:
    away = settings.model_copy(update={"rpc_url": "http://127.0.0.1:9"})
    with TestClient(create_app(away)) as client:
        response = client.get(f"/v1/items/0x{'cd' * 32}", params={"fresh": "true"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "chain_unavailable"


# ----------------------------------------------------------------------- metadata checks


@dataclass
class MetadataServer:
    """A loopback HTTP server with documents by path, remembering what it was asked for."""

    host: str
    documents: dict[str, bytes] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)

    def uri(self, path: str) -> str:
        return f"http://{self.host}{path}"


@pytest.fixture
def metadata_server() -> Iterator[MetadataServer]:
    server_state = MetadataServer(host="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server_state.requested.append(self.path)
            body = server_state.documents.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.host = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def checking_shop(
    shop_settings: Settings, start_block: int, metadata_server: MetadataServer
) -> Iterator[Shop]:
    app = create_app(
        shop_settings.model_copy(update={"metadata_fetch_hosts": [metadata_server.host]})
    )
    app.state.index.indexer.from_block = start_block
    with TestClient(app) as client:
        yield Shop(client, app)


def test_metadata_at_an_allowed_uri_is_checked_against_the_onchain_hash(
    checking_shop: Shop, suite: SuiteDriver, merchant: Actor, metadata_server: MetadataServer
) -> None:
    good = suite.register_item(merchant, uri=metadata_server.uri("/good.json"))
    pretty = suite.register_item(merchant, uri=metadata_server.uri("/pretty.json"))
    forged = suite.register_item(merchant, uri=metadata_server.uri("/forged.json"))
    missing = suite.register_item(merchant, uri=metadata_server.uri("/missing.json"))
    metadata_server.documents["/good.json"] = canonical_json(good.metadata)
    metadata_server.documents["/pretty.json"] = json.dumps(pretty.metadata, indent=4).encode()
    metadata_server.documents["/forged.json"] = canonical_json({**forged.metadata, "name": "Fake"})
    checking_shop.index()

    def check(item_hex: str) -> str:
        metadata = checking_shop.client.get(f"/v1/items/{item_hex}").json()["metadata"]
        return str(metadata["check"])

    assert check(good.hex) == "match"
    assert check(pretty.hex) == "match"  # canonical JSON of the content hashes the same
    assert check(forged.hex) == "mismatch"
    assert check(missing.hex) == "unreachable"
    asked = len(metadata_server.requested)
    assert check(good.hex) == "match"
    assert len(metadata_server.requested) == asked  # the result is kept
    fresh = checking_shop.client.get(f"/v1/items/{good.hex}", params={"fresh": "true"})
    assert fresh.json()["metadata"]["check"] == "match"
    assert len(metadata_server.requested) == asked + 1  # fresh checks again


def test_metadata_on_hosts_off_the_allow_list_is_never_fetched(
    checking_shop: Shop, suite: SuiteDriver, merchant: Actor, metadata_server: MetadataServer
) -> None:
    port = metadata_server.host.split(":")[1]
    elsewhere = suite.register_item(merchant, uri=f"http://localhost:{port}/good.json")
    ipfs = suite.register_item(merchant)
    checking_shop.index()

    for item in (elsewhere, ipfs):
        for params in ({}, {"fresh": "true"}):
            body = checking_shop.client.get(f"/v1/items/{item.hex}", params=params).json()
            assert body["metadata"]["check"] == "unchecked"
    assert metadata_server.requested == []


def test_item_verdict_gives_the_page_the_same_answer_as_the_api(
    shop: Shop, suite: SuiteDriver, merchant: Actor, shopper: Actor
) -> None:
    item = suite.register_item(merchant)
    suite.record_custody(merchant, item.item_id, CustodyAction.PRODUCED)
    suite.file_report(new_verifier(suite), item.item_id)
    shop.index()
    index = shop.app.state.index

    with shop.app.state.services.database.sessions() as session:
        for fresh in (False, True):
            verdict = item_verdict(index, session, item.item_id, fresh=fresh)
            answer = shop.client.get(f"/v1/items/{item.hex}", params={"fresh": fresh}).json()
            assert verdict.model_dump(mode="json") == answer
        unknown = item_verdict(index, session, b"\xab" * 32)
    assert verdict.known and verdict.open_reports == 1
    assert (unknown.known, unknown.verdict) == (False, "unknown")
