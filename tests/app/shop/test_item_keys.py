"""Verdicts under the new ownership rules, from the index and fresh from the chain alike: an item a
verifier moved shows its new merchant; a revoked record reads unknown until its rightful merchant
registers the id again (the squatter's recall no longer counts); a batch item named by a GTIN is
authentic only while the batch's merchant holds the GTIN's company prefix (``verifyBatchItem``
with the manifest's key); and manifests whose items name no key, or another item's, are refused."""

from __future__ import annotations

import copy
from typing import Any

from app.domain.ids import item_id_from_gs1
from app.domain.vocab import Verdict
from app.shop.verdicts import item_verdict
from tests.app.index.actors import Actor, Batch, Shop, SuiteDriver
from tests.app.index.records import random_gtin

BOTH = ({}, {"fresh": "true"})


def _verdicts(shop: Shop, item_hex: str) -> list[dict[str, Any]]:
    shop.index()
    found = []
    for params in BOTH:
        response = shop.client.get(f"/v1/items/{item_hex}", params=params)
        assert response.status_code == 200, response.text
        found.append(response.json())
    return found


def _publish(shop: Shop, suite: SuiteDriver, merchant: Actor, batch: Batch) -> Any:
    return shop.client.post(
        f"/v1/batches/{batch.hex}/manifest",
        json={"manifest": batch.manifest, "signature": suite.sign_manifest(merchant, batch)},
    )


def test_an_item_a_verifier_moved_shows_its_new_merchant(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    item = suite.register_item(merchant)
    rightful = suite.new_merchant("Rightful Goods")
    moved = suite.reassign(item.item_id, rightful.address)

    for verdict in _verdicts(shop, item.hex):
        assert verdict["verdict"] == "authentic", verdict["source"]
        assert (verdict["merchant"]["address"], verdict["merchant"]["name"]) == (
            rightful.address,
            "Rightful Goods",
        )
        assert verdict["reassignment"]["from_merchant"] == merchant.address
        assert verdict["reassignment"]["to"] == rightful.address
        assert verdict["reassignment"]["tx_hash"] == "0x" + bytes(moved["transactionHash"]).hex()
    page = shop.client.get(f"/verify/{item.hex}")
    assert 'id="reassigned"' in page.text and rightful.address in page.text


def test_a_revoked_record_reads_unknown_until_the_rightful_merchant_registers_the_id(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    # A verifier granted the prefix to the wrong merchant, who registered the brand's serial and
    # recalled it; the verifier takes the prefix back, revokes the record, grants the rightful one.
    gtin, prefix = random_gtin()
    squatted = suite.register_gs1(merchant, gtin, prefix, "S1")
    suite.recall_item(merchant, squatted.item_id)
    suite.revoke_prefix(prefix)
    suite.reassign(squatted.item_id, "0x0000000000000000000000000000000000000000")

    for verdict in _verdicts(shop, squatted.hex):
        assert (verdict["verdict"], verdict["merchant"]) == ("unknown", None), verdict["source"]
        assert verdict["registration"] is None and verdict["recall"] is None
        assert verdict["reassignment"]["to"] is None

    rightful = suite.new_merchant("The Brand")
    again = suite.register_gs1(rightful, gtin, prefix, "S1")
    assert again.item_id == squatted.item_id == item_id_from_gs1(gtin, "S1")

    for verdict in _verdicts(shop, again.hex):
        assert verdict["verdict"] == "authentic", verdict["source"]
        assert verdict["merchant"]["address"] == rightful.address
        assert verdict["recall"] is None  # the squatter's recall went with its record
        assert (
            verdict["registration"]["tx_hash"]
            == "0x" + bytes(again.receipt["transactionHash"]).hex()
        )


def test_a_gtin_batch_item_is_authentic_only_under_the_batch_merchants_prefix(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    gtin, prefix = random_gtin()
    batch = suite.register_batch(merchant, count=3, gtin=gtin)
    assert _publish(shop, suite, merchant, batch).status_code == 201
    item_id = batch.item_ids[1]
    item_hex = "0x" + item_id.hex()
    leaf = batch.tree.leaves[1]

    def on_chain() -> int:
        verdict: int = suite.registry.functions.verifyBatchItem(
            batch.root, batch.keys[item_id], leaf.metadata_hash, batch.tree.proof(item_id)
        ).call()
        return verdict

    assert on_chain() == Verdict.UNKNOWN
    shop.index()
    for params in BOTH:
        # The batch lists the id, but not under a key its merchant may claim: nobody's item.
        refused = shop.client.get(f"/v1/items/{item_hex}", params=params)
        assert refused.status_code == 404, params
        assert refused.json()["error"]["details"]["verdict"] == "unknown"

    suite.grant_prefix(prefix, merchant)

    assert on_chain() == Verdict.AUTHENTIC
    for verdict in _verdicts(shop, item_hex):
        assert verdict["verdict"] == "authentic", verdict["source"]
        assert verdict["merchant"]["address"] == merchant.address
        assert verdict["batch"]["root"] == batch.hex and verdict["batch"]["proof_verified"]


def test_a_manifest_item_without_a_key_or_with_another_items_key_is_refused(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    batch = suite.register_batch(merchant, count=2)
    keyless = copy.deepcopy(batch.manifest)
    del keyless["items"][0]["sku"]
    other = copy.deepcopy(batch.manifest)
    other["items"][1]["serial"] = "9999"  # names an item the leaf does not hold

    missing = _publish(
        shop, suite, merchant, Batch(batch.root, batch.tree, keyless, batch.receipt, batch.keys)
    )
    mismatch = _publish(
        shop, suite, merchant, Batch(batch.root, batch.tree, other, batch.receipt, batch.keys)
    )

    assert (missing.status_code, missing.json()["error"]["code"]) == (422, "item_key_missing")
    assert missing.json()["error"]["details"] == {"field": "manifest.items.0"}
    assert (mismatch.status_code, mismatch.json()["error"]["code"]) == (422, "item_key_mismatch")
    details = mismatch.json()["error"]["details"]
    assert (details["field"], details["item_id"]) == (
        "manifest.items.1",
        "0x" + batch.item_ids[1].hex(),
    )


def test_asked_by_gtin_the_index_and_the_chain_alike_tell_an_unpublished_batch_apart(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    gtin, prefix = random_gtin()
    suite.grant_prefix(prefix, merchant)
    batch = suite.register_batch(merchant, count=2, gtin=gtin)
    elsewhere, _ = random_gtin()  # under no granted prefix
    shop.index()
    index = shop.app.state.index

    def reasons(asked_gtin: str, serial: str) -> set[str]:
        item_id = item_id_from_gs1(asked_gtin, serial)
        with index.database.sessions() as session:
            return {
                item_verdict(index, session, item_id, fresh=fresh, gtin=asked_gtin).reason.value
                for fresh in (False, True)
            }

    assert reasons(gtin, "0001") == {"batch_unpublished"}
    assert reasons(gtin, "no-such-serial") == {"batch_unpublished"}  # it may be in the batch
    assert reasons(elsewhere, "0001") == {"unknown"}
    assert _publish(shop, suite, merchant, batch).status_code == 201
    assert reasons(gtin, "0001") == {"authentic"}
    assert reasons(gtin, "no-such-serial") == {"unknown"}  # every batch of the holder is listed
