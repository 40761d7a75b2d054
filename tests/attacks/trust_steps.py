"""The steps of the threat model's attacks (SECURITY.md; tests/attacks/test_trust*.py) that
depend on the contracts' API: how an item is registered, an order opened, shipped or reported, a
credit line approved or drawn, a lender paid. The tests were written against the contracts
before the change (2be83e2, commit b6156b2), where every one of them failed because the attack
worked; porting them to the hardened contracts meant rewriting these steps, not the attacks.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ape
import click
from ape.exceptions import ContractLogicError

from app.domain.ids import gs1_company_prefixes
from app.domain.merkle import BatchLeaf, ItemBatch
from app.domain.vocab import CustodyAction, LineStatus, LogisticsKind
from scripts._lib.credit import default_policy
from scripts._lib.suite import CreditOptions
from tests.attacks.conftest import (
    CARRIER,
    Actors,
    Suite,
    attest,
    identity_of,
    logistics,
    now_of,
    register,
    sku_key,
)
from tests.contracts.escrow.helpers import DAY, OrderStatus, Terms, h

ADMIN_ROLE = b"\x00" * 32
ETHER = 10**18
GTIN = "4006381333931"  # a valid GTIN-13 (check digit 1), standing for brand M's product
GTIN_PREFIX_LENGTH = 7  # its company prefix as GS1 licensed it: "4006381"
_labels = itertools.count(1)


def label(text: str) -> str:
    """A label unique in this session (the package's chain is shared by every test)."""
    return f"trust {text} {next(_labels)}"


# ================================================================== generic


def succeeds(step: Callable[[], Any]) -> bool:
    """Runs a transaction; False when the contracts refuse it (any revert, whatever its error)."""
    try:
        step()
    except ContractLogicError:
        return False
    return True


def fresh_account(actors: Actors, ether: int = 10) -> Any:
    """A new Ape test account beyond Anvil's funded ten, given some ETH by the admin."""
    account = ape.accounts.test_accounts.generate_test_account()
    actors.admin.transfer(account, ether * ETHER)
    return account


def advance(provider: Any, seconds: int) -> None:
    provider.web3.provider.make_request("evm_increaseTime", [seconds])
    provider.web3.provider.make_request("evm_mine", [])


def grant_admin(contract: Any, actors: Actors, newcomer: str) -> None:
    """The admin grants DEFAULT_ADMIN_ROLE straight to `newcomer` (the first half of a one-step
    handover; `renounceRole` is the second)."""
    contract.grantRole(ADMIN_ROLE, newcomer, sender=actors.admin)


# ================================================================== registry


def approve_merchant(suite: Suite, actors: Actors, account: Any, owner: str = "") -> None:
    """The platform's verifier approves `account` as a merchant owned by `owner` (a legal
    identifier; by default one of its own)."""
    identity = identity_of(owner or f"owner of {account.address}")
    suite.registry.approveMerchant(account.address, "Shop", identity, sender=actors.verifier)


def sku_item_id(suite: Suite, merchant: Any, sku: str, serial: str) -> bytes:
    """The id a merchant's SKU and serial derive to."""
    return bytes(suite.registry.itemIdOfKey(merchant.address, sku_key(sku, serial)))


def register_item(suite: Suite, merchant: Any, sku: str, serial: str = "S1") -> bytes:
    """`merchant` registers its own item named by SKU and serial; returns the item id."""
    return register(suite.registry, merchant, sku_key(sku, serial), f"meta {sku}")


def register_key(suite: Suite, registrant: Any, key: tuple[int, str, str]) -> bytes:
    """`registrant` registers the item key of someone else's item (a squat): the registry
    derives the id from the key and the registrant; returns the id it got."""
    return register(suite.registry, registrant, key, "squat meta")


def claim_gtin(suite: Suite, actors: Actors, brand: Any, gtin: str) -> None:
    """The platform records that `gtin` belongs to `brand`: a verifier grants brand the GTIN's
    GS1 company prefix (once; the package's chain is shared)."""
    prefix = gs1_company_prefixes(gtin)[GTIN_PREFIX_LENGTH - 4]
    if suite.registry.gs1PrefixHolder(prefix) != brand.address:
        suite.registry.grantGs1Prefix(prefix, brand.address, sender=actors.verifier)


def register_batch(suite: Suite, merchant: Any, leaves: list[BatchLeaf]) -> ItemBatch:
    batch = ItemBatch(leaves)
    suite.registry.registerBatch(
        batch.root, len(leaves), h("batch meta"), "ipfs://batch", sender=merchant
    )
    return batch


def activate_batch_item(
    suite: Suite, batch: ItemBatch, leaf: BatchLeaf, key: tuple[int, str, str], sender: Any
) -> None:
    """Activates the leaf of `key`: the registry derives the id under the batch's merchant."""
    suite.registry.activateBatchItem(
        batch.root, key, leaf.metadata_hash, batch.proof(leaf.item_id), sender=sender
    )


def recall_item(suite: Suite, merchant: Any, item_id: bytes) -> None:
    suite.registry.recallItem(item_id, h("recall notice"), sender=merchant)


def sold_records(suite: Suite, item_id: bytes, from_block: int) -> list[Any]:
    """The registry's CustodyRecorded logs with action Sold for `item_id` since `from_block`."""
    logs = suite.registry.CustodyRecorded.range(
        from_block, ape.chain.blocks.height + 1, search_topics={"itemId": item_id}
    )
    return [log for log in logs if int(log.action) == CustodyAction.SOLD]


def item_record(suite: Suite, item_id: bytes) -> tuple[str, int, int]:
    """(merchant, updatedAt, lastAction) of an item."""
    item = suite.registry.itemOf(item_id)
    return str(item.merchant), int(item.updatedAt), int(item.lastAction)


# ================================================================== escrow


def open_order(suite: Suite, terms: Terms, buyer: Any) -> None:
    """The buyer opens and pays the order (ETH orders carry the price as value)."""
    value = terms.amount if terms.is_eth else 0
    suite.escrow.open(terms.as_abi(), value=value, sender=buyer)


def ship_order(suite: Suite, terms: Terms, merchant: Any) -> None:
    """The merchant hands the order to its carrier (CARRIER) and marks it shipped."""
    suite.escrow.ship(terms.as_abi(), CARRIER, h("tracking"), sender=merchant)


def report_delivered(
    suite: Suite, actors: Actors, *terms: Terms, carrier: int = CARRIER
) -> dict[bytes, bytes]:
    """The logistics oracle reports the orders delivered by `carrier`, in one batch; returns the
    reports the escrow refused (order id -> the custom error it skipped them with)."""
    updates = [logistics(t.order_id, LogisticsKind.DELIVERED, carrier) for t in terms]
    receipt = suite.escrow.reportLogistics(updates, sender=actors.logistics)
    rejected = receipt.events.filter(suite.escrow.LogisticsUpdateRejected)
    return {bytes(event.orderId): bytes(event.reason) for event in rejected}


def confirm_receipt(suite: Suite, terms: Terms, buyer: Any) -> None:
    suite.escrow.confirmReceipt(terms.as_abi(), sender=buyer)


def offer_settlement(suite: Suite, terms: Terms, buyer_bps: int, offerer: Any) -> None:
    """An offer standing for a day."""
    expires_at = now_of(ape.chain.provider) + DAY
    suite.escrow.offerSettlement(terms.as_abi(), buyer_bps, expires_at, sender=offerer)


def withdraw_offer(suite: Suite, terms: Terms, offerer: Any) -> bool:
    """The offerer takes its settlement offer back."""
    return succeeds(lambda: suite.escrow.withdrawOffer(terms.as_abi(), sender=offerer))


def accept_settlement(suite: Suite, terms: Terms, buyer_bps: int, accepter: Any) -> None:
    suite.escrow.acceptSettlement(terms.as_abi(), buyer_bps, sender=accepter)


def pause_escrow(suite: Suite, actors: Actors) -> None:
    suite.escrow.pause(sender=actors.admin)


def unpause_escrow(suite: Suite, actors: Actors) -> None:
    suite.escrow.unpause(sender=actors.admin)


def escrow_credit(suite: Suite, account: Any, token: str) -> int:
    """What the escrow owes `account` in `token` (withdrawable)."""
    return int(suite.escrow.creditOf(account.address, token))


def status_of(suite: Suite, terms: Terms) -> OrderStatus:
    return OrderStatus(int(suite.escrow.orderOf(terms.order_id).status))


def complete_sale(suite: Suite, actors: Actors, terms: Terms, buyer: Any) -> None:
    """An honest sale: shipped by its merchant, delivered, confirmed by the buyer."""
    ship_order(suite, terms, actors.merchant)
    assert report_delivered(suite, actors, terms) == {}
    confirm_receipt(suite, terms, buyer)
    assert status_of(suite, terms) == OrderStatus.RELEASED


# ================================================================== credit


@dataclass(frozen=True)
class Credit:
    token: Any
    vault: Any
    lines: Any


def deploy_credit(project_: Any, suite: Suite, actors: Actors) -> Credit:
    """A fresh CreditVault of the suite's stablecoin and CreditLines over it, wired as `ape run
    deploy` wires them, with the deploy script's default policy (no wallet draws, a cap on new
    credit per day); the admin holds POLICY_ROLE and RISK_ROLE, as the deployer does."""
    admin, token = actors.admin, suite.stablecoin
    vault = project_.CreditVault.deploy(token.address, admin.address, sender=admin)
    lines = project_.CreditLines.deploy(
        admin.address, suite.verifier.address, vault.address, suite.escrow.address, sender=admin
    )
    suite.verifier.grantRole(suite.verifier.CONSUMER_ROLE(), lines.address, sender=admin)
    vault.grantRole(vault.LINE_ROLE(), lines.address, sender=admin)
    suite.escrow.grantRole(suite.escrow.FUNDER_ROLE(), lines.address, sender=admin)
    for role in ("POLICY_ROLE", "RISK_ROLE"):
        lines.grantRole(getattr(lines, role)(), admin.address, sender=admin)
    policy = default_policy(6)
    assert not policy.walletDraws
    lines.publishPolicy(policy.rules_abi(), policy.tiers_abi(), sender=admin)
    return Credit(token, vault, lines)


def mint(credit: Credit, actors: Actors, account: Any, amount: int) -> None:
    credit.token.mint(account.address, amount, sender=actors.admin)


def deposit(credit: Credit, actors: Actors, lender: Any, amount: int) -> int:
    """The lender deposits `amount` into the vault; returns the shares minted."""
    mint(credit, actors, lender, amount)
    credit.token.approve(credit.vault.address, amount, sender=lender)
    before = int(credit.vault.balanceOf(lender.address))
    credit.vault.deposit(amount, lender.address, sender=lender)
    return int(credit.vault.balanceOf(lender.address)) - before


def redeem_all(credit: Credit, lender: Any, provider: Any) -> int:
    """The lender redeems every share it holds: it queues them, waits out the cooldown and claims;
    returns the stablecoins it received."""
    vault = credit.vault
    shares = int(vault.balanceOf(lender.address))
    before = int(credit.token.balanceOf(lender.address))
    vault.requestRedeem(shares, lender.address, lender.address, sender=lender)
    advance(provider, int(vault.redeemCooldown()))
    vault.redeem(shares, lender.address, lender.address, sender=lender)
    return int(credit.token.balanceOf(lender.address)) - before


def approve_line(
    suite: Suite, credit: Credit, provider: Any, borrower: Any, band: int, owner: str = ""
) -> None:
    """The bureau and the service (the verifier's two attesters) attest `borrower`'s band and
    identity (`owner`, a legal identifier; by default its own), and the borrower opens its line."""
    identity = identity_of(owner or f"borrower {borrower.address}")
    attestation, signatures = attest(
        suite, provider, borrower.address, band=band, identity=identity
    )
    credit.lines.applyForCredit(attestation, signatures, sender=borrower)
    assert int(credit.lines.lineOf(borrower.address).status) == LineStatus.ACTIVE


def credit_terms(
    suite: Suite,
    terms_for: Callable[..., Terms],
    credit: Credit,
    borrower: Any,
    merchant: Any,
    amount: int,
    item_ids: tuple[bytes, ...] | None = None,
) -> Terms:
    """Terms of an order the borrower's credit line pays for, in the pool's stablecoin; credit
    pays orders of a merchant's registry items only, so an approved merchant registers one (none
    for an address that is no merchant, unless `item_ids` says)."""
    if item_ids is None:
        (status, _) = suite.registry.merchantStanding(merchant.address)
        item_ids = (register_item(suite, merchant, label("credit sku")),) if status == 1 else ()
    return terms_for(
        buyer=borrower.address,
        merchant=merchant.address,
        payer=credit.lines.address,
        token=credit.token.address,
        amount=amount,
        order_ref=h(label("credit order")),
        item_ids=item_ids,
    )


def draw_to_order(credit: Credit, terms: Terms, borrower: Any) -> None:
    credit.lines.drawToOrder(terms.as_abi(), sender=borrower)


def repay(credit: Credit, actors: Actors, borrower: Any) -> int:
    """The borrower repays its whole debt (minted to it first); returns what it paid."""
    debt = int(credit.lines.debtOf(borrower.address))
    budget = debt + debt // 100  # a second of interest more accrues before the repayment lands
    mint(credit, actors, borrower, budget)
    credit.token.approve(credit.lines.address, budget, sender=borrower)
    before = int(credit.token.balanceOf(borrower.address))
    credit.lines.repay(borrower.address, budget, sender=borrower)
    return before - int(credit.token.balanceOf(borrower.address))


def mark_defaulted(credit: Credit, borrower: Any) -> None:
    """Anyone brings the line up to date: past due and the default threshold, it defaults (and
    its principal was impaired at due time plus grace)."""
    credit.lines.accrue(borrower.address, sender=borrower)


def write_off(credit: Credit, actors: Actors, borrower: Any) -> bool:
    return succeeds(lambda: credit.lines.writeOff(borrower.address, sender=actors.admin))


def start_of_cap_window(credit: Credit, provider: Any) -> int:
    """Moves the clock to just after the start of the next window of the period cap (windows
    are aligned to multiples of capPeriod), so that a test's draws all fall in one window."""
    period = int(credit.lines.policyRules(credit.lines.currentPolicyVersion()).capPeriod)
    start = now_of(provider) // period * period + period
    provider.web3.provider.make_request("evm_setNextBlockTimestamp", [start + 60])
    provider.web3.provider.make_request("evm_mine", [])
    return start


# ================================================================== deployment


def deploy_with_attesters(
    provider: Any, actors: Actors, directory: Path, attesters: tuple[str, ...]
) -> Any | None:
    """A fresh suite, deployed the way `ape run deploy --dev-stablecoin --attester A --attester B`
    (no --quorum) deploys it: through the script's own option checks and deployer. Returns its
    AttestationVerifier, or None when the script refuses these options."""
    from scripts._lib.deployer import deploy_suite
    from scripts.deploy import credit_options

    try:
        given = {"stablecoin": None, "dev_stablecoin": True, "attesters": attesters, "quorum": None}
        options: CreditOptions = credit_options(provider.network, directory, given)
    except click.UsageError:
        return None
    outcome = deploy_suite(
        actors.admin,
        verifier=actors.verifier.address,
        oracle=actors.oracle.address,
        logistics_oracle=actors.logistics.address,
        arbiter=actors.arbiter.address,
        network_choice=provider.network_choice,
        directory=directory,
        credit=options,
        redeploy=True,
        echo=lambda *_, **__: None,
    )
    address = outcome.record.contracts["AttestationVerifier"].address
    return ape.project.AttestationVerifier.at(address)
