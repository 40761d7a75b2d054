"""Batch items given records of their own before a carrier's event about them goes on chain: a
carrier reports on an item of a Merkle batch its merchant published (``app.ingest.activations``),
and ``ProductRegistry.activateBatchItem`` (anyone may send it) proves the item from its manifest.
One transaction an item (the proof is dynamic). The item's custody events wait while its
activation is open (``app.outbox.kinds.custody``).

An item someone else activated first (the merchant, a buyer ordering it) is refused as already
registered: the record is then confirmed from that activation's log."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode
from hexbytes import HexBytes

from app.chain.reverts import Revert
from app.domain.abi_types import from_hex
from app.outbox.calls import RowView
from app.outbox.kinds.base import KindRelay
from app.outbox.models import RelayKind
from app.outbox.plan import GLOBAL_REFUSALS, WAITING_FOR_DEPTH, HeldBack, Plan

# The outbox source of activations; the event id is the item's id, so an item is queued once.
ACTIVATION_SOURCE = "batch-activation"
ARGUMENT_TYPES = ["bytes32", "(uint8,string,string)", "bytes32", "bytes32[]"]


def activation_payload(
    root: str, item_id: str, key: tuple[int, str, str], metadata_hash: str, proof: list[str]
) -> dict[str, Any]:
    """What an activation record keeps: ``activateBatchItem``'s arguments, and the item's id."""
    scheme, code, serial = key
    return {"root": root, "item_id": item_id, "id_scheme": scheme, "code": code,
            "serial": serial, "metadata_hash": metadata_hash, "proof": proof}  # fmt: skip


class BatchActivationRelay(KindRelay):
    """Batch items activated from their published proofs, one per transaction."""

    kind = RelayKind.BATCH_ACTIVATION
    contract_name = "ProductRegistry"
    function = "activateBatchItem"
    tuple_type = ",".join(ARGUMENT_TYPES)
    per_record = True

    @staticmethod
    def encode_row(row: RowView) -> list[bytes]:
        p = row.payload
        key = (int(p["id_scheme"]), str(p["code"]), str(p["serial"]))
        proof = [from_hex(node) for node in p["proof"]]
        values = [from_hex(p["root"]), key, from_hex(p["metadata_hash"]), proof]
        return [encode(ARGUMENT_TYPES, values)]

    def without_refused(
        self, send: list[RowView], revert: Revert, head: int, plan: Plan
    ) -> list[RowView]:
        if revert.name in GLOBAL_REFUSALS or revert.name == "Unknown":
            raise HeldBack(str(revert))
        for row in send:
            activated = (
                self._activation(row) if revert.name == "RegistryItemAlreadyRegistered" else None
            )
            if activated is None:
                plan.failed[row.id] = str(revert)
            elif head - int(activated["blockNumber"]) >= self.context.depth:
                plan.confirmed[row.id] = (
                    HexBytes(activated["transactionHash"]).to_0x_hex(),
                    int(activated["blockNumber"]),
                )
            else:
                plan.deferred[row.id] = WAITING_FOR_DEPTH
        return []

    def _activation(self, row: RowView) -> Any | None:
        """The ``BatchItemActivated`` log of the record's item, whoever sent it."""
        registry = self.call.contract
        start = self.context.suite.deployed_at_block(self.contract_name)
        found = registry.events.BatchItemActivated().get_logs(
            argument_filters={"itemId": from_hex(row.payload["item_id"])},
            from_block=start,
            to_block="latest",
        )
        return found[0] if found else None
