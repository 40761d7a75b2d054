"""The indexer follows the registry's and the escrow's events into SQLite, stops at the
confirmation depth, resumes from its cursor, and starts over when the deployment changes."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.session import Database
from app.domain.vocab import CustodyAction, MerchantStatus, OrderStatus
from app.index.chain import ChainAccess
from app.index.credit_events import CREDIT_LINES
from app.index.handlers import HandlerTable, default_handlers
from app.index.indexer import CURSOR, Indexer
from app.index.models import (
    CustodyRow,
    DisputeRow,
    IndexCursor,
    IndexedBlock,
    ItemRow,
    MerchantRow,
    MerchantStatusRow,
    OrderEventRow,
    OrderItemRow,
    OrderRow,
)
from app.main import create_app
from app.settings import Settings
from tests.app.index.actors import Actor, Shop, SuiteDriver, item_row


def _session(shop: Shop) -> Session:
    session: Session = shop.app.state.services.database.sessions()
    return session


def _tx(receipt: object) -> str:
    return "0x" + bytes(receipt["transactionHash"]).hex()  # type: ignore[index]


def test_indexer_records_merchants_items_and_custody_with_tx_hashes_and_blocks(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    produced = suite.record_custody(merchant, item.item_id, CustodyAction.PRODUCED)
    shipped = suite.record_custody(merchant, item.item_id, CustodyAction.SHIPPED)

    progress = shop.index()

    assert progress.last_block == suite.head()
    assert progress.logs == 4  # approval, registration, two custody events
    with _session(shop) as session:
        row = session.get(MerchantRow, merchant.address)
        assert row is not None and row.name == "Test Goods Ltd"
        registered = item_row(session, item.hex)
        assert registered is not None
        assert registered.merchant == merchant.address
        assert registered.metadata_hash == "0x" + item.metadata_hash.hex()
        assert registered.metadata_uri == item.uri
        assert registered.tx_hash == _tx(item.receipt)
        assert registered.block_number == item.receipt["blockNumber"]
        trail = session.scalars(
            select(CustodyRow).where(CustodyRow.item_id == item.hex).order_by(CustodyRow.id)
        ).all()
        assert [(r.action, r.tx_hash, r.block_number) for r in trail] == [
            (CustodyAction.PRODUCED, _tx(produced), produced["blockNumber"]),
            (CustodyAction.SHIPPED, _tx(shipped), shipped["blockNumber"]),
        ]
        assert {r.submitter for r in trail} == {merchant.address}


def test_indexer_records_a_merchants_status_changes_in_order(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    suite.suspend(merchant)
    suite.reinstate(merchant)
    suite.suspend(merchant)

    shop.index()

    with _session(shop) as session:
        statuses = session.scalars(
            select(MerchantStatusRow.status)
            .where(MerchantStatusRow.merchant == merchant.address)
            .order_by(MerchantStatusRow.block_number)
        ).all()
    assert statuses == [MerchantStatus.SUSPENDED, MerchantStatus.ACTIVE, MerchantStatus.SUSPENDED]


def test_indexer_waits_for_the_confirmation_depth(
    settings: Settings, start_block: int, suite: SuiteDriver, merchant: Actor
) -> None:
    app = create_app(settings.model_copy(update={"confirmation_depth": 2}))
    app.state.index.indexer.from_block = start_block
    with TestClient(app) as client:
        shop = Shop(client, app)
        item = suite.register_item(merchant)
        suite.mine(1)

        early = shop.index()
        with _session(shop) as session:
            assert item_row(session, item.hex) is None
        assert early.last_block == suite.head() - 2

        suite.mine(1)
        late = shop.index()
        with _session(shop) as session:
            assert item_row(session, item.hex) is not None
        assert late.last_block == item.receipt["blockNumber"]


def test_indexer_resumes_from_its_cursor_without_indexing_anything_twice(
    shop_settings: Settings, start_block: int, suite: SuiteDriver, merchant: Actor
) -> None:
    first_item = suite.register_item(merchant)
    first = create_app(shop_settings)
    first.state.index.indexer.from_block = start_block
    with TestClient(first) as client:
        assert Shop(client, first).index().logs == 2

    second_item = suite.register_item(merchant)
    restarted = create_app(shop_settings)  # same database file: the cursor is there
    with TestClient(restarted) as client:
        shop = Shop(client, restarted)
        progress = shop.index()
        assert progress.logs == 1
        with _session(shop) as session:
            cursor = session.get(IndexCursor, CURSOR)
            assert cursor is not None and cursor.start_block == start_block
            assert cursor.last_block == second_item.receipt["blockNumber"]
            assert item_row(session, first_item.hex) is not None
            assert item_row(session, second_item.hex) is not None


def test_indexer_follows_an_order_through_dispute_and_ruling(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    item = suite.register_item(merchant)
    order = suite.open_order(buyer, merchant, [item.item_id])
    suite.ship(merchant, order)
    suite.dispute(buyer, order)
    suite.resolve(order, buyer_bps=8_000)

    shop.index()

    with _session(shop) as session:
        row = session.get(OrderRow, order.hex)
        assert row is not None
        assert (row.buyer, row.merchant, row.amount, row.item_count) == (
            buyer.address,
            merchant.address,
            str(10**15),
            1,
        )
        items = session.scalars(
            select(OrderItemRow.item_id).where(OrderItemRow.order_id == order.hex)
        ).all()
        assert items == [item.hex]
        events = session.scalars(
            select(OrderEventRow)
            .where(OrderEventRow.order_id == order.hex)
            .order_by(OrderEventRow.block_number, OrderEventRow.log_index)
        ).all()
        assert [(e.kind, e.status, e.carrier) for e in events] == [
            ("carrier_assigned", OrderStatus.FUNDED, 1),
            ("shipped", OrderStatus.SHIPPED, 1),
            ("dispute_opened", OrderStatus.DISPUTED, 1),
            ("settled", OrderStatus.SETTLED, 1),
            ("dispute_ruled", OrderStatus.SETTLED, 1),
        ]
        assert events[3].dispute_outcome == "merchant_lost"
        assert json.loads(events[3].details)["buyer_bps"] == 8_000
        assert json.loads(events[1].details)["carrier"] == 1
        dispute = session.get(DisputeRow, order.hex)
        assert dispute is not None and dispute.opened_by == buyer.address


def test_indexer_tracks_a_release_and_the_sale_it_records_in_the_registry(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    item = suite.register_item(merchant)
    order = suite.open_order(buyer, merchant, [item.item_id])
    suite.ship(merchant, order)
    suite.confirm_receipt(buyer, order)

    shop.index()

    with _session(shop) as session:
        kinds = session.scalars(
            select(OrderEventRow.kind)
            .where(OrderEventRow.order_id == order.hex)
            .order_by(OrderEventRow.block_number, OrderEventRow.log_index)
        ).all()
        assert kinds == ["carrier_assigned", "shipped", "released", "sale_recorded"]
        released = session.scalars(
            select(OrderEventRow).where(
                OrderEventRow.order_id == order.hex, OrderEventRow.kind == "released"
            )
        ).one()
        assert (released.status, released.released_items) == (OrderStatus.RELEASED, 1)
        sold = session.scalars(
            select(CustodyRow).where(
                CustodyRow.item_id == item.hex, CustodyRow.action == CustodyAction.SOLD
            )
        ).one()
        assert sold.submitter == suite.escrow.address
        assert sold.context_hash == order.hex


def test_indexer_starts_over_when_the_deployment_changes(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    shop.index()
    with shop.app.state.services.database.transaction() as session:
        cursor = session.get(IndexCursor, CURSOR)
        assert cursor is not None
        cursor.fingerprint = "0x" + "00" * 32  # as if another deployment had been indexed
        session.add(
            ItemRow(
                item_id="0x" + "ee" * 32,
                merchant=merchant.address,
                metadata_hash="0x" + "11" * 32,
                metadata_uri=None,
                batch_root=None,
                block_number=item.receipt["blockNumber"],
                log_index=9,
                tx_hash="0x" + "22" * 32,
                block_time=0,
            )
        )

    progress = shop.index()

    assert progress.logs == 2
    with _session(shop) as session:
        assert item_row(session, "0x" + "ee" * 32) is None
        assert item_row(session, item.hex) is not None
        assert session.scalar(select(func.count()).select_from(MerchantRow)) == 1


def test_indexer_keeps_hashes_of_the_blocks_it_read(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    suite.mine(3)

    shop.index()

    with _session(shop) as session:
        kept = {b.number: (b.hash, b.has_logs) for b in session.scalars(select(IndexedBlock))}
    number = item.receipt["blockNumber"]
    assert kept[number] == ("0x" + bytes(item.receipt["blockHash"]).hex(), True)
    head = suite.head()
    assert kept[head] == ("0x" + bytes(suite.w3.eth.get_block(head)["hash"]).hex(), False)


def test_indexer_follows_exactly_the_deployed_contracts_it_has_handlers_for(
    settings: Settings,
) -> None:
    indexer = Indexer(Database(settings.database_url), ChainAccess(settings), confirmation_depth=0)
    plan = indexer.plan()
    suite = indexer.chain.suite()
    followed = {
        contract.address
        for name, contract in suite.contracts.items()
        if name in indexer.handlers.contracts()
    }
    assert {suite.registry.address, suite["OrderEscrow"].address} <= followed
    assert set(plan.addresses) == followed
    assert plan.start_block == min(
        suite.deployed_at_block(name)
        for name in suite.contracts
        if name in indexer.handlers.contracts()
    )
    assert CREDIT_LINES in indexer.handlers.contracts()


def test_handler_table_refuses_a_second_handler_for_an_event() -> None:
    table: HandlerTable = default_handlers()
    handler = table.get("ProductRegistry", "ItemRegistered")
    assert handler is not None
    with pytest.raises(ValueError, match=r"ProductRegistry\.ItemRegistered"):
        table.add("ProductRegistry", "ItemRegistered", handler)
