"""``POST /v1/batches/{root}/manifest``: a merchant's signed manifest is checked against the chain
and its leaves, then every batch item's verdict carries its Merkle proof."""

from __future__ import annotations

import copy
from typing import Any

from app.domain.vocab import Verdict
from tests.app.index.actors import Actor, Batch, Shop, SuiteDriver


def _publish(shop: Shop, batch: Batch, manifest: dict[str, Any], signature: str) -> Any:
    return shop.client.post(
        f"/v1/batches/{batch.hex}/manifest", json={"manifest": manifest, "signature": signature}
    )


def _error(response: Any) -> str:
    return str(response.json()["error"]["code"])


def test_published_manifest_gives_each_batch_item_a_proof_anyone_can_check(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    batch = suite.register_batch(merchant, count=5)

    published = _publish(shop, batch, batch.manifest, suite.sign_manifest(merchant, batch))

    assert published.status_code == 201, published.text
    body = published.json()
    assert (body["root"], body["merchant"], body["item_count"]) == (batch.hex, merchant.address, 5)
    assert body["matches_onchain_metadata_hash"] is True and body["created"] is True
    shop.index()
    item_id = batch.item_ids[3]
    for params in ({}, {"fresh": "true"}):
        verdict = shop.client.get(f"/v1/items/0x{item_id.hex()}", params=params).json()
        assert (verdict["verdict"], verdict["merchant"]["address"]) == (
            "authentic",
            merchant.address,
        )
        proof = verdict["batch"]
        assert (proof["root"], proof["item_count"], proof["activated"]) == (batch.hex, 5, False)
        assert proof["proof"] == ["0x" + node.hex() for node in batch.tree.proof(item_id)]
        assert proof["proof_verified"] is True
        assert verdict["registration"] is None
        assert verdict["metadata"]["uri"] == batch.manifest["items"][3]["metadata_uri"]
        on_chain = suite.registry.functions.verifyBatchItem(
            batch.root,
            batch.keys[item_id],
            bytes.fromhex(proof["metadata_hash"][2:]),
            [bytes.fromhex(node[2:]) for node in proof["proof"]],
        ).call()
        assert on_chain == Verdict.AUTHENTIC


def test_batch_item_reads_activated_after_activation_and_recalled_with_its_batch(
    shop: Shop, suite: SuiteDriver, merchant: Actor, shopper: Actor
) -> None:
    batch = suite.register_batch(merchant, count=3)
    _publish(shop, batch, batch.manifest, suite.sign_manifest(merchant, batch))
    activated, dormant = batch.item_ids[0], batch.item_ids[1]
    activation = suite.activate(batch, activated, shopper.address)  # anyone may activate
    suite.recall_batch(merchant, batch)
    shop.index()

    for item_id in (activated, dormant):
        for params in ({}, {"fresh": "true"}):
            verdict = shop.client.get(f"/v1/items/0x{item_id.hex()}", params=params).json()
            assert (verdict["verdict"], verdict["reason"]) == ("recalled", "batch_recalled")
            assert verdict["batch"]["recalled"] is True
            assert verdict["recall"]["scope"] == "batch"
            assert verdict["batch"]["activated"] is (item_id == activated)
    record = shop.client.get(f"/v1/items/0x{activated.hex()}").json()["registration"]
    assert record["kind"] == "batch"
    assert record["tx_hash"] == "0x" + bytes(activation["transactionHash"]).hex()


def test_publishing_the_same_manifest_again_answers_the_first_publication(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    batch = suite.register_batch(merchant)
    signature = suite.sign_manifest(merchant, batch)
    first = _publish(shop, batch, batch.manifest, signature)

    again = _publish(shop, batch, batch.manifest, signature)

    assert again.status_code == 200
    assert again.json() == {**first.json(), "created": False}


def test_other_content_for_a_published_root_is_a_conflict(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    batch = suite.register_batch(merchant)
    _publish(shop, batch, batch.manifest, suite.sign_manifest(merchant, batch))
    relabelled = copy.deepcopy(batch.manifest)
    relabelled["items"][0]["label"] = "relabelled serial 9999"
    relabelled_batch = Batch(batch.root, batch.tree, relabelled, batch.receipt, batch.keys)

    response = _publish(shop, batch, relabelled, suite.sign_manifest(merchant, relabelled_batch))

    assert response.status_code == 409
    assert _error(response) == "manifest_already_published"


def test_manifest_signed_by_anyone_but_the_batch_merchant_is_refused(
    shop: Shop, suite: SuiteDriver, merchant: Actor, shopper: Actor
) -> None:
    batch = suite.register_batch(merchant)

    response = _publish(shop, batch, batch.manifest, suite.sign_manifest(shopper, batch))

    assert response.status_code == 403
    assert _error(response) == "signer_not_batch_merchant"
    assert response.json()["error"]["details"] == {
        "signer": shopper.address,
        "batch_merchant": merchant.address,
    }


def test_manifest_whose_leaves_do_not_rebuild_the_root_is_refused(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    batch = suite.register_batch(merchant)
    forged = copy.deepcopy(batch.manifest)
    forged["items"][1]["metadata_hash"] = "0x" + "77" * 32
    forged_batch = Batch(batch.root, batch.tree, forged, batch.receipt, batch.keys)

    response = _publish(shop, batch, forged, suite.sign_manifest(merchant, forged_batch))

    assert response.status_code == 422
    assert _error(response) == "root_not_rebuilt"


def test_manifest_for_a_root_nobody_registered_is_refused(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    batch = suite.register_batch(merchant)
    stranger_root = "0x" + "5a" * 32
    manifest = {**batch.manifest, "root": stranger_root}

    response = shop.client.post(
        f"/v1/batches/{stranger_root}/manifest",
        json={"manifest": manifest, "signature": suite.sign_manifest(merchant, batch)},
    )

    assert response.status_code == 404
    assert _error(response) == "batch_not_registered"


def test_manifest_refusals_for_malformed_requests(
    shop: Shop, suite: SuiteDriver, merchant: Actor
) -> None:
    batch = suite.register_batch(merchant)
    signature = suite.sign_manifest(merchant, batch)
    other_root = {**batch.manifest, "root": "0x" + "01" * 32}
    wrong_chain = {**batch.manifest, "chain_id": 1}
    no_items = {**batch.manifest, "items": []}

    cases = [
        (
            shop.client.post(
                "/v1/batches/0x1234/manifest",
                json={"manifest": batch.manifest, "signature": signature},
            ),
            "invalid_root",
        ),
        (_publish(shop, batch, other_root, signature), "root_mismatch"),
        (_publish(shop, batch, wrong_chain, signature), "wrong_chain"),
        (_publish(shop, batch, no_items, signature), "invalid_manifest"),
        (_publish(shop, batch, batch.manifest, "0x" + "00" * 65), "invalid_signature"),
        (_publish(shop, batch, batch.manifest, "0xdead"), "validation_failed"),
    ]
    for response, code in cases:
        assert (response.status_code, _error(response)) == (422, code), response.text
