"""Credit lines and credit-paid orders on the keeper's chain, straight through web3: a lender's
deposit into the vault, a band-1 line applied for with an attestation signed by the deployment's
two attester keys (TEST::6, TEST::9), and an escrow order of the merchant's registry items paid
by ``CreditLines.drawToOrder``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_utils.crypto import keccak
from web3 import Web3

from app.chain.contracts import load_abi
from app.domain.abi_types import hex32
from app.domain.attestations import Attestation, Domain, model_id_of, sign_all
from harness.ape_run import ADMIN, TEST_PRIVATE_KEYS
from tests.app.index.actors import SuiteDriver
from tests.app.index.records import Actor, Order

USD = 10**6
DAY = 86_400
ATTESTERS = (Account.from_key(TEST_PRIVATE_KEYS[6]), Account.from_key(TEST_PRIVATE_KEYS[9]))


@dataclass
class Credit:
    """The credit contracts of the keeper's suite."""

    driver: SuiteDriver

    def __post_init__(self) -> None:
        deployment = self.driver.deployment

        def contract(name: str) -> Any:
            return self.driver.w3.eth.contract(
                address=Web3.to_checksum_address(deployment.addresses[name]),
                abi=load_abi(deployment.abi_dir, name),
            )

        self.lines = contract("CreditLines")
        self.vault = contract("CreditVault")
        self.stable = contract("DevStablecoin")
        self.verifier = contract("AttestationVerifier")

    def fund_pool(self, amount: int = 10_000 * USD) -> None:
        lender = self.driver.new_account()
        self.driver.send(self.stable.functions.mint(lender.address, amount), ADMIN)
        self.driver.send(self.stable.functions.approve(self.vault.address, amount), lender.address)
        self.driver.send(self.vault.functions.deposit(amount, lender.address), lender.address)

    def open_line(self, borrower: Actor) -> None:
        """A band-1 line (500 dUSD; term 30 days, grace 5, default after 60)."""
        now = self.driver.block_time()
        attestation = Attestation(
            borrower=borrower.address,
            identity_hash=hex32(keccak(text=f"identity {borrower.address}")),
            band=1,
            model_id=model_id_of("tm-score-v3"),
            report_hash=hex32(bytes(32)),
            issued_at=now,
            expires_at=now + DAY,
            nonce=secrets.randbits(64),
            attester_set_version=self.verifier.functions.attesterSetVersion().call(),
        )
        domain = Domain(
            chain_id=self.driver.w3.eth.chain_id, verifying_contract=self.verifier.address
        )
        signed = sign_all(attestation, domain, ATTESTERS, None)
        self.driver.send(self.lines.functions.applyForCredit(*signed.abi_args()), borrower.address)

    def order(self, borrower: Actor, merchant: Actor, amount: int = 100 * USD) -> Order:
        """An order of one of the merchant's items, paid with the borrower's line."""
        item = self.driver.register_item(merchant)
        now = self.driver.block_time()
        terms = (
            borrower.address,
            merchant.address,
            self.lines.address,
            self.stable.address,
            amount,
            now + 5 * DAY,
            now + 10 * DAY,
            2 * DAY,
            int(self.driver.escrow.functions.feeBps().call()),
            keccak(text="credit order"),
            secrets.randbits(64),
            [item.item_id],
        )
        receipt = self.driver.send(self.lines.functions.drawToOrder(terms), borrower.address)
        order_id = bytes(self.driver.escrow.functions.orderIdOf(terms).call())
        return Order(order_id, terms, receipt)

    def repay(self, borrower: Actor, amount: int) -> None:
        """The borrower pays ``amount`` towards its line (minted to it first)."""
        payer = borrower.address
        self.driver.send(self.stable.functions.mint(payer, amount), ADMIN)
        self.driver.send(self.stable.functions.approve(self.lines.address, amount), payer)
        self.driver.send(self.lines.functions.repay(payer, amount), payer)

    def line(self, borrower: Actor) -> Any:
        return self.lines.functions.lineOf(borrower.address).call()

    def events(self, name: str, start: int, **filters: Any) -> list[Any]:
        event = getattr(self.lines.events, name)
        return list(event().get_logs(from_block=start, argument_filters=filters))
