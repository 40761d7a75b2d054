"""The escrow benchmark's set-up: a shop (registry, escrow, stablecoin and who plays each part),
its orders, yesterday's business, and OpenZeppelin 4.9's escrows as peers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ape import accounts, chain
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from app.domain.ids import item_id_from_sku, item_key
from app.domain.orders import TERMS_ABI, ZERO_ADDRESS
from app.domain.vocab import IdScheme, LogisticsKind, OrderStatus
from bench.context import BenchContext, breakdown, gas_used
from bench.environment import ROOT
from bench.model import Row
from harness.nodes import rpc

FEE_BPS = 250  # a 2.5% platform fee, taken on every release
ETH = "0x0000000000000000000000000000000000000000"
ETH_PRICE = 10**17  # 0.1 ETH
STABLE_PRICE = 250 * 10**6  # 250.00 in a 6-decimals stablecoin
MAX_UINT256 = 2**256 - 1
DAY = 86_400
SHIP_BY = 3 * DAY
DELIVER_BY = 10 * DAY
DISPUTE_WINDOW = 2 * DAY
SKU = "TM-BENCH-KETTLE-01"
CARRIER = 1  # the platform's number for the carrier every order is handed to
# What was measured for OpenZeppelin 4.9's Escrow when the escrow was designed, shown beside this
# run's own measurement.
DESIGN_PEER_DEPOSIT = 47_707
DESIGN_PEER_WITHDRAW = 35_123


@dataclass(frozen=True)
class Order:
    """An order opened on chain: its terms as the ABI takes them, its id and its opening gas."""

    terms: tuple[Any, ...]
    id: bytes
    open_gas: int
    open_receipt: Any

    @property
    def calldata(self) -> bytes:
        """`open(terms)`'s calldata after the selector: the ABI-encoded terms."""
        return encode([TERMS_ABI], [self.terms])

    @property
    def calldata_bytes(self) -> int:
        """Size of `open(terms)`'s calldata: the selector, then the ABI-encoded terms."""
        return 4 + len(self.calldata)

    @property
    def calldata_gas(self) -> int:
        """What the terms' calldata costs (EIP-2028: 16 a non-zero byte, 4 a zero byte)."""
        return sum(16 if byte else 4 for byte in self.calldata)


@dataclass
class Shop:
    """The escrow under test, its stablecoin and registry, and who plays each part."""

    ctx: BenchContext
    escrow: Any
    registry: Any
    stable: Any
    buyer: Any
    arbiter: Any
    keeper: Any
    salt: int = 0
    serials: int = 0

    @property
    def merchant(self) -> Any:
        return self.ctx.merchant

    @property
    def oracle(self) -> Any:
        return self.ctx.oracle

    def breakdown(self, receipt: Any) -> str:
        """Where the transaction's gas went, the calls to the shop's contracts named."""
        contracts = {"registry": self.registry, "escrow": self.escrow, "stablecoin": self.stable}
        return breakdown(self.ctx, receipt, contracts)

    def item(self) -> bytes:
        """A new item of the merchant, registered and Authentic."""
        self.serials += 1
        serial = f"K{self.serials:06d}"
        metadata = json.dumps({"sku": SKU, "serial": serial}, separators=(",", ":")).encode()
        uri = "ipfs://bafkrei" + keccak(metadata).hex()[:52]
        key = item_key(IdScheme.SKU, SKU, serial)
        self.registry.registerItem(key, keccak(metadata), uri, sender=self.merchant)
        return item_id_from_sku(self.merchant.address, SKU, serial)

    def open(self, token: str = ETH, items: int = 0) -> Order:
        """Opens and pays an order of the buyer with the merchant: a SKU order without registry
        items, or an order of ``items`` new registry items."""
        self.salt += 1
        item_ids = [self.item() for _ in range(items)]
        now = int(chain.blocks.head.timestamp)
        amount = ETH_PRICE if token == ETH else STABLE_PRICE
        terms = (
            self.buyer.address,
            self.merchant.address,
            self.buyer.address,
            token,
            amount,
            now + SHIP_BY,
            now + DELIVER_BY,
            DISPUTE_WINDOW,
            FEE_BPS,
            keccak(text=f"{SKU} x1") if not item_ids else bytes(32),
            self.salt,
            item_ids,
        )
        value = amount if token == ETH else 0
        receipt = self.escrow.open(terms, value=value, sender=self.buyer)
        order = Order(terms, keccak(encode([TERMS_ABI], [terms])), gas_used(receipt), receipt)
        self.expect(order, OrderStatus.FUNDED)
        return order

    def assign(self, order: Order) -> int:
        gas = gas_used(self.escrow.assignCarrier(order.terms, CARRIER, sender=self.merchant))
        if int(self.escrow.orderOf(order.id).carrier) != CARRIER:
            raise RuntimeError("the carrier was not assigned")
        return gas

    def ship(self, order: Order) -> int:
        tracking = keccak(text=f"tracking {order.id.hex()}")
        gas = gas_used(self.escrow.ship(order.terms, CARRIER, tracking, sender=self.merchant))
        self.expect(order, OrderStatus.SHIPPED)
        return gas

    def report(self, orders: list[Order], kind: int) -> int:
        """The logistics oracle's report on every order in one transaction, for their carrier."""
        updates = [(o.id, kind, CARRIER, 0, keccak(text=f"scan {o.id.hex()}")) for o in orders]
        receipt = self.escrow.reportLogistics(updates, sender=self.oracle)
        gas = gas_used(receipt)
        if receipt.events.filter(self.escrow.LogisticsUpdateRejected):
            raise RuntimeError("the escrow rejected a logistics report")
        expected = OrderStatus.SHIPPED if kind == LogisticsKind.SHIPPED else OrderStatus.DELIVERED
        for order in orders:
            self.expect(order, expected)
        return gas

    def deliver(self, order: Order) -> int:
        return self.report([order], LogisticsKind.DELIVERED)

    def confirm(self, order: Order) -> int:
        gas = gas_used(self.escrow.confirmReceipt(order.terms, sender=self.buyer))
        self.expect(order, OrderStatus.RELEASED)
        return gas

    def confirm_sale(self, order: Order) -> int:
        """The buyer confirms an item order handed to a carrier: the registry records it Sold."""
        receipt = self.escrow.confirmReceipt(order.terms, sender=self.buyer)
        gas = gas_used(receipt)
        self.expect(order, OrderStatus.RELEASED)
        if not receipt.events.filter(self.escrow.SaleRecorded):
            raise RuntimeError("the registry did not record the sale")
        return gas

    def delivered(self, token: str = ETH, items: int = 0) -> Order:
        order = self.open(token, items)
        self.ship(order)
        self.deliver(order)
        return order

    def withdraw(self, account: Any, token: str) -> int:
        if int(self.escrow.creditOf(account.address, token)) == 0:
            raise RuntimeError(f"{account.address} has no credit to withdraw in {token}")
        gas = gas_used(self.escrow.withdraw(token, sender=account))
        if int(self.escrow.creditOf(account.address, token)) != 0:
            raise RuntimeError("a withdrawal left credit behind")
        return gas

    def expect(self, order: Order, status: OrderStatus) -> None:
        found = int(self.escrow.orderOf(order.id).status)
        if found != status:
            raise RuntimeError(f"order {order.id.hex()} is in status {found}, expected {status}")

    def travel(self, seconds: int) -> None:
        rpc(self.ctx.rpc_url, "evm_increaseTime", [seconds])
        rpc(self.ctx.rpc_url, "evm_mine")


def shop(ctx: BenchContext) -> Shop:
    """A registry with the merchant approved, the escrow with its roles (the registry's
    ESCROW_ROLE among them), a 2.5% fee, the stablecoin allow-listed; the buyer holds stablecoins
    and has approved the escrow for good."""
    buyer = ctx.shopper
    arbiter, keeper, fee_recipient = accounts.test_accounts[5:8]
    registry = ctx.admin.deploy(ctx.project.ProductRegistry, ctx.admin.address, ZERO_ADDRESS)
    registry.grantRole(registry.VERIFIER_ROLE(), ctx.verifier.address, sender=ctx.admin)
    registry.approveMerchant(
        ctx.merchant.address, "Bench Kitchenware Ltd", keccak(text="identity"), sender=ctx.verifier
    )
    escrow = ctx.admin.deploy(
        ctx.project.OrderEscrow, ctx.admin.address, registry.address, fee_recipient.address
    )
    escrow.grantRole(escrow.ARBITER_ROLE(), arbiter.address, sender=ctx.admin)
    escrow.grantRole(escrow.ORACLE_ROLE(), ctx.oracle.address, sender=ctx.admin)
    escrow.setFee(FEE_BPS, sender=ctx.admin)
    registry.grantRole(registry.ESCROW_ROLE(), escrow.address, sender=ctx.admin)
    stable = ctx.admin.deploy(ctx.project.MockStable6)
    escrow.setTokenAllowed(stable.address, True, sender=ctx.admin)
    stable.mint(buyer.address, 10**6 * STABLE_PRICE, sender=buyer)
    stable.approve(escrow.address, MAX_UINT256, sender=buyer)
    return Shop(ctx, escrow, registry, stable, buyer, arbiter, keeper)


def warm_up(shop: Shop) -> None:
    """Yesterday's business: what a running shop has already written before today's orders."""
    stable = shop.stable.address
    # The merchant was paid in the stablecoin before and withdrew it: it holds the token.
    shop.confirm(shop.delivered(stable))
    shop.withdraw(shop.merchant, stable)
    # Released orders since its last withdrawal: the merchant's and the fee recipient's credits
    # are non-zero in both assets.
    shop.confirm(shop.delivered(stable))
    shop.confirm(shop.delivered())
    # The escrow has recorded a sale in the registry: its event-id bitmap word is in use.
    shop.confirm(shop.delivered(items=1))


def peers(ctx: BenchContext) -> tuple[list[Row], int, int]:
    """OZ 4.9 Escrow and RefundEscrow: a first deposit for a payee, then its withdrawal.

    The owner (the paying contract, here an EOA) deposits for, and withdraws to, payees that are
    existing funded accounts with nothing yet in the escrow. Returns the rows, and the Escrow's
    deposit and withdrawal.
    """
    payee, refundee = accounts.test_accounts[8], accounts.test_accounts[9]
    escrow = ctx.admin.deploy(ctx.project.PeerEscrowV4)
    deposit = gas_used(escrow.deposit(payee.address, value=ETH_PRICE, sender=ctx.admin))
    withdraw = gas_used(escrow.withdraw(payee.address, sender=ctx.admin))
    refund_escrow = ctx.admin.deploy(ctx.project.PeerRefundEscrowV4, ctx.merchant.address)
    refund_deposit = gas_used(
        refund_escrow.deposit(refundee.address, value=ETH_PRICE, sender=ctx.admin)
    )
    refund_escrow.enableRefunds(sender=ctx.admin)
    refund_withdraw = gas_used(refund_escrow.withdraw(refundee.address, sender=ctx.admin))
    rows = _peer_rows(oz4_version(), deposit, withdraw, refund_deposit, refund_withdraw)
    return rows, deposit, withdraw


def _peer_rows(
    version: str, deposit: int, withdraw: int, refund_deposit: int, refund_withdraw: int
) -> list[Row]:
    return [
        Row(
            "escrow.peer_oz4_escrow_deposit",
            f"Peer: OZ {version} `Escrow.deposit(payee)`, first deposit for a payee",
            deposit,
            "gas",
            note=f"measured {DESIGN_PEER_DEPOSIT:,} when the escrow was designed (calldata gas"
            " varies with the zero bytes of the payee's address); the payee's deposit slot"
            " 0 → non-zero",
        ),
        Row(
            "escrow.peer_oz4_escrow_withdraw",
            f"Peer: OZ {version} `Escrow.withdraw(payee)`, the owner pays the payee out",
            withdraw,
            "gas",
            note=f"measured {DESIGN_PEER_WITHDRAW:,} when the escrow was designed; deposit slot"
            " non-zero → 0; ETH sent to the payee, an existing account other than the caller"
            " (cold)",
        ),
        Row(
            "escrow.peer_oz4_refund_escrow_deposit",
            f"Peer: OZ {version} `RefundEscrow.deposit(refundee)`, first deposit",
            refund_deposit,
            "gas",
            note="Escrow's deposit plus a check of the escrow's state slot",
        ),
        Row(
            "escrow.peer_oz4_refund_escrow_refund",
            f"Peer: OZ {version} `RefundEscrow.withdraw(refundee)` once refunds are enabled",
            refund_withdraw,
            "gas",
            note="the refundee's whole deposit sent back; `enableRefunds` not counted",
        ),
    ]


def oz4_version() -> str:
    manifest = ROOT / "node_modules" / "@openzeppelin" / "contracts-v4" / "package.json"
    return str(json.loads(manifest.read_text())["version"])
