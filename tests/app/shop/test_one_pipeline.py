"""The index's answer and the chain's (``?fresh=true``) are one answer: random histories of
registrations, batches, custody events, reports, recalls, suspensions, verifiers' reassignments
and escrow orders (dust ones included) are played on Anvil, the service's own indexer follows
them, and then every item's answer from the index and from the chain's views and logs must be
identical but for where it came from, its seller record included, and its verdict the registry's
own (``verify``, or ``verifyBatchItem`` for a batch item without a record of its own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from web3.exceptions import ContractLogicError

from app.domain.vocab import CustodyAction, LogisticsKind, Verdict
from app.shop.schemas import ItemVerdictPublic
from app.shop.verdicts import item_verdict
from tests.app.index.actors import ZERO_ADDRESS, Shop, SuiteDriver
from tests.app.index.records import Actor, Batch, Item, Order

# A step the contracts refuse in the state reached is left out, as a real user's refused
# transaction would be.
ACTIONS = (
    "register",
    "custody",
    "report",
    "flag",
    "recall",
    "recall_batch",
    "activate",
    "suspend",
    "reinstate",
    "move",
    "revoke",
    "register_again",
    "order",
    "ship",
    "deliver",
    "confirm",
    "cancel",
    "dispute",
    "resolve",
    "refund_recalled",
)
# A step: an action, a number that picks its target (an item, an order) and one that picks a
# choice (an order's amount and path, a ruling's split). An order is opened and taken along one
# of the escrow's paths at once (and drawn six times as often as other steps), the single
# order steps then reach the states a path leaves (a recall's refund, a late dispute).
HISTORIES = st.lists(
    st.tuples(
        st.sampled_from((*ACTIONS, *["order"] * 5)),
        st.integers(min_value=0, max_value=11),
        st.integers(min_value=0, max_value=17),
    ),
    min_size=3,
    max_size=12,
)
SPLITS = (0, 5_000, 10_000)
CUSTODY = (CustodyAction.PRODUCED, CustodyAction.SHIPPED, CustodyAction.DELIVERED)


@dataclass
class World:
    """One example's actors and what they made: fresh accounts, so examples on the shared chain
    never meet each other's state."""

    suite: SuiteDriver
    floor: int
    merchant: Actor
    rival: Actor
    buyer: Actor
    shopper: Actor
    batch: Batch
    items: list[Item] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)

    @property
    def ids(self) -> list[bytes]:
        return [item.item_id for item in self.items] + self.batch.item_ids

    def pick(self, n: int) -> bytes:
        """Mostly a single item (most actions need a registered one), else a batch item."""
        if n < 8:
            return self.items[n % len(self.items)].item_id
        return self.batch.item_ids[n % len(self.batch.item_ids)]

    def order(self, n: int) -> Order:
        if not self.orders:
            raise LookupError("no order yet")
        return self.orders[n % len(self.orders)]

    def play(self, action: str, n: int, choice: int) -> None:
        suite, merchant = self.suite, self.merchant
        steps: dict[str, Callable[[], Any]] = {
            "register": lambda: self.items.append(suite.register_item(merchant)),
            "custody": lambda: suite.record_custody(
                self.rival if n % 4 == 3 else merchant, self.pick(n), CUSTODY[n % len(CUSTODY)]
            ),
            "report": lambda: suite.file_report(self.shopper, self.pick(n)),
            "flag": lambda: suite.confirm_report(suite.file_report(self.shopper, self.pick(n))),
            "recall": lambda: suite.recall_item(merchant, self.pick(n)),
            "recall_batch": lambda: suite.recall_batch(merchant, self.batch),
            "activate": lambda: suite.activate(
                self.batch, self.batch.item_ids[n % len(self.batch.item_ids)], merchant.address
            ),
            "suspend": lambda: suite.suspend(merchant),
            "reinstate": lambda: suite.reinstate(merchant),
            "move": lambda: suite.reassign(self.pick(n), self.rival.address),
            "revoke": lambda: suite.reassign(self.pick(n), ZERO_ADDRESS),
            "register_again": lambda: self._register_again(n),
            "order": lambda: self._order(n, choice),
            "ship": lambda: suite.ship(merchant, self.order(n)),
            "deliver": lambda: suite.report(self.order(n), LogisticsKind.DELIVERED),
            "confirm": lambda: suite.confirm_receipt(self.buyer, self.order(n)),
            "cancel": lambda: suite.cancel(self.buyer, self.order(n)),
            "dispute": lambda: suite.dispute(self.buyer, self.order(n)),
            "resolve": lambda: suite.resolve(self.order(n), SPLITS[choice % 3]),
            "refund_recalled": lambda: suite.refund_recalled(self.buyer, self.order(n), 1),
        }
        try:
            steps[action]()
        except (ContractLogicError, LookupError):
            event(f"refused: {action}")  # by the contracts in this state, or nothing to act on
        else:
            event(f"played: {action}")

    def _order(self, n: int, choice: int) -> None:
        """An order of the item ``n`` picks, of a dust, floor or larger amount, taken along one
        of the escrow's paths as far as the contracts let it go."""
        suite, merchant, buyer = self.suite, self.merchant, self.buyer
        amount = (max(self.floor - 1, 1), self.floor, 2 * self.floor)[choice % 3]
        order = suite.open_order(buyer, merchant, [self._for_sale(n)], amount=amount)
        self.orders.append(order)
        fate = choice // 3
        if fate == 1:
            suite.cancel(buyer, order)
        if fate >= 2:
            suite.ship(merchant, order)
        if fate == 2:
            suite.confirm_receipt(buyer, order)
        if fate >= 3:
            suite.report(order, LogisticsKind.DELIVERED)
        if fate == 4:
            suite.dispute(buyer, order)
            suite.resolve(order, SPLITS[n % 3])
        if fate == 5:
            suite.dispute(buyer, order)
        event(f"order path {fate} to its end")

    def _for_sale(self, n: int) -> bytes:
        """The item ``n`` picks among those an order may hold now (the merchant's own, authentic
        and free), so that most drawn orders open."""
        registry = self.suite.registry.functions
        free = [
            item.item_id
            for item in self.items
            if registry.verify(item.item_id).call() == Verdict.AUTHENTIC
            and registry.itemOf(item.item_id).call()[0] == self.merchant.address
            and not registry.itemOf(item.item_id).call()[5]
        ]
        if not free:
            raise LookupError("no item for sale")
        return free[n % len(free)]

    def _register_again(self, n: int) -> None:
        """The rightful merchant registers a single item's id afresh (after a revocation)."""
        if not self.items:
            raise LookupError("no single item yet")
        item = self.items[n % len(self.items)]
        self.suite.send(
            self.suite.registry.functions.registerItem(item.key, item.metadata_hash, item.uri),
            self.merchant.address,
        )


@pytest.fixture
def floor(suite: SuiteDriver, start_block: int) -> int:
    """The ETH seller-record floor, said again in this test's blocks so its index has it."""
    amount = max(suite.floor(ZERO_ADDRESS), 10**12)
    suite.set_floor(ZERO_ADDRESS, amount)
    return amount


def _new_world(shop: Shop, suite: SuiteDriver, floor: int) -> World:
    merchant, rival = suite.new_merchant(), suite.new_merchant("Rightful Goods Ltd")
    batch = suite.register_batch(merchant, count=3)
    published = shop.client.post(
        f"/v1/batches/{batch.hex}/manifest",
        json={"manifest": batch.manifest, "signature": suite.sign_manifest(merchant, batch)},
    )
    assert published.status_code == 201, published.text
    world = World(suite, floor, merchant, rival, suite.new_account(), suite.new_account(), batch)
    world.items += [suite.register_item(merchant), suite.register_item(merchant)]
    return world


def _registry_verdict(suite: SuiteDriver, world: World, answer: ItemVerdictPublic) -> Verdict:
    """The registry's own verdict on the item the answer is about."""
    batch = answer.batch
    if answer.registration is None and batch is not None and batch.proof is not None:
        item_id = bytes.fromhex(answer.item_id[2:])
        assert batch.metadata_hash is not None
        return Verdict(
            suite.registry.functions.verifyBatchItem(
                bytes.fromhex(batch.root[2:]),
                world.batch.keys[item_id],
                bytes.fromhex(batch.metadata_hash[2:]),
                [bytes.fromhex(node[2:]) for node in batch.proof],
            ).call()
        )
    return Verdict(suite.registry.functions.verify(bytes.fromhex(answer.item_id[2:])).call())


@settings(
    max_examples=8,
    deadline=None,
    # The service and its index are shared by the examples on purpose: each example acts with
    # fresh accounts and items, and the index follows the one chain.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=HISTORIES)
# Histories too rare to be drawn often, played every run: a batch item moved out of its recalled
# batch (the recall stays with the goods), a report confirmed before the item was activated, a
# recalled item refunded out of its order, a dispute the merchant lost by ruling.
@example(history=[("activate", 8, 0), ("recall_batch", 0, 0), ("move", 8, 0)])
@example(history=[("flag", 9, 0), ("activate", 9, 0)])
@example(history=[("order", 0, 1), ("recall", 0, 0), ("refund_recalled", 0, 0)])
@example(history=[("order", 2, 13), ("order", 1, 7), ("revoke", 0, 0), ("register_again", 0, 0)])
def test_the_index_and_the_chain_give_one_answer_for_any_history(
    shop: Shop, suite: SuiteDriver, floor: int, history: list[tuple[str, int, int]]
) -> None:
    world = _new_world(shop, suite, floor)
    for action, n, choice in history:
        world.play(action, n, choice)
    shop.index()

    index = shop.app.state.index
    with shop.app.state.services.database.sessions() as session:
        for item_id in world.ids:
            indexed = item_verdict(index, session, item_id)
            fresh = item_verdict(index, session, item_id, fresh=True)
            assert (indexed.source, fresh.source) == ("index", "chain")
            assert indexed.model_dump(exclude={"source"}) == fresh.model_dump(exclude={"source"}), (
                history,
                "0x" + item_id.hex(),
            )
            registry = _registry_verdict(suite, world, indexed)
            assert indexed.verdict == registry.name.lower(), (history, "0x" + item_id.hex())
