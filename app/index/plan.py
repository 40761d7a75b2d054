"""What the indexer fetches from one deployment: the addresses of the contracts it has handlers
for, their events' topics and decoders, where to start, and a fingerprint of it all (a changed
deployment starts a new cursor)."""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak

from app.index.chain import ChainAccess, ChainUnavailable
from app.index.decoding import EventDecoder
from app.index.handlers import Handler, HandlerTable, hex32

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Subscription:
    contract: str
    event: str
    decoder: EventDecoder
    handler: Handler


@dataclass(frozen=True)
class Plan:
    """What to fetch from one deployment: addresses, topics and their handlers."""

    chain_id: int
    fingerprint: str
    start_block: int
    addresses: list[ChecksumAddress]
    topics: list[str]
    by_key: dict[tuple[str, str], Subscription] = field(default_factory=dict)


def build_plan(chain: ChainAccess, handlers: HandlerTable) -> Plan:
    """Addresses, topics and decoders for the deployment ``chain`` reads."""
    suite = chain.suite()
    by_key: dict[tuple[str, str], Subscription] = {}
    addresses: list[ChecksumAddress] = []
    topics: set[str] = set()
    start_blocks: list[int] = []
    fingerprint_parts = [str(suite.chain_id)]
    for contract_name in sorted(handlers.contracts()):
        contract = suite.contracts.get(contract_name)
        if contract is None:
            continue
        abi_events = {str(e.get("name")): e for e in contract.abi if e.get("type") == "event"}
        subscribed = False
        for event_name in handlers.events_of(contract_name):
            if event_name not in abi_events:
                log.warning("index_event_missing", contract=contract_name, event=event_name)
                continue
            decoder = EventDecoder(abi_events[event_name])
            topic = decoder.topic
            handler = handlers.get(contract_name, event_name)
            assert handler is not None
            by_key[(contract.address.lower(), topic)] = Subscription(
                contract_name, event_name, decoder, handler
            )
            topics.add(topic)
            subscribed = True
        if subscribed:
            addresses.append(contract.address)
            start_blocks.append(suite.deployed_at_block(contract_name))
            fingerprint_parts.append(f"{contract_name}={contract.address}")
    if not addresses:
        raise ChainUnavailable("the deployment has none of the contracts the index follows")
    fingerprint = hex32(keccak(text="|".join(fingerprint_parts)))
    return Plan(
        chain_id=suite.chain_id,
        fingerprint=fingerprint,
        start_block=min(start_blocks),
        addresses=addresses,
        topics=sorted(topics),
        by_key=by_key,
    )
