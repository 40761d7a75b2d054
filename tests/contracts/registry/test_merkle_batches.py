"""Properties of Merkle batches built in Python (app.domain.merkle) and checked on chain."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.merkle import BatchLeaf, ItemBatch, verify_proof
from harness.campaign import examples
from tests.contracts.registry.helpers import ItemKey, Verdict, h, sku_key

bytes32 = st.binary(min_size=32, max_size=32)
# Any string that can travel as UTF-8, as a merchant's SKU codes and serials may be.
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
keys = st.builds(sku_key, texts, texts)


def flip_bit(value: bytes, bit: int) -> bytes:
    index, shift = divmod(bit % 256, 8)
    return value[:index] + bytes([value[index] ^ (1 << shift)]) + value[index + 1 :]


@settings(
    max_examples=examples(short=15, long=300),
    deadline=None,
    # Every example runs in its own chain snapshot, so the function-scoped isolation is no issue.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    entries=st.lists(st.tuples(keys, bytes32), min_size=1, max_size=20, unique_by=lambda e: e[0]),
    foreign=keys,
    data=st.data(),
)
def test_every_member_verifies_on_chain_and_tampering_does_not(
    registry: Any,
    chain: Any,
    merchant: Any,
    other_merchant: Any,
    shopper: Any,
    entries: list[tuple[ItemKey, bytes]],
    foreign: ItemKey,
    data: st.DataObject,
) -> None:
    members = {key.item_id(merchant): (key, metadata) for key, metadata in entries}
    batch = ItemBatch([BatchLeaf(item_id, metadata) for item_id, (_, metadata) in members.items()])
    snapshot = chain.snapshot()
    try:
        registry.registerBatch(
            batch.root, len(batch.leaves), h("manifest"), "ipfs://batch", sender=merchant
        )

        def verdict(key: ItemKey, metadata: bytes, proof: list[bytes]) -> Verdict:
            return Verdict(registry.verifyBatchItem(batch.root, key.as_abi(), metadata, proof))

        for leaf in batch.leaves:
            key, metadata = members[leaf.item_id]
            proof = batch.proof(leaf.item_id)
            assert verify_proof(batch.root, leaf, proof)
            assert verdict(key, metadata, proof) == Verdict.AUTHENTIC

        index = data.draw(st.integers(0, len(batch.leaves) - 1), label="member")
        member = batch.leaves[index]
        key, metadata = members[member.item_id]
        proof = batch.proof(member.item_id)

        if foreign.item_id(merchant) not in members:
            assert verdict(foreign, metadata, proof) == Verdict.UNKNOWN

        bit = data.draw(st.integers(0, 255), label="bit")
        tampered = BatchLeaf(member.item_id, flip_bit(metadata, bit))
        assert not verify_proof(batch.root, tampered, proof)
        assert verdict(key, tampered.metadata_hash, proof) == Verdict.UNKNOWN

        if proof:
            position = data.draw(st.integers(0, len(proof) - 1), label="proof element")
            bad_proof = [*proof]
            bad_proof[position] = flip_bit(bad_proof[position], bit)
            assert not verify_proof(batch.root, member, bad_proof)
            assert verdict(key, metadata, bad_proof) == Verdict.UNKNOWN
            assert verdict(key, metadata, proof[:-1]) == Verdict.UNKNOWN

        registry.activateBatchItem(batch.root, key.as_abi(), metadata, proof, sender=shopper)
        assert registry.verify(member.item_id) == Verdict.AUTHENTIC
        assert registry.itemOf(member.item_id).merchant == merchant.address
        # The same key is a different id for any other merchant: nobody else can claim it.
        assert key.item_id(other_merchant) != member.item_id
    finally:
        chain.restore(snapshot)
