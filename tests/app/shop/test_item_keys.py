"""Verdicts under the new ownership rules, from the index and fresh from the chain alike: an item a
verifier moved shows its new merchant; a revoked record reads unknown until its rightful merchant
registers the id again (the squatter's recall no longer counts); a batch item named by a GTIN is
authentic only while the batch's merchant holds the GTIN's company prefix (``verifyBatchItem``
with the manifest's key); and manifests whose items name no key, another item's, or a GTIN under a
prefix the batch's merchant does not hold, are refused."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from app.domain.ids import item_id_from_gs1
from app.domain.vocab import Verdict
from app.shop.models import ManifestItem
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
    item_id = batch.item_ids[1]
    item_hex = "0x" + item_id.hex()
    leaf = batch.tree.leaves[1]

    def on_chain() -> int:
        verdict: int = suite.registry.functions.verifyBatchItem(
            batch.root, batch.keys[item_id], leaf.metadata_hash, batch.tree.proof(item_id)
        ).call()
        return verdict

    early = _publish(shop, suite, merchant, batch)

    # The batch lists the ids, but not under a key its merchant may claim: nobody's items, and
    # its manifest is refused rather than kept to speak for them.
    assert on_chain() == Verdict.UNKNOWN
    assert (early.status_code, early.json()["error"]["code"]) == (422, "gs1_prefix_not_held")
    assert early.json()["error"]["details"] == {"field": "manifest.items.0", "gtin": gtin}
    shop.index()
    for params in BOTH:
        refused = shop.client.get(f"/v1/items/{item_hex}", params=params)
        assert refused.status_code == 404, params
        assert refused.json()["error"]["details"]["verdict"] == "unknown"

    suite.grant_prefix(prefix, merchant)

    assert _publish(shop, suite, merchant, batch).status_code == 201
    assert on_chain() == Verdict.AUTHENTIC
    for verdict in _verdicts(shop, item_hex):
        assert verdict["verdict"] == "authentic", verdict["source"]
        assert verdict["merchant"]["address"] == merchant.address
        assert verdict["batch"]["root"] == batch.hex and verdict["batch"]["proof_verified"]


def test_a_manifest_naming_another_companys_gtins_is_refused_and_speaks_for_none_of_them(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    """A squatter, an approved merchant without the prefix, registers a batch whose leaves name
    the prefix holder's GS1 items (GS1 ids are the same under every merchant) and publishes it
    first: refused, so the holder's own manifest alone speaks for its items (the page, its
    activation proof, its carriers' reach: app.ingest.custody_scope)."""
    gtin, prefix = random_gtin()
    suite.grant_prefix(prefix, merchant)
    squatter = suite.new_merchant("Squat Goods Ltd")
    squat = suite.register_batch(squatter, count=3, gtin=gtin)
    batch = suite.register_batch(merchant, count=2, gtin=gtin)
    shared = batch.item_ids[1]
    assert shared in squat.item_ids and squat.root != batch.root

    squatted = _publish(shop, suite, squatter, squat)
    published = _publish(shop, suite, merchant, batch)

    assert (squatted.status_code, squatted.json()["error"]["code"]) == (422, "gs1_prefix_not_held")
    assert published.status_code == 201, published.text
    with shop.app.state.index.database.sessions() as session:
        roots = session.scalars(
            select(ManifestItem.root).where(ManifestItem.item_id == "0x" + shared.hex())
        ).all()
    assert roots == [batch.hex]
    for verdict in _verdicts(shop, "0x" + shared.hex()):
        assert verdict["verdict"] == "authentic", verdict["source"]
        assert verdict["merchant"]["address"] == merchant.address


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
