"""A carrier's event about a batch item that has no record of its own: accepted once the batch's
merchant published its manifest, the item activated from the manifest's proof before the event
goes on chain, once however many events name it; an item of an unpublished batch is still refused
as unknown."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from eth_account import Account

from app.domain.item_rows import ItemEntry, ItemRow
from app.domain.manifest import Manifest, build_manifest
from app.domain.manifest_signing import sign_manifest
from app.domain.metadata import metadata_hash
from app.outbox.kinds.batch_activation import ACTIVATION_SOURCE
from app.outbox.relayer import Relayer
from tests.app.conftest import CARRIER_MERCHANT, SourceSecrets
from tests.app.ingest.support import (
    MERCHANT,
    MERCHANT_KEY,
    Chain,
    ServiceHandle,
    event,
    post_signed,
    relay_until_settled,
)
from tests.app.outbox.conftest import ServiceFactory

pytestmark = pytest.mark.anvil


def registered_batch(chain: Chain, count: int) -> Manifest:
    """``count`` SKU items of the merchant registered as one Merkle batch (no item activated)."""
    chain.ensure_merchant()
    sku = f"BATCH-{secrets.token_hex(4)}"
    entries = []
    for n in range(count):
        row = ItemRow(sku=sku, serial=str(n), metadata={"n": n}, metadata_uri=f"ipfs://b/{n}")
        document: dict[str, Any] = {"n": n}
        entries.append(ItemEntry(f"row {n}", row, row.key_id(MERCHANT), metadata_hash(document),
                                 row.metadata_uri))  # fmt: skip
    manifest = build_manifest(entries, chain_id=int(chain.w3.eth.chain_id),
                              registry=chain.registry.address, merchant=MERCHANT)  # fmt: skip
    register = chain.registry.functions.registerBatch(
        manifest.root, manifest.item_count, manifest.metadata_hash, "ipfs://batch"
    )
    chain.send(MERCHANT_KEY, register)
    return manifest


def publish(handle: ServiceHandle, manifest: Manifest) -> None:
    signature = sign_manifest(Account.from_key(MERCHANT_KEY), manifest.root, manifest.data)
    answer = handle.client.post(
        f"/v1/batches/0x{manifest.root.hex()}/manifest",
        json={"manifest": manifest.data, "signature": signature},
    )
    assert answer.status_code == 201, answer.text


def activations_of(chain: Chain, item_id: str) -> list[Any]:
    return list(
        chain.registry.events.BatchItemActivated().get_logs(
            from_block=0, argument_filters={"itemId": bytes.fromhex(item_id[2:])}
        )
    )


def test_an_event_about_a_published_batch_item_activates_it_once_then_goes_on_chain(
    make_service: ServiceFactory, relay_chain: Chain, carrier: SourceSecrets
) -> None:
    handle = make_service()
    manifest = registered_batch(relay_chain, 3)
    publish(handle, manifest)
    item = manifest.data["items"][1]["item_id"]
    start = relay_chain.head()

    events = [event(item_id=item, action="shipped"), event(item_id=item, action="in_transit")]
    first = post_signed(handle.client, carrier, events)

    assert first.status_code == 202, first.text
    assert len(first.json()["accepted"]) == 2
    relayer = Relayer.from_services(handle.services)
    relay_until_settled(relayer, handle, relay_chain)
    later = post_signed(handle.client, carrier, [event(item_id=item, action="delivered")])
    assert later.status_code == 202, later.text
    relay_until_settled(relayer, handle, relay_chain)

    record = relay_chain.registry.functions.itemOf(bytes.fromhex(item[2:])).call()
    assert record[0] == MERCHANT  # the batch's merchant, activated with its proof
    (activated,) = activations_of(relay_chain, item)
    recorded = [event for event in relay_chain.custody_events(start) if event[1] == item]
    assert len(recorded) == 3
    # The activation went first: every event of the item is in a later transaction.
    blocks = {tx: relay_chain.w3.eth.get_transaction(tx)["blockNumber"] for _, _, tx in recorded}
    assert min(blocks.values()) > activated.blockNumber
    activation_records = [r for r in handle.records() if r.source == ACTIVATION_SOURCE]
    assert [(r.subject, r.status) for r in activation_records] == [(item, "confirmed")]
    assert activation_records[0].tx_hash == activated.transactionHash.to_0x_hex()


def test_an_item_activated_by_someone_else_first_is_confirmed_from_that_activation(
    make_service: ServiceFactory, relay_chain: Chain, carrier: SourceSecrets
) -> None:
    handle = make_service()
    manifest = registered_batch(relay_chain, 2)
    publish(handle, manifest)
    entry = manifest.data["items"][0]
    item = entry["item_id"]
    accepted = post_signed(handle.client, carrier, [event(item_id=item, action="shipped")])
    assert accepted.status_code == 202, accepted.text
    key = (0, entry["sku"], entry["serial"])  # IdScheme.SKU
    proof = [bytes.fromhex(node[2:]) for node in entry["proof"]]
    relay_chain.send(MERCHANT_KEY, relay_chain.registry.functions.activateBatchItem(
        manifest.root, key, bytes.fromhex(entry["metadata_hash"][2:]), proof))  # fmt: skip

    relay_until_settled(Relayer.from_services(handle.services), handle, relay_chain)

    (activated,) = activations_of(relay_chain, item)
    (record,) = [r for r in handle.records() if r.source == ACTIVATION_SOURCE]
    assert (record.status, record.tx_hash) == ("confirmed", activated.transactionHash.to_0x_hex())
    assert {r.status for r in handle.records() if r.subject == item} == {"confirmed"}


def test_an_item_of_a_batch_whose_manifest_was_never_published_is_unknown(
    make_service: ServiceFactory, relay_chain: Chain, carrier: SourceSecrets
) -> None:
    handle = make_service()
    manifest = registered_batch(relay_chain, 2)
    item = manifest.data["items"][0]["item_id"]

    refused = post_signed(handle.client, carrier, [event(item_id=item, action="shipped")])

    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"][0]["code"] == "unknown_item"
    assert not [r for r in handle.records() if r.source == ACTIVATION_SOURCE]


def test_a_carrier_that_does_not_carry_a_published_batch_item_neither_activates_nor_tracks_it(
    make_service: ServiceFactory,
    relay_chain: Chain,
    carrier: SourceSecrets,
    rival_carrier_secrets: SourceSecrets,
) -> None:
    """rival-carrier moves none of the batch merchant's goods: its event is refused by name and
    queues no activation (the manifest's batch names the merchant); acme-carrier's is taken."""
    assert MERCHANT == CARRIER_MERCHANT  # the batch's merchant is the one acme moves goods for
    handle = make_service()
    manifest = registered_batch(relay_chain, 2)
    publish(handle, manifest)
    item = manifest.data["items"][0]["item_id"]

    refused = post_signed(handle.client, rival_carrier_secrets, [event(item_id=item)])

    assert refused.status_code == 422, refused.text
    [detail] = refused.json()["error"]["details"]
    assert (detail["code"], detail["subject"]) == ("item_not_carried", item)
    assert handle.records() == []
    accepted = post_signed(handle.client, carrier, [event(item_id=item)])
    assert accepted.status_code == 202, accepted.text
    assert sorted(r.source == ACTIVATION_SOURCE for r in handle.records()) == [False, True]
