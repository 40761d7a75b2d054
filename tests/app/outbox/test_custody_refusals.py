"""A custody batch the registry refuses for one of its records: the record its error names fails
with the error in words, and the rest of the batch goes on chain."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak

from app.outbox.relayer import Relayer
from tests.app.conftest import SourceSecrets
from tests.app.ingest.support import (
    ADMIN_KEY,
    Chain,
    event,
    hex32,
    post_signed,
    relay_until_settled,
)
from tests.app.outbox.conftest import ServiceFactory

pytestmark = pytest.mark.anvil
ZERO_ADDRESS = "0x" + "00" * 20


def test_an_item_revoked_after_its_event_was_accepted_fails_alone_with_the_registrys_error(
    make_service: ServiceFactory, relay_chain: Chain, carrier: SourceSecrets
) -> None:
    handle = make_service()
    items = relay_chain.register_skus(3, "revoked")
    start = relay_chain.head()
    accepted = post_signed(
        handle.client, carrier, [event(item_id=hex32(item), action="shipped") for item in items]
    )
    assert accepted.status_code == 202, accepted.text
    # A verifier revokes the middle item's record (a squatted id) before the relayer sends.
    revoke = relay_chain.registry.functions.reassignItem(items[1], ZERO_ADDRESS, keccak(b"squat"))
    relay_chain.send(ADMIN_KEY, revoke)

    relay_until_settled(Relayer.from_services(handle.services), handle, relay_chain)

    by_item = {record.subject: record for record in handle.records()
               if record.subject in {hex32(item) for item in items}}  # fmt: skip
    refused = by_item[hex32(items[1])]
    assert refused.status == "failed"
    assert refused.failure_reason is not None
    assert refused.failure_reason.startswith(f"RegistryItemNotRegistered(itemId={hex32(items[1])}")
    assert {by_item[hex32(items[i])].status for i in (0, 2)} == {"confirmed"}
    recorded = {item for _, item, _ in relay_chain.custody_events(start)}
    assert recorded >= {hex32(items[0]), hex32(items[2])}
    assert hex32(items[1]) not in recorded
