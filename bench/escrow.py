"""Order escrow (issue #3): an order's life in gas, beside OpenZeppelin 4.9's escrows.

Every row is one transaction's total gas (21,000 base included) as its receipt shows, measured in
the typical steady state of a running shop: before anything is measured, warm-up orders leave the
merchant's and the fee recipient's credits non-zero, the merchant holding the stablecoin, and the
escrow's registry event-id word in use. Each row's note says what was warm or cold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ape import accounts, chain
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from app.domain.ids import item_id_from_sku
from bench.context import BenchContext, gas_used
from bench.environment import ROOT
from bench.model import Peer, Row, Target
from tests.support.nodes import rpc

SECTION = "Order escrow (issue #3)"

# What issue #3 measured for OpenZeppelin 4.9's Escrow, shown beside this run's own measurement.
ISSUE_PEER_DEPOSIT = 47_707
ISSUE_PEER_WITHDRAW = 35_123

OPEN_ETH_PEER_FACTOR = 1.5  # open-and-pay in ETH within 1.5x the peer's deposit
DELIVERY_PER_ORDER_TARGET = Target(12_000)

BATCH = 100
FEE_BPS = 250  # a 2.5% platform fee, taken on every release
ETH = "0x0000000000000000000000000000000000000000"
ETH_PRICE = 10**17  # 0.1 ETH
STABLE_PRICE = 250 * 10**6  # 250.00 in a 6-decimals stablecoin
MAX_UINT256 = 2**256 - 1
DAY = 86_400
SHIP_BY = 3 * DAY
DELIVER_BY = 10 * DAY
DISPUTE_WINDOW = 2 * DAY
ARBITER_BUYER_BPS = 6_000
OFFER_BUYER_BPS = 3_000
SKU = "TM-BENCH-KETTLE-01"

TERMS_ABI = (
    "(address,address,address,address,uint256,uint40,uint40,uint32,uint16,"
    "bytes32,uint256,bytes32[])"
)


class Status:
    """IOrderEscrow.OrderStatus."""

    FUNDED = 1
    SHIPPED = 2
    DELIVERED = 3
    DISPUTED = 4
    RELEASED = 5
    REFUNDED = 6
    SETTLED = 7


class Logistics:
    """IOrderEscrow.LogisticsKind."""

    SHIPPED = 0
    DELIVERED = 1


@dataclass(frozen=True)
class Order:
    """An order opened on chain: its terms as the ABI takes them, its id and its opening gas."""

    terms: tuple[Any, ...]
    id: bytes
    open_gas: int

    @property
    def calldata_bytes(self) -> int:
        """Size of `open(terms)`'s calldata: the selector, then the ABI-encoded terms."""
        return 4 + len(encode([TERMS_ABI], [self.terms]))


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

    @property
    def merchant(self) -> Any:
        return self.ctx.merchant

    @property
    def oracle(self) -> Any:
        return self.ctx.oracle

    def open(self, token: str = ETH, item_ids: tuple[bytes, ...] = ()) -> Order:
        """Opens and pays an order of the buyer with the merchant (a SKU order without items)."""
        self.salt += 1
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
            list(item_ids),
        )
        value = amount if token == ETH else 0
        gas = gas_used(self.escrow.open(terms, value=value, sender=self.buyer))
        order = Order(terms, keccak(encode([TERMS_ABI], [terms])), gas)
        self.expect(order, Status.FUNDED)
        return order

    def ship(self, order: Order) -> int:
        gas = gas_used(self.escrow.ship(order.terms, keccak(text="tracking"), sender=self.merchant))
        self.expect(order, Status.SHIPPED)
        return gas

    def report(self, orders: list[Order], kind: int) -> int:
        """The logistics oracle's report on every order in one transaction."""
        updates = [(o.id, kind, 0, keccak(text=f"scan {o.id.hex()}")) for o in orders]
        gas = gas_used(self.escrow.reportLogistics(updates, sender=self.oracle))
        expected = Status.SHIPPED if kind == Logistics.SHIPPED else Status.DELIVERED
        for order in orders:
            self.expect(order, expected)
        return gas

    def deliver(self, order: Order) -> int:
        return self.report([order], Logistics.DELIVERED)

    def confirm(self, order: Order) -> int:
        gas = gas_used(self.escrow.confirmReceipt(order.terms, sender=self.buyer))
        self.expect(order, Status.RELEASED)
        return gas

    def delivered(self, token: str = ETH, item_ids: tuple[bytes, ...] = ()) -> Order:
        order = self.open(token, item_ids)
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

    def expect(self, order: Order, status: int) -> None:
        found = int(self.escrow.orderOf(order.id).status)
        if found != status:
            raise RuntimeError(f"order {order.id.hex()} is in status {found}, expected {status}")


def run(ctx: BenchContext) -> list[Row]:
    peer_rows, deposit, withdraw = _peers(ctx)
    shop = _shop(ctx)
    _warm_up(shop)
    rows = peer_rows
    rows += _lifecycle(shop, Peer(f"OZ {_oz4_version()} Escrow deposit", deposit))
    rows += _outcomes(shop)
    rows += _withdrawals(shop, Peer(f"OZ {_oz4_version()} Escrow withdraw", withdraw))
    rows += _batches(shop)
    return rows


# ------------------------------------------------------------------ peers


def _peers(ctx: BenchContext) -> tuple[list[Row], int, int]:
    """OZ 4.9 Escrow and RefundEscrow: a first deposit for a payee, then its withdrawal.

    The owner (the paying contract, here an EOA) deposits for, and withdraws to, payees that are
    existing funded accounts with nothing yet in the escrow.
    """
    version = _oz4_version()
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
    rows = [
        Row(
            "escrow.peer_oz4_escrow_deposit",
            f"Peer: OZ {version} `Escrow.deposit(payee)`, first deposit for a payee",
            deposit,
            "gas",
            note=f"issue #3 measured {ISSUE_PEER_DEPOSIT:,} (calldata gas varies with the zero"
            " bytes of the payee's address); the payee's deposit slot 0 → non-zero",
        ),
        Row(
            "escrow.peer_oz4_escrow_withdraw",
            f"Peer: OZ {version} `Escrow.withdraw(payee)`, the owner pays the payee out",
            withdraw,
            "gas",
            note=f"issue #3 measured {ISSUE_PEER_WITHDRAW:,}; deposit slot non-zero → 0; ETH sent"
            " to the payee, an existing account other than the caller (cold)",
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
    return rows, deposit, withdraw


def _oz4_version() -> str:
    manifest = ROOT / "node_modules" / "@openzeppelin" / "contracts-v4" / "package.json"
    return str(json.loads(manifest.read_text())["version"])


# ------------------------------------------------------------------ set-up


def _shop(ctx: BenchContext) -> Shop:
    """A registry with the merchant approved, the escrow with its roles, a 2.5% fee, the
    stablecoin allow-listed; the buyer holds stablecoins and has approved the escrow for good."""
    buyer = ctx.shopper
    arbiter, keeper, fee_recipient = accounts.test_accounts[5:8]
    registry = ctx.admin.deploy(ctx.project.ProductRegistry, ctx.admin.address)
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
    registry.grantRole(registry.ORACLE_ROLE(), escrow.address, sender=ctx.admin)
    stable = ctx.admin.deploy(ctx.project.MockStable6)
    escrow.setTokenAllowed(stable.address, True, sender=ctx.admin)
    stable.mint(buyer.address, 10**6 * STABLE_PRICE, sender=buyer)
    stable.approve(escrow.address, MAX_UINT256, sender=buyer)
    return Shop(ctx, escrow, registry, stable, buyer, arbiter, keeper)


def _warm_up(shop: Shop) -> None:
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
    shop.confirm(shop.delivered(item_ids=(_register_item(shop, "warm-up"),)))


def _register_item(shop: Shop, serial: str) -> bytes:
    item_id = item_id_from_sku(shop.merchant.address, SKU, serial)
    metadata = json.dumps({"sku": SKU, "serial": serial}, separators=(",", ":")).encode()
    uri = "ipfs://bafkrei" + keccak(metadata).hex()[:52]
    shop.registry.registerItem(item_id, keccak(metadata), uri, sender=shop.merchant)
    return bytes(item_id)


# ------------------------------------------------------------------ the happy path


def _lifecycle(shop: Shop, deposit_peer: Peer) -> list[Row]:
    open_target = Target(round(OPEN_ETH_PEER_FACTOR * deposit_peer.value))
    sku = shop.open()
    item = shop.open(item_ids=(_register_item(shop, "order-1"),))
    erc20 = shop.open(shop.stable.address)  # stays funded: the escrow keeps holding the token
    ship = shop.ship(sku)
    deliver = shop.deliver(sku)
    confirm_sku = shop.confirm(sku)
    shop.ship(item)
    shop.deliver(item)
    confirm_item = _confirm_with_sale(shop, item)

    late = shop.delivered()
    _travel(shop, DISPUTE_WINDOW + 1)
    release = gas_used(shop.escrow.release(late.terms, sender=shop.keeper))
    shop.expect(late, Status.RELEASED)

    def versus_peer(gas: int) -> str:
        return (
            f"{gas / deposit_peer.value:.2f}x the peer's deposit (target {OPEN_ETH_PEER_FACTOR}x"
            " the peer measured in this run)"
        )

    credits = "merchant's and fee recipient's credits already non-zero (5,000-gas updates)"
    return [
        Row(
            "escrow.open_pay_eth",
            "`open`, pay in ETH: SKU order (no registry items)",
            sku.open_gas,
            "gas",
            target=open_target,
            peer=deposit_peer,
            note=f"one new slot (the order's state) like the peer's, plus a cold read of the"
            f" settings slot; terms in {sku.calldata_bytes} bytes of calldata;"
            f" {versus_peer(sku.open_gas)}",
        ),
        Row(
            "escrow.open_pay_eth_1_item",
            "`open`, pay in ETH: order of 1 registry item",
            item.open_gas,
            "gas",
            target=open_target,
            peer=deposit_peer,
            note=f"as above, {item.calldata_bytes} bytes of calldata; {versus_peer(item.open_gas)}",
        ),
        Row(
            "escrow.open_pay_erc20",
            "`open`, pay in a 6-decimals stablecoin (allow-listed): SKU order",
            erc20.open_gas,
            "gas",
            note="buyer approved the escrow once (unlimited, no allowance write); buyer's and"
            " escrow's token balances non-zero; balance checked before and after the pull",
        ),
        Row(
            "escrow.ship",
            "`ship`, by the merchant",
            ship,
            "gas",
            note="order slot updated (cold); tracking hash in the event only",
        ),
        Row(
            "escrow.deliver",
            "`reportLogistics`, 1 delivery report (oracle)",
            deliver,
            "gas",
            note="order slot updated (cold)",
        ),
        Row(
            "escrow.confirm_release",
            "`confirmReceipt` → released to the merchant: SKU order",
            confirm_sku,
            "gas",
            note=f"delivered order; {credits}",
        ),
        Row(
            "escrow.confirm_release_1_item",
            "`confirmReceipt` → released, registry records the item Sold",
            confirm_item,
            "gas",
            note=f"{credits}; item registered, no custody event before; the escrow's registry"
            " event-id word already in use",
        ),
        Row(
            "escrow.release_after_window",
            "`release` by anyone after the dispute window",
            release,
            "gas",
            note=f"delivered order, {DISPUTE_WINDOW // DAY}-day window passed"
            f" (evm_increaseTime); called by a keeper; {credits}",
        ),
    ]


def _confirm_with_sale(shop: Shop, order: Order) -> int:
    receipt = shop.escrow.confirmReceipt(order.terms, sender=shop.buyer)
    gas = gas_used(receipt)
    shop.expect(order, Status.RELEASED)
    if not receipt.events.filter(shop.escrow.SaleRecorded):
        raise RuntimeError("the registry did not record the sale")
    return gas


def _travel(shop: Shop, seconds: int) -> None:
    rpc(shop.ctx.rpc_url, "evm_increaseTime", [seconds])
    rpc(shop.ctx.rpc_url, "evm_mine")


# ------------------------------------------------------------------ refunds, disputes, settlements


def _outcomes(shop: Shop) -> list[Row]:
    cancelled = shop.open()
    cancel = gas_used(shop.escrow.cancel(cancelled.terms, sender=shop.buyer))
    shop.expect(cancelled, Status.REFUNDED)
    shop.withdraw(shop.buyer, ETH)  # buyers take their refunds: the next one finds no credit

    disputed = shop.delivered()
    evidence = keccak(text="photos of the damage")
    dispute = gas_used(shop.escrow.dispute(disputed.terms, evidence, sender=shop.buyer))
    shop.expect(disputed, Status.DISPUTED)
    settle = gas_used(
        shop.escrow.resolveDispute(
            disputed.terms, ARBITER_BUYER_BPS, keccak(text="ruling"), sender=shop.arbiter
        )
    )
    shop.expect(disputed, Status.SETTLED)
    shop.withdraw(shop.buyer, ETH)

    agreed = shop.open()
    shop.ship(agreed)
    escrow, bps = shop.escrow, OFFER_BUYER_BPS
    offer = gas_used(escrow.offerSettlement(agreed.terms, bps, sender=shop.merchant))
    accept = gas_used(escrow.acceptSettlement(agreed.terms, bps, sender=shop.buyer))
    shop.expect(agreed, Status.SETTLED)
    shop.withdraw(shop.buyer, ETH)

    buyer_credit = "the buyer's credit 0 → non-zero (buyers withdraw each refund)"
    merchant_credits = "merchant's and fee recipient's credits non-zero"
    split = f"{ARBITER_BUYER_BPS / 100:.0f}% to the buyer"
    return [
        Row(
            "escrow.refund_buyer_cancel",
            "`cancel` by the buyer before shipment → full refund credited",
            cancel,
            "gas",
            note=buyer_credit,
        ),
        Row(
            "escrow.dispute",
            "`dispute` by the buyer (delivered order, inside the window)",
            dispute,
            "gas",
            note="order slot updated (cold); evidence hash in the event only",
        ),
        Row(
            "escrow.settle_arbiter",
            "`resolveDispute` by the arbiter, split of the whole price",
            settle,
            "gas",
            note=f"{split}; {buyer_credit}; {merchant_credits}; the merchant did not answer",
        ),
        Row(
            "escrow.dispute_and_settle",
            "dispute + arbiter's settlement (sum of the two transactions)",
            dispute + settle,
            "gas",
        ),
        Row(
            "escrow.offer_settlement",
            "`offerSettlement` by the merchant (shipped order)",
            offer,
            "gas",
            note="the offer's new slot 0 → non-zero",
        ),
        Row(
            "escrow.accept_settlement",
            "`acceptSettlement` by the buyer → settled",
            accept,
            "gas",
            note=f"{OFFER_BUYER_BPS / 100:.0f}% to the buyer; the offer slot cleared (refund);"
            f" {buyer_credit}; {merchant_credits}",
        ),
        Row(
            "escrow.offer_and_accept",
            "settlement offer + acceptance (sum of the two transactions)",
            offer + accept,
            "gas",
        ),
    ]


# ------------------------------------------------------------------ payouts


def _withdrawals(shop: Shop, withdraw_peer: Peer) -> list[Row]:
    stable = shop.stable.address
    withdraw_eth = shop.withdraw(shop.merchant, ETH)
    withdraw_erc20 = shop.withdraw(shop.merchant, stable)
    # The merchant has just withdrawn everything: its next payout writes a fresh credit slot.
    first_credit = shop.confirm(shop.delivered())
    return [
        Row(
            "escrow.withdraw_eth",
            "`withdraw(ETH)` by the merchant, its whole credit",
            withdraw_eth,
            "gas",
            peer=withdraw_peer,
            note="credit non-zero → 0 (refund); ETH sent to the caller (warm), unlike the peer's"
            " payee",
        ),
        Row(
            "escrow.withdraw_erc20",
            "`withdraw(token)` by the merchant, 6-decimals stablecoin",
            withdraw_erc20,
            "gas",
            note="credit non-zero → 0; the merchant already holds the token and the escrow keeps"
            " a balance (other orders funded): both balances non-zero → non-zero",
        ),
        Row(
            "escrow.confirm_release_after_withdrawal",
            "`confirmReceipt` → released, the merchant's credit empty",
            first_credit,
            "gas",
            note="the first payout after the merchant withdrew: its credit 0 → non-zero"
            " (22,100 instead of 5,000); fee recipient's credit non-zero",
        ),
    ]


# ------------------------------------------------------------------ the oracle's batches


def _batches(shop: Shop) -> list[Row]:
    orders = [shop.open() for _ in range(BATCH)]
    ship = shop.report(orders, Logistics.SHIPPED)
    deliver = shop.report(orders, Logistics.DELIVERED)
    orders_note = f"{BATCH} funded ETH orders of one buyer and merchant, each slot cold"
    return [
        Row(
            "escrow.ship_batch_100_total",
            f"`reportLogistics`, {BATCH} shipment reports (total)",
            ship,
            "gas",
            note=orders_note,
        ),
        Row(
            "escrow.ship_batch_100_per_order",
            f"`reportLogistics`, per order in {BATCH} shipment reports",
            round(ship / BATCH, 1),
            "gas/order",
            note="transaction total / orders, 21,000 base included",
        ),
        Row(
            "escrow.deliver_batch_100_total",
            f"`reportLogistics`, {BATCH} delivery reports (total)",
            deliver,
            "gas",
            note=f"the same {BATCH} orders, shipped",
        ),
        Row(
            "escrow.deliver_batch_100_per_order",
            f"`reportLogistics`, per order in {BATCH} delivery reports",
            round(deliver / BATCH, 1),
            "gas/order",
            target=DELIVERY_PER_ORDER_TARGET,
            note="transaction total / orders, 21,000 base included",
        ),
    ]
