"""Orders whose keeper duties come due when the caller moves the chain's clock, for the keeper's
benchmark and the fault campaign: on a suite deployed by ``harness.suite.deploy``, opened by a
buyer, shipped by the merchant and reported delivered by the logistics oracle, all of them Anvil's
unlocked test accounts of a local deployment (the merchant approved by the admin, the deploy
script's verifier). Each order carries its own deadlines (dispute window, ship-by), so that one
set-up holds duties that come due at chosen moments.

And the chain's verdict on them: the escrow's outcome events (``OrderReleased``,
``OrderRefunded``) per order, with who called."""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3
from web3.types import TxReceipt

from app.chain.contracts import load_abi
from app.domain.orders import ZERO_ADDRESS, OrderTerms
from app.domain.vocab import LogisticsKind
from app.settings import KeeperDuty
from harness.ape_run import ADMIN, BUYER, LOGISTICS_ORACLE, MERCHANT

DAY = 86_400
HOUR = 3_600
AMOUNT = 10**15
CARRIER = 1
REPORTS_PER_CALL = 100
# The escrow's event for each duty's outcome.
OUTCOME_EVENTS = {KeeperDuty.RELEASE: "OrderReleased", KeeperDuty.REFUND: "OrderRefunded"}
# A group's refunds come due this long after the ship-by of the set-up (the releases' window).
REFUND_LEAD_SECONDS = 600


@dataclass(frozen=True)
class Duty:
    """An order set up for the keeper, the duty it will owe, and when (block time) it is due."""

    terms: OrderTerms
    duty: KeeperDuty
    due_at: int

    @property
    def order_id(self) -> str:
        return self.terms.order_id


@dataclass(frozen=True)
class Outcome:
    """One outcome event of an order: its block and transaction, and who called."""

    order_id: str
    event: str
    by: str
    block_number: int
    tx_hash: str


class EscrowDriver:
    """The deployed escrow and registry, driven with web3 from Anvil's unlocked accounts."""

    @classmethod
    def of_deployment(cls, w3: Web3, base: Path) -> EscrowDriver:
        """The suite ``harness.suite.deploy`` deployed into ``base``."""
        record = json.loads((base / "deployments" / "1337.json").read_text())
        addresses = {name: entry["address"] for name, entry in record["contracts"].items()}
        return cls(w3, addresses, base / "abi")

    def __init__(self, w3: Web3, addresses: dict[str, str], abi_dir: Path) -> None:
        self.w3 = w3
        self.escrow = w3.eth.contract(
            address=Web3.to_checksum_address(addresses["OrderEscrow"]),
            abi=load_abi(abi_dir, "OrderEscrow"),
        )
        self.registry = w3.eth.contract(
            address=Web3.to_checksum_address(addresses["ProductRegistry"]),
            abi=load_abi(abi_dir, "ProductRegistry"),
        )
        self.fee_bps = int(self.escrow.functions.feeBps().call())
        self.min_window = int(self.escrow.functions.disputeWindowBounds().call()[0])

    # ------------------------------------------------------------------------------ plumbing

    def rpc(self, method: str, *params: Any) -> Any:
        answer = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def block_time(self, block: int | None = None) -> int:
        """The time of ``block``, or of the latest one."""
        return int(self.w3.eth.get_block("latest" if block is None else block)["timestamp"])

    def set_time(self, timestamp: int) -> None:
        """The next block at ``timestamp`` (block time), mined now; later blocks go on from it."""
        self.rpc("evm_setNextBlockTimestamp", timestamp)
        self.rpc("evm_mine")

    def funded_account(self) -> LocalAccount:
        """A fresh account with 100 ETH for gas and no role (a keeper's key)."""
        account: LocalAccount = Account.create()
        self.rpc("anvil_setBalance", account.address, hex(100 * 10**18))
        return account

    def _send(self, calls: Iterable[tuple[Any, str, int]]) -> list[TxReceipt]:
        """Sends each (call, sender, value) from an unlocked account, in order; every receipt,
        each checked."""
        hashes = [call.transact({"from": sender, "value": value}) for call, sender, value in calls]
        receipts = [self.w3.eth.wait_for_transaction_receipt(h, timeout=60) for h in hashes]
        for tx_hash, receipt in zip(hashes, receipts, strict=True):
            if receipt["status"] != 1:
                raise RuntimeError(f"set-up transaction {tx_hash.hex()} reverted")
        return receipts

    # ------------------------------------------------------------------------------ set-up

    def approve_merchant(self) -> None:
        identity = keccak(text=f"identity of {MERCHANT}")
        approve = self.registry.functions.approveMerchant(MERCHANT, "Keeper Co", identity)
        self._send([(approve, ADMIN, 0)])

    def terms(self, *, ship_by: int, window: int) -> OrderTerms:
        """A SKU order of ``AMOUNT`` wei from ``BUYER`` to ``MERCHANT``."""
        return OrderTerms(
            buyer=BUYER,
            merchant=MERCHANT,
            payer=BUYER,
            token=ZERO_ADDRESS,
            amount=AMOUNT,
            ship_by=ship_by,
            deliver_by=ship_by + DAY,
            dispute_window=window,
            fee_bps=self.fee_bps,
            order_ref="0x" + keccak(text="keeper order").hex(),
            salt=secrets.randbits(64),
        )

    def open(self, orders: Sequence[OrderTerms]) -> None:
        self._send((self.escrow.functions.open(t.as_abi()), BUYER, t.amount) for t in orders)

    def ship(self, orders: Sequence[OrderTerms]) -> None:
        tracking = keccak(text="tracking 1Z999")
        self._send(
            (self.escrow.functions.ship(t.as_abi(), CARRIER, tracking), MERCHANT, 0) for t in orders
        )

    def deliver(self, orders: Sequence[OrderTerms]) -> dict[str, int]:
        """The logistics oracle's delivery reports, ``REPORTS_PER_CALL`` to a transaction; each
        order's delivery time (its block's time), by order id."""
        scan = keccak(text="scan DELIVERED")
        updates = [
            (bytes.fromhex(t.order_id[2:]), int(LogisticsKind.DELIVERED), CARRIER, 0, scan)
            for t in orders
        ]
        report = self.escrow.functions.reportLogistics
        receipts = self._send(
            (report(updates[i : i + REPORTS_PER_CALL]), LOGISTICS_ORACLE, 0)
            for i in range(0, len(updates), REPORTS_PER_CALL)
        )
        times = [self.block_time(receipt["blockNumber"]) for receipt in receipts]
        return {t.order_id: times[i // REPORTS_PER_CALL] for i, t in enumerate(orders)}

    def delivered(self, windows: Sequence[int], ship_by: int) -> list[Duty]:
        """Orders opened, shipped and reported delivered, one per dispute window; each with its
        release's due time (its delivery's block time plus its window)."""
        orders = [self.terms(ship_by=ship_by, window=window) for window in windows]
        self.open(orders)
        self.ship(orders)
        times = self.deliver(orders)
        return [Duty(t, KeeperDuty.RELEASE, times[t.order_id] + t.dispute_window) for t in orders]

    def unshipped(self, ship_bys: Sequence[int]) -> list[Duty]:
        """Orders opened and never shipped, one per ship-by; each with its refund's due time
        (the escrow refunds anyone's call once ship-by is strictly past)."""
        orders = [self.terms(ship_by=ship_by, window=self.min_window) for ship_by in ship_bys]
        self.open(orders)
        return [Duty(t, KeeperDuty.REFUND, t.ship_by + 1) for t in orders]

    def release(self, orders: Sequence[OrderTerms], sender: str) -> list[TxReceipt]:
        """``release`` of each order, one transaction each, from ``sender`` (unlocked)."""
        return self._send((self.escrow.functions.release(t.as_abi()), sender, 0) for t in orders)

    def code_size(self, name: str = "OrderEscrow") -> int:
        contract = {"OrderEscrow": self.escrow, "ProductRegistry": self.registry}[name]
        return len(self.w3.eth.get_code(contract.address))

    # ------------------------------------------------------------------------------ verdict

    def outcomes(self, order_ids: Iterable[str], from_block: int = 0) -> dict[str, list[Outcome]]:
        """Every release and refund event of these orders since ``from_block``, by order id."""
        wanted = set(order_ids)
        found: dict[str, list[Outcome]] = defaultdict(list)
        if from_block > int(self.w3.eth.block_number):
            return {}  # a range past the head is refused, not empty
        for name in OUTCOME_EVENTS.values():
            event: Any = getattr(self.escrow.events, name)
            for log in event().get_logs(from_block=from_block):
                order_id = "0x" + bytes(log.args.orderId).hex()
                if order_id in wanted:
                    found[order_id].append(
                        Outcome(
                            order_id=order_id,
                            event=name,
                            by=str(log.args.by),
                            block_number=int(log.blockNumber),
                            tx_hash=log.transactionHash.to_0x_hex(),
                        )
                    )
        return dict(found)


class ChainClock(Protocol):
    """A chain whose clock the caller moves (the fault campaign's node)."""

    def advance_to(self, timestamp: int) -> None: ...


class KeeperDuties:
    """The keeper's orders in groups, one per fault, each group made due just before its fault;
    and the keeper's key."""

    def __init__(self, driver: EscrowDriver, groups: list[list[Duty]], key: str) -> None:
        self.driver = driver
        self.groups = groups
        self.key = key
        self.keeper = driver.w3.eth.account.from_key(key).address
        self.made_due = 0  # groups made due so far, in order

    @classmethod
    def set_up(cls, driver: EscrowDriver, orders: int, faults: int) -> KeeperDuties:
        """``orders`` orders in ``faults`` groups (at least one), releases and refunds in turn,
        each group's deadlines an hour after the previous group's; a funded keeper key."""
        count = max(1, faults)
        now, window = driver.block_time(), driver.min_window
        kinds = [(index % count, (index // count) % 2 == 0) for index in range(orders)]
        releases = [window + group * HOUR for group, release in kinds if release]
        refunds = [
            now + window + group * HOUR + REFUND_LEAD_SECONDS
            for group, release in kinds
            if not release
        ]
        made = iter(driver.delivered(releases, now + 5 * 86_400) if releases else [])
        unshipped = iter(driver.unshipped(refunds) if refunds else [])
        groups: list[list[Duty]] = [[] for _ in range(count)]
        for group, release in kinds:
            groups[group].append(next(made) if release else next(unshipped))
        key = "0x" + bytes(driver.funded_account().key).hex()
        return cls(driver, groups, key)

    def make_due(self, clock: ChainClock) -> list[Duty]:
        """The next group's deadlines passed on the chain's clock; that group (none left: [])."""
        if self.made_due >= len(self.groups):
            return []
        group = self.groups[self.made_due]
        if group:
            clock.advance_to(max(duty.due_at for duty in group) + 1)
        self.made_due += 1
        return group

    def make_all_due(self, clock: ChainClock) -> None:
        while self.made_due < len(self.groups):
            self.make_due(clock)

    @property
    def due(self) -> list[Duty]:
        return [duty for group in self.groups[: self.made_due] for duty in group]

    def landed_above(self, order_ids: list[str], block: int) -> list[int]:
        """The blocks above ``block`` holding outcomes of these orders."""
        found = self.driver.outcomes(order_ids, from_block=block + 1)
        return [outcome.block_number for outcomes in found.values() for outcome in outcomes]
