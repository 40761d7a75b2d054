"""`make demo`'s attacks: after the honest story, an attacker tries one attack of each kind of
the threat model (SECURITY.md) against the demo's own deployment, and the contract's reason for
refusing it is printed.

The attacker is an outside client: plain web3.py, the contracts of the run's deployment record
spoken to through its ABIs, transactions signed with keys of its own. Each attack is simulated
with ``eth_call`` from the attacker's address (a real transaction would be mined and revert with
the same data), except the rival carrier's report, which goes through the service as any
carrier's does and which the escrow refuses on chain with ``LogisticsUpdateRejected``. Reverts
and rejections are decoded by app.chain.reverts against the suite's ABIs and put in words by
the scripts' explanations (app.domain.reverts). The honest parties first set the
scene with real transactions: Mallory is an approved merchant (her shop) and an approved
borrower under one legal identity, with a second wallet and two throwaway addresses; a buyer's
order holds a Northwind mug and is handed to carrier 1. An attack that went through stops the
demo.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD
from web3.middleware import SignAndSendRawMiddlewareBuilder
from web3.types import Wei

from app.chain.reverts import Revert, RevertDecoder, revert_data
from app.domain.abi_types import hex32
from app.domain.attestations import Attestation, Domain, model_id_of, sign_all
from app.domain.identity import DEV_IDENTITY_KEY, identity_commitment
from app.domain.ids import item_id_of_key, item_key
from app.domain.reverts import explain
from app.domain.units import format_time
from app.domain.vocab import IdScheme
from app.outbox.rejections import rejections_in
from tools.demo_support import (
    CARRIER_ID,
    MERCHANT_ADDRESS,
    RIVAL_CARRIER_ID,
    TEST_KEYS,
    Demo,
    minutes_ago,
    rpc,
    say,
)

DAY = 86_400
ETH = "0x0000000000000000000000000000000000000000"
DUSD = 10**6
ADMIN_ROLE = bytes(32)
BRAND_GTIN = "04006381333931"  # Northwind's GTIN (examples/batch.csv), under prefix 4006381
# The attacker's keys: fresh for the demo, derived from a public phrase (never real money).
MALLORY, SHOP, POCKET, THROWAWAY_BUYER, THROWAWAY_SHOP = (
    Account.from_key(keccak(text=f"trustmall demo attacker {name}"))
    for name in ("mallory", "shop", "pocket", "throwaway buyer", "throwaway shop")
)
MALLORY_IDENTITY = "national id DE-M66000451"
ADMIN, MERCHANT, BUYER, ATTESTER, LENDER, COSIGNER = (
    Account.from_key(TEST_KEYS[i]) for i in (0, 2, 5, 6, 7, 9)
)
# OpenZeppelin's admin rules errors, which the scripts have no words for.
WORDS: dict[str, Callable[[Revert], str]] = {
    "AccessControlEnforcedDefaultAdminRules": lambda r: (
        "the admin role changes hands only in two steps: beginDefaultAdminTransfer, then "
        "acceptDefaultAdminTransfer by the new admin after the delay"
    ),
    "AccessControlEnforcedDefaultAdminDelay": lambda r: (
        f"the handover may be accepted from {format_time(int(r.args['schedule']))} on (the "
        "admin delay after it began), and the admin can cancel it until then"
        if int(r.args["schedule"])
        else "no handover to accept"
    ),
}


class Attacker:
    """The outside client: the chain, the deployment's contracts by name, their errors."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.w3 = Web3(HTTPProvider(demo.rpc_url))
        signers = [ADMIN, MERCHANT, BUYER, LENDER, MALLORY, SHOP, POCKET, THROWAWAY_BUYER]
        self.w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(signers), layer=0)
        abi_dir = Path(demo.env["TRUSTMALL_ABI_DIR"])
        self.contracts: dict[str, Any] = {}
        abis = []
        for name, entry in demo.deployment()["contracts"].items():
            abi = json.loads((abi_dir / f"{name}.json").read_text())
            abis.append(abi)
            self.contracts[name] = self.w3.eth.contract(address=entry["address"], abi=abi)
        self.decoder = RevertDecoder(abis)
        self.step = 0

    def __getitem__(self, name: str) -> Any:
        return self.contracts[name]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def send(self, call: Any, sender: LocalAccount, value: int = 0) -> Any:
        """An honest party's transaction, mined; it must go through."""
        tx = call.transact({"from": sender.address, "value": value})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx)
        if receipt["status"] != 1:
            raise SystemExit(f"the scene could not be set: {call.fn_name} reverted")
        return receipt

    def reason(self, data: bytes) -> str:
        """The contract's error by name and arguments, in words."""
        revert = self.decoder.decode(data)
        words = WORDS.get(revert.name)
        return explain(revert) + (f": {words(revert)}" if words else "")

    def tried(self, what: str, call: Any, sender: LocalAccount, value: int = 0) -> None:
        """Simulates the attacker's transaction and prints what the contract answered; an
        attack the contract would let through stops the demo."""
        try:
            call.call({"from": sender.address, "value": value})
        except ContractLogicError as error:
            self.refused(what, self.reason(revert_data(error) or b""))
            return
        raise SystemExit(f"attack went through: {what}")

    def refused(self, what: str, reason: str) -> None:
        self.step += 1
        sys.stdout.write(f"  {what}\n      refused: {reason}\n")
        sys.stdout.flush()


def terms(
    attacker: Attacker, buyer: str, merchant: str, items: list[bytes], amount: int, **changes: Any
) -> tuple[Any, ...]:
    """IOrderEscrow.OrderTerms, in ETH unless ``changes`` say otherwise."""
    now = attacker.now()
    values: dict[str, Any] = {
        "buyer": buyer, "merchant": merchant, "payer": buyer, "token": ETH, "amount": amount,
        "shipBy": now + 7 * DAY, "deliverBy": now + 21 * DAY, "disputeWindow": 2 * DAY,
        "feeBps": attacker["OrderEscrow"].functions.feeBps().call(),
        "orderRef": keccak(text=f"order of {buyer}"), "salt": secrets.randbits(64),
        "itemIds": items,
    }  # fmt: skip
    values.update(changes)
    return tuple(values.values())


def _sku(code: str, serial: str) -> tuple[int, str, str]:
    return item_key(IdScheme.SKU, code, serial)


def set_the_scene(attacker: Attacker) -> dict[str, bytes]:
    """The honest parties' transactions the attacks start from; returns the items by purpose."""
    w3, registry = attacker.w3, attacker["ProductRegistry"]
    for account in (MALLORY, SHOP, POCKET, THROWAWAY_BUYER):
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_transaction(
                {"from": ADMIN.address, "to": account.address, "value": Wei(10**18)}
            )
        )
    identity = identity_commitment(MALLORY_IDENTITY, DEV_IDENTITY_KEY)
    attacker.send(registry.functions.approveMerchant(SHOP.address, "Mallory's Corner", identity),
                  ADMIN)  # fmt: skip
    meta = keccak(text="Mallory's gadget")
    inputs = [(_sku("GADGET-9", serial), meta, "") for serial in ("1", "2")]
    attacker.send(registry.functions.registerItems(inputs), SHOP)
    gadget, decoy = (item_id_of_key(SHOP.address, IdScheme.SKU, "GADGET-9", s) for s in "12")
    attacker.send(registry.functions.recallItem(decoy, keccak(text="recalled on purpose")), SHOP)
    _approve_line(attacker, identity)
    mug = bytes.fromhex(attacker.demo.manifest("singles-manifest.json")["items"][0]["item_id"][2:])
    sys.stdout.write(
        f"  (the scene: Mallory {MALLORY.address} is an approved borrower and owns the approved "
        f"shop {SHOP.address}, one legal identity for both; she holds a second wallet "
        f"{POCKET.address} and two throwaway addresses)\n"
    )
    return {"mug": mug, "gadget": gadget, "decoy": decoy}


def _approve_line(attacker: Attacker, identity: bytes) -> None:
    """The bureau and the service attest Mallory honestly (both attesters sign); she applies."""
    verifier = attacker["AttestationVerifier"]
    attestation = _attestation(attacker, MALLORY.address, identity)
    domain = Domain(chain_id=attacker.w3.eth.chain_id, verifying_contract=verifier.address)
    signed = sign_all(attestation, domain, [ATTESTER, COSIGNER], "trustmall-score-v3")
    attacker.send(attacker["CreditLines"].functions.applyForCredit(*signed.abi_args()), MALLORY)


def _attestation(attacker: Attacker, borrower: str, identity: bytes) -> Attestation:
    now = attacker.now()
    return Attestation(
        borrower=borrower,
        identity_hash=hex32(identity),
        band=2,
        model_id=model_id_of("trustmall-score-v3"),
        report_hash=hex32(keccak(text=f"report on {borrower}")),
        issued_at=now - 60,
        expires_at=now + 7 * DAY,
        nonce=secrets.randbits(64),
        attester_set_version=attacker["AttestationVerifier"].functions.attesterSetVersion().call(),
    )


def attacks(demo: Demo, chapter: int) -> None:
    say(f"{chapter}. Attacks the contracts refuse: an attacker tries each kind of attack of "
        "the threat model (SECURITY.md) on this deployment, with a plain web3 client and keys "
        "of her own, and the contract's reason for refusing it is printed")  # fmt: skip
    attacker = Attacker(demo)
    items = set_the_scene(attacker)
    escrow, lines = attacker["OrderEscrow"], attacker["CreditLines"]
    registry = attacker["ProductRegistry"]
    mug = items["mug"]

    # (1) A decoy: Northwind's mug listed with a recalled item of Mallory's own shop, so that a
    # recall refund would later return the whole price.
    decoy = terms(attacker, MALLORY.address, MERCHANT_ADDRESS, [mug, items["decoy"]], 10**17)
    attacker.tried("(1) Mallory orders Northwind's mug with a recalled item of her own shop as a "
                   "decoy, to claim a recall refund after delivery",
                   escrow.functions.open(decoy), MALLORY, value=10**17)  # fmt: skip

    # (2) Credit cashed out: an order to her second wallet, then to her own shop.
    dusd = attacker["DevStablecoin"].address
    credit = {"payer": lines.address, "token": dusd}
    pocket = terms(attacker, MALLORY.address, POCKET.address, [mug], 300 * DUSD, **credit)
    attacker.tried("(2) Mallory draws 300 dUSD of credit into an 'order' paying her second wallet",
                   lines.functions.drawToOrder(pocket), MALLORY)  # fmt: skip
    own = terms(attacker, MALLORY.address, SHOP.address, [items["gadget"]], 300 * DUSD, **credit)
    attacker.tried("(2) Mallory draws 300 dUSD of credit into an order from her own shop",
                   lines.functions.drawToOrder(own), MALLORY)  # fmt: skip

    # (3) A throwaway 1-wei order between two throwaway addresses, to stamp a sale on a genuine
    # serial of Northwind's (and pad the fake shop's seller record).
    fake = terms(attacker, THROWAWAY_BUYER.address, THROWAWAY_SHOP.address, [mug], 1)
    attacker.tried("(3) a throwaway address opens a 1-wei order with another, naming Northwind's "
                   "mug, to record a fake sale of it",
                   escrow.functions.open(fake), THROWAWAY_BUYER, value=1)  # fmt: skip

    _squatting(attacker, registry)
    held_order = _held(attacker, mug)
    _early_exit(attacker)
    _one_key(attacker, demo, held_order, mug)
    _admin_handover(attacker, registry)
    sys.stdout.write(
        f"  {attacker.step} attempts, every one refused by the contracts or, for what "
        "only the service can tell apart, by the service\n"
    )


def _squatting(attacker: Attacker, registry: Any) -> None:
    """(4) Mallory's shop registers the brand's next GS1 serial, and commits a Northwind SKU id
    in a batch of its own to activate it."""
    gs1 = item_key(IdScheme.GS1, BRAND_GTIN, "LOT2026-1001")
    attacker.tried(f"(4) Mallory's shop registers the brand's next serial, GTIN {BRAND_GTIN} "
                   "serial LOT2026-1001, before the brand does",
                   registry.functions.registerItem(gs1, keccak(text="fake"), ""), SHOP)  # fmt: skip
    stolen_key = _sku("MUG-01", "0003")
    stolen = item_id_of_key(MERCHANT_ADDRESS, IdScheme.SKU, "MUG-01", "0003")
    own = item_id_of_key(SHOP.address, IdScheme.SKU, "GADGET-9", "3")
    meta = keccak(text="batch metadata")
    leaves = [registry.functions.batchLeaf(item, meta).call() for item in (stolen, own)]
    root = keccak(b"".join(sorted(leaves)))
    attacker.send(registry.functions.registerBatch(root, 2, meta, ""), SHOP)
    attacker.tried("(4) Mallory's shop puts Northwind's id of MUG-01/0003 in a batch of its own "
                   "and activates it",
                   registry.functions.activateBatchItem(root, stolen_key, meta, [leaves[1]]),
                   SHOP)  # fmt: skip


def _held(attacker: Attacker, mug: bytes) -> str:
    """(5) A buyer's open order holds the mug (handed to carrier 1); Mallory orders it too.
    Returns the holding order's id."""
    escrow = attacker["OrderEscrow"]
    held = terms(attacker, BUYER.address, MERCHANT_ADDRESS, [mug], 5 * 10**16)
    attacker.send(escrow.functions.open(held), BUYER, value=5 * 10**16)
    attacker.send(escrow.functions.assignCarrier(held, CARRIER_ID), MERCHANT)
    order_id = "0x" + bytes(escrow.functions.orderIdOf(held).call()).hex()
    second = terms(attacker, MALLORY.address, MERCHANT_ADDRESS, [mug], 5 * 10**16)
    attacker.tried("(5) while a buyer's open order holds the mug, Mallory opens a second order "
                   "for it, to be sold the same serial",
                   escrow.functions.open(second), MALLORY, value=5 * 10**16)  # fmt: skip
    return order_id


def _early_exit(attacker: Attacker) -> None:
    """(6) The lender claims its queued shares before the cooldown; after it, the claim pays the
    lower of their value at the request and now."""
    vault, demo = attacker["CreditVault"], attacker.demo
    shares, at_request, claimable_at = vault.functions.redeemRequestOf(LENDER.address).call()
    attacker.tried("(6) the lender claims its queued shares at once, ahead of the cooldown",
                   vault.functions.redeem(shares, LENDER.address, LENDER.address),
                   LENDER)  # fmt: skip
    demo.time_passes(max(claimable_at - attacker.now(), 0) + 60)
    worth_now = vault.functions.convertToAssets(shares).call()
    receipt = attacker.send(vault.functions.redeem(shares, LENDER.address, LENDER.address), LENDER)
    # The receipt also holds the stablecoin's Transfer logs, which the vault's ABI does not name.
    [withdrawn] = vault.events.Withdraw().process_receipt(receipt, errors=DISCARD)
    paid = int(withdrawn["args"]["assets"])
    sys.stdout.write(
        f"      after the cooldown the claim pays {_dusd(paid)}: the lower of their value at the "
        f"request ({_dusd(at_request)}) and now ({_dusd(worth_now)})\n"
    )


def _one_key(attacker: Attacker, demo: Demo, order_id: str, mug: bytes) -> None:
    """(7) One key does not do what two must: carrier 2 reports on carrier 1's order and writes
    on the trail of its item, and the service's attester key alone signs a top band for an
    accomplice."""
    [accepted] = demo.accepted(demo.rival_carrier, {
        "event_id": "rival-false-pod-1", "order_id": order_id, "action": "delivered",
        "occurred_at": minutes_ago(1), "reference": "POD forged",
    })  # fmt: skip
    relay = demo.settled(accepted["relay_id"], "the rival carrier's report")
    if relay["status"] != "failed":
        raise SystemExit(f"attack went through: carrier {RIVAL_CARRIER_ID}'s report {relay}")
    receipt = rpc(demo.rpc_url, "eth_getTransactionReceipt", [relay["tx_hash"]])
    [rejection] = rejections_in(receipt, attacker["OrderEscrow"].address)
    attacker.refused(
        f"(7) carrier {RIVAL_CARRIER_ID} reports 'delivered' (through the service) on an order "
        f"handed to carrier {CARRIER_ID}, to start its release clock",
        f"LogisticsUpdateRejected in tx {relay['tx_hash']}, {attacker.reason(rejection.reason)}",
    )
    # Custody events of every carrier go on chain under one oracle key: the service is the check.
    [refusal] = demo.rejected(demo.rival_carrier, {
        "event_id": "rival-trail-1", "item_id": "0x" + mug.hex(), "action": "in_transit",
        "occurred_at": minutes_ago(1), "location": "a back room", "reference": "planted stop",
    })  # fmt: skip
    attacker.refused(
        f"(7) carrier {RIVAL_CARRIER_ID} adds a stop to the trail of Northwind's mug, whose order "
        f"carrier {CARRIER_ID} carries (custody events all go on chain under the oracle's key)",
        f"by the service: {refusal['code']}, {refusal['message']}",
    )
    verifier = attacker["AttestationVerifier"]
    identity = identity_commitment("national id DE-A11000007", DEV_IDENTITY_KEY)
    attestation = _attestation(attacker, POCKET.address, identity).model_copy(update={"band": 3})
    domain = Domain(chain_id=attacker.w3.eth.chain_id, verifying_contract=verifier.address)
    signed = sign_all(attestation, domain, [ATTESTER], "trustmall-score-v3")
    attacker.tried("(7) a thief of the service's attester key signs the top band for Mallory's "
                   "second wallet, which applies with that one signature",
                   attacker["CreditLines"].functions.applyForCredit(*signed.abi_args()),
                   POCKET)  # fmt: skip


def _admin_handover(attacker: Attacker, registry: Any) -> None:
    """(8) A thief of the admin key hands the registry's admin role to Mallory at once; then
    tries the two steps, which the real admin sees and cancels."""
    attacker.tried("(8) a thief of the admin key grants Mallory the registry's admin role in one "
                   "step", registry.functions.grantRole(ADMIN_ROLE, MALLORY.address),
                   ADMIN)  # fmt: skip
    attacker.send(registry.functions.beginDefaultAdminTransfer(MALLORY.address), ADMIN)
    attacker.tried("(8) ... begins the two-step handover to Mallory, who accepts it at once",
                   registry.functions.acceptDefaultAdminTransfer(), MALLORY)  # fmt: skip
    attacker.send(registry.functions.cancelDefaultAdminTransfer(), ADMIN)
    sys.stdout.write("      (the admin saw DefaultAdminTransferScheduled and cancelled it)\n")


def _dusd(amount: int) -> str:
    return f"{amount / DUSD:,.2f} dUSD"
