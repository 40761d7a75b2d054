"""Merkle batches of items, compatible with @openzeppelin/merkle-tree's standard tree.

A leaf is ``keccak256(keccak256(abi.encode(itemId, metadataHash)))`` and pairs are hashed
sorted, which is what OpenZeppelin's ``MerkleProof`` checks on chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_typing import HexStr
from eth_utils.conversions import to_bytes
from multiproof.standard import StandardMerkleTree

from app.domain.errors import ItemNotInBatch

LEAF_ENCODING = ["bytes32", "bytes32"]


@dataclass(frozen=True)
class BatchLeaf:
    """One item of a batch: its id and the hash of its metadata."""

    item_id: bytes
    metadata_hash: bytes


class ItemBatch:
    """A Merkle tree over a batch's items, with each item's proof."""

    def __init__(self, leaves: Sequence[BatchLeaf]) -> None:
        if not leaves:
            raise ValueError("a batch needs at least one item")
        if len({leaf.item_id for leaf in leaves}) != len(leaves):
            raise ValueError("a batch names each item once")
        self._tree = StandardMerkleTree.of(
            [[leaf.item_id, leaf.metadata_hash] for leaf in leaves], LEAF_ENCODING
        )
        self._index = {leaf.item_id: i for i, leaf in enumerate(leaves)}
        self.leaves = tuple(leaves)

    @property
    def root(self) -> bytes:
        return to_bytes(hexstr=self._tree.root)

    def proof(self, item_id: bytes) -> list[bytes]:
        """The proof of one item, as `MerkleProof.verify` takes it."""
        index = self._index.get(item_id)
        if index is None:
            raise ItemNotInBatch(f"item 0x{item_id.hex()} is not in this batch")
        return [to_bytes(hexstr=node) for node in self._tree.get_proof(index)]


def verify_proof(root: bytes, leaf: BatchLeaf, proof: Sequence[bytes]) -> bool:
    """Checks a proof off chain exactly as the contract does on chain."""
    return bool(
        StandardMerkleTree.verify(
            HexStr("0x" + root.hex()),
            LEAF_ENCODING,
            [leaf.item_id, leaf.metadata_hash],
            [HexStr("0x" + node.hex()) for node in proof],
        )
    )
