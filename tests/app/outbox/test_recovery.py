"""The relayer when things go wrong, on an Anvil of this module's own (its mining switched off and
on, its pool emptied, the node stopped and started again from its saved state): a transaction the
node forgot is sent again, a stuck one gets higher fees, a batch partly applied by someone else is
split, and the node going away loses nothing. Every event is recorded on chain exactly once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from eth_account import Account
from sqlalchemy import select
from web3.exceptions import TransactionNotFound

from app.chain.journal import ChainTransaction
from app.chain.sender_policy import SenderPolicy
from app.outbox.relayer import Relayer
from app.settings import Settings
from harness.nodes import ChainNode, anvil_command, free_port, running
from tests.app.conftest import ORACLE_KEY, Deployment, SourceSecrets, deploy_suite
from tests.app.ingest.support import (
    Chain,
    ServiceHandle,
    event,
    hex32,
    post_signed,
    relay_until_settled,
)
from tests.app.outbox.conftest import ServiceFactory

pytestmark = [pytest.mark.both_databases, pytest.mark.anvil]

ORACLE = Account.from_key(ORACLE_KEY)


class RestartableAnvil:
    """An Anvil that saves its state on exit and loads it on start (``--state``)."""

    def __init__(self, base: Path) -> None:
        self.port = free_port()
        self.state = base / "state.json"
        self.log = base / "anvil.log"
        self._stack: ExitStack | None = None
        self.node: ChainNode | None = None

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._stack = ExitStack()
        command = anvil_command(self.port, "--state", str(self.state))
        self.node = self._stack.enter_context(running(command, self.port, self.log))

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None


@pytest.fixture(scope="module")
def private_anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableAnvil]:
    node = RestartableAnvil(tmp_path_factory.mktemp("private-anvil"))
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def private_deployment(
    private_anvil: RestartableAnvil, tmp_path_factory: pytest.TempPathFactory
) -> Deployment:
    return deploy_suite(private_anvil.rpc_url, tmp_path_factory.mktemp("private-suite"))


@pytest.fixture(scope="module")
def private_chain(private_deployment: Deployment) -> Chain:
    return Chain.of(private_deployment.rpc_url, private_deployment)


@pytest.fixture(scope="module")
def private_items(private_chain: Chain) -> list[bytes]:
    return private_chain.register_skus(30, "private")


@pytest.fixture
def chain(
    private_chain: Chain, private_anvil: RestartableAnvil, private_items: list[bytes]
) -> Iterator[Chain]:
    """The private chain (items registered) with automatic mining off: the test mines."""
    private_chain.rpc("evm_setAutomine", False)
    yield private_chain
    if private_anvil.node is None:
        private_anvil.start()
    private_chain.rpc("evm_setAutomine", True)


@pytest.fixture
def service(
    make_service: ServiceFactory, private_deployment: Deployment, relay_settings: Settings
) -> ServiceHandle:
    return make_service(
        rpc_url=private_deployment.rpc_url,
        deployments_dir=private_deployment.deployments_dir,
        abi_dir=private_deployment.abi_dir,
    )


def _accept(
    handle: ServiceHandle, carrier: SourceSecrets, items: list[bytes], label: str, n: int
) -> None:
    events = [event(f"{label}-{i}", item_id=hex32(items[i % len(items)])) for i in range(n)]
    response = post_signed(handle.client, carrier, events)
    assert response.status_code == 202, response.text


def _journal(handle: ServiceHandle) -> list[ChainTransaction]:
    with handle.services.database.sessions() as session:
        return list(session.scalars(select(ChainTransaction).order_by(ChainTransaction.id)))


def _recorded_once(chain: Chain, start: int, handle: ServiceHandle, count: int) -> list[str]:
    """Checks every record's id is on chain exactly once; returns the carrying tx hashes."""
    recorded = chain.custody_events(start)
    per_id = Counter(event_id for event_id, _, _ in recorded)
    assert len(per_id) == count
    assert set(per_id.values()) == {1}
    assert {int(r.custody_event_id) for r in handle.records()} == set(per_id)
    assert handle.statuses() == {"confirmed": count}
    return [tx for _, _, tx in recorded]


def _in_pool(chain: Chain, tx_hash: str) -> bool:
    try:
        chain.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        return False
    return True


def test_transaction_the_node_forgot_is_sent_again_with_the_same_ids(
    service: ServiceHandle, carrier: SourceSecrets, chain: Chain, private_items: list[bytes]
) -> None:
    _accept(service, carrier, private_items, "forgot", 30)
    start = chain.head() + 1
    relayer = Relayer.from_services(
        service.services, sender_policy=SenderPolicy(resend_after_seconds=0)
    )
    assert relayer.run_once().sent_transactions == 1
    [tx] = _journal(service)
    tx_hash = tx.latest_attempt.tx_hash
    chain.rpc("anvil_dropTransaction", tx_hash)
    assert not _in_pool(chain, tx_hash)

    relayer.run_once()

    assert _in_pool(chain, tx_hash)
    [tx] = _journal(service)
    assert (tx.broadcasts, len(tx.attempts)) == (2, 1)
    relay_until_settled(relayer, service, chain)
    assert set(_recorded_once(chain, start, service, 30)) == {tx_hash}


def test_stuck_transaction_gets_higher_fees_and_only_one_attempt_mines(
    service: ServiceHandle, carrier: SourceSecrets, chain: Chain, private_items: list[bytes]
) -> None:
    _accept(service, carrier, private_items, "stuck", 20)
    start = chain.head() + 1
    relayer = Relayer.from_services(
        service.services, sender_policy=SenderPolicy(bump_after_seconds=0)
    )
    relayer.run_once()
    relayer.run_once()
    [tx] = _journal(service)
    first, bumped = tx.attempts
    assert bumped.max_fee_per_gas >= first.max_fee_per_gas * 115 // 100
    assert bumped.max_priority_fee_per_gas >= first.max_priority_fee_per_gas * 115 // 100
    chain.mine(1)

    relay_until_settled(relayer, service, chain)

    assert set(_recorded_once(chain, start, service, 20)) == {bumped.tx_hash}
    with pytest.raises(TransactionNotFound):
        chain.w3.eth.get_transaction_receipt(first.tx_hash)  # type: ignore[arg-type]
    assert {r.tx_hash for r in service.records()} == {bumped.tx_hash}


def test_a_transaction_the_node_keeps_refusing_is_cancelled_and_its_events_sent_again(
    service: ServiceHandle, carrier: SourceSecrets, chain: Chain, private_items: list[bytes]
) -> None:
    """The node drops the relayer's transaction and then refuses it (a block gas limit now under
    its gas): resent as it is, it would hold every later nonce of the oracle key. A no-op of the
    key's own spends the nonce instead (bumped as a no-op while it waits in the pool), and the
    events go again in a transaction that fits."""
    _accept(service, carrier, private_items, "refused", 20)
    start = chain.head() + 1
    policy = SenderPolicy(
        resend_after_seconds=0, bump_after_seconds=0, cancel_refused_after_seconds=0
    )
    relayer = Relayer.from_services(service.services, sender_policy=policy, retry_after_seconds=0)
    relayer.run_once()
    [tx] = _journal(service)
    gas_limit = int(chain.w3.eth.get_block("latest")["gasLimit"])
    chain.rpc("anvil_dropTransaction", tx.latest_attempt.tx_hash)
    chain.rpc("anvil_setBlockGasLimit", hex(tx.gas_limit - 1))
    try:
        relayer.run_once()  # sent again: refused
        [tx] = _journal(service)
        assert "gas" in (tx.last_error or ""), tx.last_error
        # Refused when last sent, out of the pool: a no-op takes its nonce, and the cycle says so.
        assert relayer.run_once().cancelled_transactions == 1
        # Until it settles, a record's status shows the call's hash, never the no-op's.
        relay_id = service.records()[0].relay_id
        shown = service.client.get(f"/v1/relay/{relay_id}").json()
        assert (shown["status"], shown["tx_hash"]) == ("submitted", tx.attempts[0].tx_hash)
        relayer.run_once()  # the no-op waits in the pool: a bump, as a no-op
        chain.mine(3)
        relayer.run_once()
    finally:
        chain.rpc("anvil_setBlockGasLimit", hex(gas_limit))

    [cancelled, *_] = _journal(service)
    assert cancelled.state == "cancelled" and cancelled.succeeded is False
    first, no_op, bumped = cancelled.attempts
    assert cancelled.is_no_op(no_op) and cancelled.is_no_op(bumped)
    assert bumped.max_fee_per_gas > no_op.max_fee_per_gas
    assert chain.w3.eth.get_transaction(bumped.tx_hash)["to"] == ORACLE.address  # type: ignore[arg-type]
    for never_mined in (first, no_op):
        with pytest.raises(TransactionNotFound):
            chain.w3.eth.get_transaction_receipt(never_mined.tx_hash)  # type: ignore[arg-type]
    relay_until_settled(relayer, service, chain)
    carriers = set(_recorded_once(chain, start, service, 20))
    assert carriers.isdisjoint(attempt.tx_hash for attempt in cancelled.attempts)


def test_a_refusal_that_can_clear_is_sent_again_until_it_does_never_cancelled(
    service: ServiceHandle, carrier: SourceSecrets, chain: Chain, private_items: list[bytes]
) -> None:
    """The oracle key runs out of ETH while its transaction is out of the pool: the node refuses
    it for funds, which topping up clears, so it is resent as it is, however long that takes."""
    _accept(service, carrier, private_items, "unfunded", 10)
    start = chain.head() + 1
    relayer = Relayer.from_services(
        service.services,
        sender_policy=SenderPolicy(resend_after_seconds=0, cancel_refused_after_seconds=0),
    )
    relayer.run_once()
    [tx] = _journal(service)
    balance = chain.w3.eth.get_balance(ORACLE.address)
    chain.rpc("anvil_dropTransaction", tx.latest_attempt.tx_hash)
    chain.rpc("anvil_setBalance", ORACLE.address, hex(0))
    try:
        for _ in range(3):
            relayer.run_once()
        [tx] = _journal(service)
        assert "funds" in (tx.last_error or ""), tx.last_error
        assert len(tx.attempts) == 1 and tx.state == "pending"
    finally:
        chain.rpc("anvil_setBalance", ORACLE.address, hex(balance))

    relay_until_settled(relayer, service, chain)
    assert set(_recorded_once(chain, start, service, 10)) == {tx.attempts[0].tx_hash}


def test_fee_bumps_follow_the_settings_and_stop_at_the_fee_cap(
    make_service: ServiceFactory,
    private_deployment: Deployment,
    carrier: SourceSecrets,
    chain: Chain,
    private_items: list[bytes],
) -> None:
    """Delay, step, tip and cap come from TRUSTMALL_RELAY_* settings: with a cap 1.6 times the
    first attempt's fee, one 50 % bump fits under it and a second would not."""
    base_fee = int(chain.w3.eth.get_block("latest")["baseFeePerGas"])
    first_fee = 2 * base_fee + 2 * 10**9
    service = make_service(
        rpc_url=private_deployment.rpc_url,
        deployments_dir=private_deployment.deployments_dir,
        abi_dir=private_deployment.abi_dir,
        relay_fee_bump_after_seconds=0,
        relay_fee_bump_percent=50,
        relay_priority_fee_gwei=2,
        relay_max_fee_gwei=first_fee * 1.6 / 10**9,
    )
    _accept(service, carrier, private_items, "capped", 5)
    relayer = Relayer.from_services(service.services)
    for _ in range(4):
        relayer.run_once()

    [tx] = _journal(service)
    fees = [attempt.max_fee_per_gas for attempt in tx.attempts]
    tips = [attempt.max_priority_fee_per_gas for attempt in tx.attempts]
    assert fees[0] == first_fee and tips[0] == 2 * 10**9
    assert len(fees) == 2, fees
    assert first_fee * 150 // 100 < fees[1] <= first_fee * 1.6
    chain.mine(1)
    relay_until_settled(relayer, service, chain)


def test_batch_partly_applied_by_another_sender_is_split_and_nothing_applies_twice(
    service: ServiceHandle, carrier: SourceSecrets, chain: Chain, private_items: list[bytes]
) -> None:
    """The relayer's transaction is lost; meanwhile the same oracle key (shared with a script)
    records the first four of its events, with the same ids, at the same nonce. The relayer sees
    its nonce taken, confirms the four from their logs and sends only the other six."""
    _accept(service, carrier, private_items, "split", 10)
    start = chain.head() + 1
    relayer = Relayer.from_services(service.services, retry_after_seconds=0)
    relayer.run_once()
    [lost] = _journal(service)
    chain.rpc("anvil_dropTransaction", lost.latest_attempt.tx_hash)
    records = service.records()
    applied = [
        (
            bytes.fromhex(r.payload["item_id"][2:]),
            int(r.custody_event_id),
            r.payload["action"],
            r.payload["occurred_at"],
            bytes.fromhex(r.payload["location_hash"][2:]),
            bytes.fromhex(r.payload["context_hash"][2:]),
        )
        for r in records[:4]
    ]
    elsewhere = chain.registry.functions.recordCustody(applied).build_transaction(
        {"from": ORACLE.address, "nonce": lost.nonce, "gas": 1_000_000}
    )
    elsewhere_hash = chain.w3.eth.send_raw_transaction(
        ORACLE.sign_transaction(elsewhere).raw_transaction
    ).to_0x_hex()
    chain.mine(1)

    relay_until_settled(relayer, service, chain)

    hashes = _recorded_once(chain, start, service, 10)
    assert hashes.count(elsewhere_hash) == 4
    by_record = {r.source_event_id: r.tx_hash for r in service.records()}
    assert {by_record[f"split-{i}"] for i in range(4)} == {elsewhere_hash}
    resent = {by_record[f"split-{i}"] for i in range(4, 10)}
    assert len(resent) == 1 and elsewhere_hash not in resent
    assert _journal(service)[0].state == "replaced"


def test_relay_survives_the_node_going_away_and_coming_back(
    service: ServiceHandle,
    carrier: SourceSecrets,
    chain: Chain,
    private_items: list[bytes],
    private_anvil: RestartableAnvil,
) -> None:
    _accept(service, carrier, private_items, "away", 20)
    start = chain.head() + 1
    relayer = Relayer.from_services(
        service.services, sender_policy=SenderPolicy(resend_after_seconds=0)
    )
    assert relayer.run_once().sent_transactions == 1
    private_anvil.stop()

    with pytest.raises(requests.exceptions.ConnectionError):
        relayer.run_once()
    assert service.statuses() == {"submitted": 20}
    relay_id = service.records()[0].relay_id
    assert service.client.get(f"/v1/relay/{relay_id}").json()["status"] == "submitted"

    private_anvil.start()
    deadline = time.monotonic() + 30
    relay_until_settled(relayer, service, chain, timeout=deadline - time.monotonic())

    _recorded_once(chain, start, service, 20)
