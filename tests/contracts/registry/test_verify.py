"""The shopper's verdict: verify (single and activated items) and verifyBatchItem (by proof)."""

from __future__ import annotations

from typing import Any

from tests.contracts.registry.helpers import Verdict, h, key_of


def batch_verdict(registry: Any, batch: Any, index: int) -> Verdict:
    leaf = batch.leaf(index)
    return Verdict(
        registry.verifyBatchItem(
            batch.root, batch.key(index).as_abi(), leaf.metadata_hash, batch.proof(index)
        )
    )


# ------------------------------------------------------------------ verify


def test_verify_reads_authentic_for_item_of_active_merchant(
    registry: Any, register_item: Any
) -> None:
    assert registry.verify(register_item()) == Verdict.AUTHENTIC


def test_verify_reads_unknown_for_unregistered_item(registry: Any) -> None:
    assert registry.verify(h("never registered")) == Verdict.UNKNOWN


def test_verify_reads_unknown_for_unactivated_batch_item(
    registry: Any, register_batch: Any
) -> None:
    assert registry.verify(register_batch(2).leaf(0).item_id) == Verdict.UNKNOWN


def test_verify_reads_merchant_suspended_for_item_of_suspended_merchant(
    registry: Any, verifier: Any, merchant: Any, register_item: Any
) -> None:
    item_id = register_item()
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    assert registry.verify(item_id) == Verdict.MERCHANT_SUSPENDED


def test_verify_reads_flagged_for_flagged_item(
    registry: Any, register_item: Any, confirmed_flag: Any
) -> None:
    item_id = register_item()
    confirmed_flag(item_id)

    assert registry.verify(item_id) == Verdict.FLAGGED


def test_verify_reads_recalled_for_recalled_item(
    registry: Any, merchant: Any, register_item: Any
) -> None:
    item_id = register_item()
    registry.recallItem(item_id, h("recall"), sender=merchant)

    assert registry.verify(item_id) == Verdict.RECALLED


def test_verify_prefers_flagged_over_merchant_suspended(
    registry: Any, verifier: Any, merchant: Any, register_item: Any, confirmed_flag: Any
) -> None:
    item_id = register_item()
    confirmed_flag(item_id)
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    assert registry.verify(item_id) == Verdict.FLAGGED


def test_verify_prefers_recalled_over_merchant_suspended(
    registry: Any, verifier: Any, merchant: Any, register_item: Any
) -> None:
    item_id = register_item()
    registry.recallItem(item_id, h("recall"), sender=merchant)
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    assert registry.verify(item_id) == Verdict.RECALLED


def test_verify_reads_activated_batch_item_like_a_single_item(
    registry: Any, verifier: Any, merchant: Any, register_batch: Any, activate: Any
) -> None:
    batch = register_batch(3)
    activate(batch, 0)
    item_id = batch.leaf(0).item_id
    assert registry.verify(item_id) == Verdict.AUTHENTIC

    registry.suspendMerchant(merchant, h("reason"), sender=verifier)
    assert registry.verify(item_id) == Verdict.MERCHANT_SUSPENDED

    registry.reinstateMerchant(merchant, sender=verifier)
    registry.recallBatch(batch.root, h("recall"), sender=merchant)
    assert registry.verify(item_id) == Verdict.RECALLED


# ------------------------------------------------------------------ verifyBatchItem


def test_verify_batch_item_reads_authentic_without_activation(
    registry: Any, register_batch: Any
) -> None:
    batch = register_batch(6)

    assert [batch_verdict(registry, batch, i) for i in range(6)] == [Verdict.AUTHENTIC] * 6


def test_verify_batch_item_reads_authentic_after_activation(
    registry: Any, register_batch: Any, activate: Any
) -> None:
    batch = register_batch(3)
    activate(batch, 2)

    assert batch_verdict(registry, batch, 2) == Verdict.AUTHENTIC


def test_verify_batch_item_reads_unknown_for_unregistered_root(
    registry: Any, make_batch: Any
) -> None:
    tree = make_batch(3)
    leaf = tree.leaves[0]

    verdict = registry.verifyBatchItem(
        tree.root, key_of(leaf.item_id).as_abi(), leaf.metadata_hash, tree.proof(leaf.item_id)
    )

    assert verdict == Verdict.UNKNOWN


def test_verify_batch_item_reads_unknown_for_bad_proof(registry: Any, register_batch: Any) -> None:
    batch = register_batch(4)
    leaf, key = batch.leaf(0), batch.key(0).as_abi()

    assert (
        registry.verifyBatchItem(batch.root, key, leaf.metadata_hash, batch.proof(1))
        == Verdict.UNKNOWN
    )
    assert registry.verifyBatchItem(batch.root, key, h("forged"), batch.proof(0)) == Verdict.UNKNOWN
    assert registry.verifyBatchItem(batch.root, key, leaf.metadata_hash, []) == Verdict.UNKNOWN


def test_verify_batch_item_reads_unknown_for_bad_proof_even_if_batch_recalled(
    registry: Any, merchant: Any, register_batch: Any
) -> None:
    batch = register_batch(4)
    registry.recallBatch(batch.root, h("recall"), sender=merchant)

    assert (
        registry.verifyBatchItem(batch.root, batch.key(0).as_abi(), h("forged"), batch.proof(0))
        == Verdict.UNKNOWN
    )


def test_verify_batch_item_reads_merchant_suspended(
    registry: Any, verifier: Any, merchant: Any, register_batch: Any
) -> None:
    batch = register_batch(3)
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    assert batch_verdict(registry, batch, 1) == Verdict.MERCHANT_SUSPENDED


def test_verify_batch_item_reads_flagged_for_flagged_item_only(
    registry: Any, register_batch: Any, confirmed_flag: Any
) -> None:
    batch = register_batch(3)
    confirmed_flag(batch.leaf(1).item_id)

    assert batch_verdict(registry, batch, 1) == Verdict.FLAGGED
    assert batch_verdict(registry, batch, 0) == Verdict.AUTHENTIC


def test_verify_batch_item_reads_recalled_for_recalled_batch(
    registry: Any, verifier: Any, merchant: Any, register_batch: Any, confirmed_flag: Any
) -> None:
    batch = register_batch(3)
    confirmed_flag(batch.leaf(0).item_id)
    registry.recallBatch(batch.root, h("recall"), sender=merchant)
    registry.suspendMerchant(merchant, h("reason"), sender=verifier)

    assert [batch_verdict(registry, batch, i) for i in range(3)] == [Verdict.RECALLED] * 3


def test_verify_batch_item_reads_recalled_for_recalled_activated_item(
    registry: Any, merchant: Any, register_batch: Any, activate: Any
) -> None:
    batch = register_batch(3)
    activate(batch, 2)
    registry.recallItem(batch.leaf(2).item_id, h("recall"), sender=merchant)

    assert batch_verdict(registry, batch, 2) == Verdict.RECALLED
    assert batch_verdict(registry, batch, 1) == Verdict.AUTHENTIC


def test_verify_batch_item_reads_unknown_for_a_key_that_names_another_merchants_id(
    registry: Any, other_merchant: Any, register_batch: Any
) -> None:
    """A rival's key read under the batch's merchant is another id, which the batch never held."""
    batch = register_batch(3)
    leaf, key = batch.leaf(0), batch.key(0)
    rival_batch = register_batch(3, sender=other_merchant)

    verdict = registry.verifyBatchItem(
        rival_batch.root, key.as_abi(), leaf.metadata_hash, batch.proof(0)
    )

    assert verdict == Verdict.UNKNOWN
    assert batch_verdict(registry, batch, 0) == Verdict.AUTHENTIC
