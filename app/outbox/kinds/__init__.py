"""The relay kinds, one module each, and which class relays which ``RelayKind``.

A new kind of record is a module here with its ``KindRelay`` subclass, a ``RelayKind`` member, and
its entry in ``KIND_RELAYS``; the lane, the settlement and the relayer need nothing else."""

from __future__ import annotations

from collections.abc import Mapping

from web3.contract import Contract

from app.chain.contracts import Suite
from app.chain.reverts import RevertDecoder
from app.outbox.calls import BatchCall
from app.outbox.kinds.base import KindRelay, RelayContext
from app.outbox.kinds.batch_activation import BatchActivationRelay
from app.outbox.kinds.credit_application import CreditApplicationRelay
from app.outbox.kinds.custody import CustodyRelay
from app.outbox.kinds.forwarded import MerchantRequestRelay
from app.outbox.kinds.keeper import KeeperDutyRelay
from app.outbox.kinds.keeper_credit import KeeperCreditRelay
from app.outbox.kinds.logistics import LogisticsRelay
from app.outbox.models import RelayKind

KIND_RELAYS: dict[RelayKind, type[KindRelay]] = {
    RelayKind.CUSTODY: CustodyRelay,
    RelayKind.ORDER_LOGISTICS: LogisticsRelay,
    RelayKind.CREDIT_APPLICATION: CreditApplicationRelay,
    RelayKind.KEEPER_DUTY: KeeperDutyRelay,
    RelayKind.KEEPER_CREDIT_DUTY: KeeperCreditRelay,
    RelayKind.BATCH_ACTIVATION: BatchActivationRelay,
    RelayKind.MERCHANT_REQUEST: MerchantRequestRelay,
}

__all__ = [
    "KIND_RELAYS",
    "KindRelay",
    "RelayContext",
    "batch_calls",
    "deployed_calls",
    "kind_relays",
    "revert_decoder",
]


def batch_calls(contracts: Mapping[RelayKind, Contract]) -> dict[RelayKind, BatchCall]:
    """Each kind's entry point on its contract, checked against the contract's ABI."""
    calls = {kind: KIND_RELAYS[kind].call_on(contract) for kind, contract in contracts.items()}
    for call in calls.values():
        call.check_abi()
    return calls


def deployed_calls(suite: Suite) -> dict[RelayKind, BatchCall]:
    """The entry points of the kinds whose contract is deployed on this chain."""
    contracts = {kind: relay.deployed(suite) for kind, relay in KIND_RELAYS.items()}
    return batch_calls({kind: c for kind, c in contracts.items() if c is not None})


def revert_decoder(suite: Suite, calls: Mapping[RelayKind, BatchCall]) -> RevertDecoder:
    """One decoder of every relayed contract's errors, and of those surfacing through them."""
    abis = [[dict(entry) for entry in call.contract.abi] for call in calls.values()]
    for relay in KIND_RELAYS.values():
        for name in relay.error_contracts:
            if name in suite.contracts:
                abis.append([dict(entry) for entry in suite.contracts[name].abi])
    return RevertDecoder(abis)


def kind_relays(
    calls: Mapping[RelayKind, BatchCall], context: RelayContext
) -> dict[RelayKind, KindRelay]:
    """A relay of each kind with an entry point, for one sender."""
    return {kind: KIND_RELAYS[kind](call, context) for kind, call in calls.items()}
