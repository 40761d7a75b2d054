"""Properties of Merkle batches built in Python (app.domain.merkle) and checked on chain."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.merkle import BatchLeaf, ItemBatch, verify_proof
from tests.contracts.registry.helpers import ZERO32, Verdict, h
from tests.support.campaign import examples

bytes32 = st.binary(min_size=32, max_size=32)

batches = st.lists(
    st.builds(BatchLeaf, bytes32, bytes32),
    min_size=1,
    max_size=20,
    unique_by=lambda leaf: leaf.item_id,
).map(ItemBatch)


def flip_bit(value: bytes, bit: int) -> bytes:
    index, shift = divmod(bit % 256, 8)
    return value[:index] + bytes([value[index] ^ (1 << shift)]) + value[index + 1 :]


@settings(
    max_examples=examples(short=15, long=300),
    deadline=None,
    # Every example runs in its own chain snapshot, so the function-scoped isolation is no issue.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=batches, foreign=st.builds(BatchLeaf, bytes32, bytes32), data=st.data())
def test_every_member_verifies_on_chain_and_tampering_does_not(
    registry: Any,
    chain: Any,
    merchant: Any,
    shopper: Any,
    batch: ItemBatch,
    foreign: BatchLeaf,
    data: st.DataObject,
) -> None:
    snapshot = chain.snapshot()
    try:
        registry.registerBatch(
            batch.root, len(batch.leaves), h("manifest"), "ipfs://batch", sender=merchant
        )

        def verdict(leaf: BatchLeaf, proof: list[bytes]) -> Verdict:
            return Verdict(
                registry.verifyBatchItem(batch.root, leaf.item_id, leaf.metadata_hash, proof)
            )

        for leaf in batch.leaves:
            proof = batch.proof(leaf.item_id)
            assert verify_proof(batch.root, leaf, proof)
            assert verdict(leaf, proof) == Verdict.AUTHENTIC

        index = data.draw(st.integers(0, len(batch.leaves) - 1), label="member")
        member = batch.leaves[index]
        proof = batch.proof(member.item_id)

        if foreign.item_id not in {leaf.item_id for leaf in batch.leaves}:
            assert verdict(foreign, proof) == Verdict.UNKNOWN

        bit = data.draw(st.integers(0, 255), label="bit")
        tampered = BatchLeaf(member.item_id, flip_bit(member.metadata_hash, bit))
        assert not verify_proof(batch.root, tampered, proof)
        assert verdict(tampered, proof) == Verdict.UNKNOWN

        if proof:
            position = data.draw(st.integers(0, len(proof) - 1), label="proof element")
            bad_proof = [*proof]
            bad_proof[position] = flip_bit(bad_proof[position], bit)
            assert not verify_proof(batch.root, member, bad_proof)
            assert verdict(member, bad_proof) == Verdict.UNKNOWN
            assert verdict(member, proof[:-1]) == Verdict.UNKNOWN

        if member.item_id != ZERO32:
            registry.activateBatchItem(
                batch.root, member.item_id, member.metadata_hash, proof, sender=shopper
            )
            assert registry.verify(member.item_id) == Verdict.AUTHENTIC
            assert registry.itemOf(member.item_id).merchant == merchant.address
    finally:
        chain.restore(snapshot)
