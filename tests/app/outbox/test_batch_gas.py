"""A custody batch's gas limit: scaled from the kind's last estimate and confirmed by one call on
the pending state, or estimated by the node when the scaled limit would not do."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from app.outbox.kinds.base import KindRelay
from app.outbox.relayer import Relayer
from tests.app.conftest import SourceSecrets
from tests.app.ingest.support import Chain, event, hex32, post_signed, relay_until_settled
from tests.app.outbox.conftest import ServiceFactory

pytestmark = pytest.mark.anvil
BATCH = 40
# Records of fresh items (cold slots) in a batch of one item's events: about 10% more gas.
COSTLIER = 9


def _counted(relayer: Relayer, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often the relayer's sender asks the node to estimate, and to run a batch within a limit
    (and how often that limit did)."""
    asked: Counter[str] = Counter()
    sender = relayer.senders[0].sender
    estimate, runs_within = sender.estimate_gas, sender.runs_within

    def counted_estimate(*args: Any) -> int:
        asked["estimate"] += 1
        return estimate(*args)

    def counted_run(*args: Any) -> bool:
        ran = runs_within(*args)
        asked["ran within" if ran else "ran short"] += 1
        return ran

    monkeypatch.setattr(sender, "estimate_gas", counted_estimate)
    monkeypatch.setattr(sender, "runs_within", counted_run)
    return asked


def _limits_and_use(chain: Chain, start: int) -> list[tuple[int, int]]:
    """(gas limit, gas used) of each custody transaction since block ``start``, in chain order."""
    hashes = list(dict.fromkeys(tx for _, _, tx in chain.custody_events(start)))
    used = []
    for tx_hash in hashes:
        tx = chain.w3.eth.get_transaction(tx_hash)
        receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
        used.append((int(tx["gas"]), int(receipt["gasUsed"])))
    return used


def _relay_batches(
    make_service: ServiceFactory,
    relay_chain: Chain,
    carrier: SourceSecrets,
    monkeypatch: pytest.MonkeyPatch,
    batches: list[list[dict[str, Any]]],
) -> tuple[Counter[str], list[tuple[int, int]]]:
    """Accepts ``batches`` (BATCH events each), relays them until settled; what the sender asked
    the node, and each transaction's (gas limit, gas used)."""
    handle = make_service(relay_batch_size=BATCH)
    for events in batches:
        accepted = post_signed(handle.client, carrier, events)
        assert accepted.status_code == 202, accepted.text
    relayer = Relayer.from_services(handle.services)
    asked = _counted(relayer, monkeypatch)
    start = relay_chain.head() + 1
    relay_until_settled(relayer, handle, relay_chain)
    assert handle.statuses() == {"confirmed": BATCH * len(batches)}
    return asked, _limits_and_use(relay_chain, start)


def _events(items: list[bytes]) -> list[dict[str, Any]]:
    return [event(item_id=hex32(item), action="in_transit") for item in items]


def test_batches_like_the_estimated_one_are_checked_by_one_call_and_a_costlier_one_is_estimated(
    make_service: ServiceFactory,
    relay_chain: Chain,
    carrier: SourceSecrets,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [first_item] = relay_chain.register_skus(1, "gas-one")
    fresh = relay_chain.register_skus(BATCH, "gas-fresh")
    # Two batches of events of one item (its slots warm after the first event of a batch), then
    # a batch of events of as many items as records, each item's slots cold: costlier a record.
    batches = [_events([first_item] * BATCH), _events([first_item] * BATCH), _events(fresh)]
    asked, limits = _relay_batches(make_service, relay_chain, carrier, monkeypatch, batches)

    # The first batch estimated; the second, like it, ran within the scaled limit; the third ran
    # short of it and was estimated.
    assert asked == Counter({"estimate": 2, "ran within": 1, "ran short": 1})
    assert len(limits) == 3
    assert limits[0][0] == limits[1][0]  # the second sent with the first's limit, scaled 1:1
    assert limits[2][0] > limits[0][0]
    assert all(used <= limit for limit, used in limits)


def test_a_batch_a_little_costlier_than_the_estimated_one_keeps_the_margin_over_its_need(
    make_service: ServiceFactory,
    relay_chain: Chain,
    carrier: SourceSecrets,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The scaled limit must leave the policy's margin (20%) over what the batch needs, as an
    estimate's does (the state it is mined on may move after the check): a batch about 10%
    costlier than the estimated one runs within the scaled limit but not within it less the
    margin, so it is estimated."""
    [first_item] = relay_chain.register_skus(1, "margin-one")
    fresh = relay_chain.register_skus(COSTLIER, "margin-fresh")
    cheap = _events([first_item] * BATCH)
    mixed = _events([first_item] * (BATCH - COSTLIER) + fresh)
    asked, limits = _relay_batches(make_service, relay_chain, carrier, monkeypatch, [cheap, mixed])

    assert asked == Counter({"estimate": 2, "ran short": 1}), limits
    (cheap_limit, cheap_used), (limit, used) = limits
    assert cheap_used < used <= cheap_limit  # within the scaled limit, but over it less the margin
    assert limit * 100 >= used * 115


def test_a_failing_second_look_at_settled_records_does_not_hold_the_relay_up(
    make_service: ServiceFactory,
    relay_chain: Chain,
    carrier: SourceSecrets,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A kind's follow-up of records it settled (withdrawn requests' nonces) sends nothing: a
    node that cannot answer it (old state pruned, a log query refused) must not stop sending."""
    handle = make_service()
    [item] = relay_chain.register_skus(1, "follow-up")
    accepted = post_signed(handle.client, carrier, [event(item_id=hex32(item))])
    assert accepted.status_code == 202, accepted.text

    def unanswerable(_relay: object) -> None:
        raise ConnectionError("missing trie node")

    monkeypatch.setattr(KindRelay, "follow_settled", unanswerable)

    relay_until_settled(Relayer.from_services(handle.services), handle, relay_chain)

    assert handle.statuses() == {"confirmed": 1}
