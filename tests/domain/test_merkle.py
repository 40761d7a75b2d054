"""app.domain.merkle: ItemBatch trees and proofs, and their compatibility with the JS reference."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import ItemNotInBatch
from app.domain.merkle import LEAF_ENCODING, BatchLeaf, ItemBatch, verify_proof

ROOT = Path(__file__).resolve().parents[2]

# Builds @openzeppelin/merkle-tree standard trees for several value sets read from stdin and
# prints each tree's root and the proof of every value, in input order.
JS_REFERENCE = """
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const sets = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = sets.map((values) => {
  const tree = StandardMerkleTree.of(values, ["bytes32", "bytes32"]);
  return { root: tree.root, proofs: values.map((_, i) => tree.getProof(i)) };
});
process.stdout.write(JSON.stringify(out));
"""

bytes32 = st.binary(min_size=32, max_size=32)
leaf_lists = st.lists(
    st.builds(BatchLeaf, bytes32, bytes32),
    min_size=1,
    max_size=40,
    unique_by=lambda leaf: leaf.item_id,
)


def random_leaves(rng: random.Random, count: int) -> list[BatchLeaf]:
    return [BatchLeaf(rng.randbytes(32), rng.randbytes(32)) for _ in range(count)]


def leaf_hash(leaf: BatchLeaf) -> bytes:
    return keccak(keccak(encode(["bytes32", "bytes32"], [leaf.item_id, leaf.metadata_hash])))


def test_leaf_encoding_is_the_contracts_pair_of_bytes32() -> None:
    assert LEAF_ENCODING == ["bytes32", "bytes32"]


def test_matches_openzeppelin_merkle_tree_root_and_proofs() -> None:
    rng = random.Random(20261122)
    sets = [random_leaves(rng, n) for n in (1, 2, 3, 4, 5, 8, 13, 37, 100)]
    values = [
        [["0x" + leaf.item_id.hex(), "0x" + leaf.metadata_hash.hex()] for leaf in s] for s in sets
    ]

    result = subprocess.run(
        ["node", "-e", JS_REFERENCE],
        input=json.dumps(values),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    reference = json.loads(result.stdout)

    assert len(reference) == len(sets)
    for leaves, js in zip(sets, reference, strict=True):
        batch = ItemBatch(leaves)
        assert "0x" + batch.root.hex() == js["root"]
        for leaf, js_proof in zip(leaves, js["proofs"], strict=True):
            assert ["0x" + node.hex() for node in batch.proof(leaf.item_id)] == js_proof


@given(leaf_lists)
def test_every_member_proof_verifies(leaves: list[BatchLeaf]) -> None:
    batch = ItemBatch(leaves)

    for leaf in leaves:
        assert verify_proof(batch.root, leaf, batch.proof(leaf.item_id))


@given(leaf_lists, st.builds(BatchLeaf, bytes32, bytes32))
def test_foreign_leaf_does_not_verify_with_any_member_proof(
    leaves: list[BatchLeaf], foreign: BatchLeaf
) -> None:
    batch = ItemBatch(leaves)
    if foreign in leaves:
        return

    for leaf in leaves:
        assert not verify_proof(batch.root, foreign, batch.proof(leaf.item_id))


@given(leaf_lists, st.integers(0, 255))
def test_tampered_metadata_hash_does_not_verify(leaves: list[BatchLeaf], bit: int) -> None:
    batch = ItemBatch(leaves)
    leaf = leaves[bit % len(leaves)]
    metadata = bytearray(leaf.metadata_hash)
    metadata[bit // 8] ^= 1 << (bit % 8)

    tampered = BatchLeaf(leaf.item_id, bytes(metadata))

    assert not verify_proof(batch.root, tampered, batch.proof(leaf.item_id))


@given(leaf_lists, st.randoms(use_true_random=False))
def test_root_does_not_depend_on_leaf_order(leaves: list[BatchLeaf], rng: random.Random) -> None:
    shuffled = list(leaves)
    rng.shuffle(shuffled)

    assert ItemBatch(shuffled).root == ItemBatch(leaves).root


def test_single_item_batch_has_the_leaf_as_root_and_an_empty_proof() -> None:
    leaf = BatchLeaf(keccak(text="item"), keccak(text="metadata"))
    batch = ItemBatch([leaf])

    assert batch.root == leaf_hash(leaf)
    assert batch.proof(leaf.item_id) == []
    assert verify_proof(batch.root, leaf, [])


def test_two_item_batch_root_is_sorted_pair_hash() -> None:
    a = BatchLeaf(keccak(text="a"), keccak(text="ma"))
    b = BatchLeaf(keccak(text="b"), keccak(text="mb"))
    low, high = sorted([leaf_hash(a), leaf_hash(b)])

    batch = ItemBatch([a, b])

    assert batch.root == keccak(low + high)
    assert batch.proof(a.item_id) == [leaf_hash(b)]
    assert batch.leaves == (a, b)


def test_proof_raises_for_item_not_in_batch() -> None:
    batch = ItemBatch([BatchLeaf(keccak(text="a"), keccak(text="ma"))])

    with pytest.raises(ItemNotInBatch):
        batch.proof(keccak(text="b"))


def test_empty_batch_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one item"):
        ItemBatch([])


def test_batch_naming_an_item_twice_is_rejected() -> None:
    item_id = keccak(text="a")

    with pytest.raises(ValueError, match="each item once"):
        ItemBatch([BatchLeaf(item_id, keccak(text="m1")), BatchLeaf(item_id, keccak(text="m2"))])
