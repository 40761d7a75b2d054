"""A refused call explained by the contract's own custom error: every script simulates its call
(``eth_call``) before sending and turns the revert into one line, the error's name and arguments
followed by a sentence (``EscrowHandedToCarrier(orderId=0x.., carrier=1): the order is with
carrier 1; ...``). The rules stay in the contracts; this module only reads their answers.

Errors are decoded against the ABIs of every contract of the suite (``app.chain.reverts``), so an
error raised by a contract the call reaches through another (the registry's
``RegistryItemHeld`` when the escrow opens an order) is named as well.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak

from app.chain.reverts import Revert, RevertDecoder, revert_data
from app.domain.abi_types import hex32
from app.domain.vocab import LineStatus, OrderStatus, Verdict
from scripts._lib.units import format_time

# Contracts whose errors a script's call may meet (the suite, and the test stablecoins' ERC-20).
ERROR_SOURCES = (
    "ProductRegistry",
    "OrderEscrow",
    "AttestationVerifier",
    "CreditVault",
    "CreditLines",
    "DevStablecoin",
)
# Errors whose `status` is a LineStatus; elsewhere `status` is an escrow OrderStatus.
LINE_STATUS_ERRORS = ("CreditLineFrozen", "CreditLineNotDefaulted")


@cache
def suite_decoder() -> RevertDecoder:
    from ape import project

    from scripts._lib.abi import abi_list

    return RevertDecoder(abi_list(project.get_contract(n).contract_type) for n in ERROR_SOURCES)


ROLE_NAMES = {
    keccak(text=name): name
    for name in (
        "VERIFIER_ROLE",
        "ORACLE_ROLE",
        "ESCROW_ROLE",
        "ARBITER_ROLE",
        "FUNDER_ROLE",
        "CONSUMER_ROLE",
        "LINE_ROLE",
        "POLICY_ROLE",
        "RISK_ROLE",
        "MINTER_ROLE",
    )
} | {bytes(32): "DEFAULT_ADMIN_ROLE"}


def _role(value: Any) -> str:
    raw = bytes(value)
    return ROLE_NAMES.get(raw, "0x" + raw.hex())


def _bits(value: Any) -> str:
    bits = int(value)
    return ",".join(str(i) for i in range(32) if bits >> i & 1) or "none"


def _verdict(value: Any) -> str:
    return Verdict(int(value)).name.lower()


# One sentence per error, from its arguments: what the contract refused and what to do instead.
SENTENCES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    # Escrow: carriers, delivery, offers, recalls.
    "EscrowNoCarrier": lambda a: "name the carrier with a non-zero --carrier",
    "EscrowWrongCarrier": lambda a: (
        f"carrier {a['carrier']} may not report on this order: "
        + (f"its carrier is {a['assigned']}" if a["assigned"] else "no carrier is assigned yet")
    ),
    "EscrowHandedToCarrier": lambda a: (
        f"the order is with carrier {a['carrier']}: the buyer can no longer cancel (dispute "
        "once it arrives, or offer a settlement)"
    ),
    "EscrowDeliveryUnproven": lambda a: (
        f"the order is paid with credit: the merchant is paid only for items a carrier reported "
        f"delivered (or by a ruling), and items {_bits(a['undelivered'])} are not"
    ),
    "EscrowNotOfferMaker": lambda a: f"{a['caller']} has no pending offer of its own to withdraw",
    "EscrowOfferExpiry": lambda a: "an offer must expire in the future",
    "EscrowOfferExpired": lambda a: f"the offer expired at {format_time(int(a['expiresAt']))}",
    "EscrowNoMatchingOffer": lambda a: "no pending offer of the other side with that split",
    "EscrowItemNotRecalled": lambda a: (
        f"item {hex32(bytes(a['itemId']))} reads {_verdict(a['verdict'])}: only recalled or "
        "flagged items are refunded"
    ),
    "EscrowInvalidItems": lambda a: (
        f"items {_bits(a['items'])} are not open items of the order (released or refunded "
        "already, or out of range)"
    ),
    "EscrowShipByPassed": lambda a: (
        f"the ship-by deadline passed at {format_time(int(a['shipBy']))}"
    ),
    "EscrowShipByTooFar": lambda a: (
        f"the ship-by deadline may lie at most until {format_time(int(a['latest']))} (the "
        "admin's horizon): choose an earlier --ship-by"
    ),
    "EscrowReleaseTooEarly": lambda a: (
        f"the dispute window runs until {format_time(int(a['releasableAt']))}"
    ),
    "EscrowInvalidStatus": lambda a: f"the order is {OrderStatus(int(a['status'])).name.lower()}",
    "EscrowOrderNotFound": lambda a: "no such order on this escrow",
    "EscrowDisputeWindowClosed": lambda a: (
        f"the dispute window closed at {format_time(int(a['closedAt']))}"
    ),
    "EscrowItemsNotDelivered": lambda a: (
        f"items {_bits(a['items'])} are not reported delivered: only the buyer may release them"
    ),
    "EscrowNotParty": lambda a: f"{a['caller']} is neither the buyer nor the merchant",
    "EscrowNotBuyer": lambda a: f"{a['caller']} is not the order's buyer",
    "EscrowNotMerchant": lambda a: f"{a['caller']} is not the order's merchant",
    # Registry: items bound to their merchant, GS1 prefixes, holds.
    "RegistryItemNotOfMerchant": lambda a: (
        f"item {hex32(bytes(a['itemId']))} is not an item of merchant {a['merchant']}"
    ),
    "RegistryItemNotAuthentic": lambda a: (
        f"item {hex32(bytes(a['itemId']))} reads {_verdict(a['verdict'])}, not authentic"
    ),
    "RegistryItemHeld": lambda a: (
        f"item {hex32(bytes(a['itemId']))} is held by another open order, or already sold"
    ),
    "RegistryGs1PrefixNotGranted": lambda a: (
        f"no verifier granted {a['merchant']} the GS1 company prefix of GTIN {a['gtin']} "
        "(`ape run merchant grant-prefix PREFIX MERCHANT`)"
    ),
    "RegistryGs1PrefixTaken": lambda a: (
        f"prefix {a['prefix']} is, or lies inside, a prefix merchant {a['holder']} holds"
    ),
    "RegistryGs1PrefixNotHeld": lambda a: f"nobody holds prefix {a['prefix']}",
    "RegistryInvalidGs1Prefix": lambda a: f"{a['prefix']!r} is not a GS1 prefix of 4-12 digits",
    "RegistryReassignTarget": lambda a: (
        f"{a['to']} is not another approved merchant to move the item to"
    ),
    "RegistryMerchantUnknown": lambda a: f"{a['merchant']} is not an approved merchant",
    "RegistryItemNotRegistered": lambda a: f"item {hex32(bytes(a['itemId']))} has no record",
    "RegistryBatchNotRegistered": lambda a: f"batch {hex32(bytes(a['root']))} is not registered",
    "RegistryInvalidProof": lambda a: (
        f"the proof does not place item {hex32(bytes(a['itemId']))} in the batch under its "
        "merchant (another merchant's id, or a wrong key, metadata hash or proof)"
    ),
    "RegistryItemAlreadyRegistered": lambda a: (
        f"item {hex32(bytes(a['itemId']))} is registered already"
    ),
    "RegistryMerchantNotActive": lambda a: f"{a['merchant']} is not an active merchant",
    "RegistryActionNotAllowed": lambda a: (
        "the logistics oracle may not record a sale: sales come from the merchant or the escrow"
    ),
    # Credit: identities, purchases, the cap on new credit, the vault's queue.
    "CreditMerchantIsBorrower": lambda a: (
        f"merchant {a['merchant']} is owned by the borrower {a['borrower']} (the same identity): "
        "credit does not pay one's own shop"
    ),
    "CreditMerchantNotActive": lambda a: (
        f"merchant {a['merchant']} is not an active merchant in the registry"
    ),
    "CreditOrderWithoutItems": lambda a: (
        "credit pays only for registry items of the merchant: name them with --item-id"
    ),
    "CreditPeriodCapReached": lambda a: (
        f"new credit of all lines is capped at {a['cap']} base units per window, "
        f"{a['drawnInWindow']} drawn already; the next window opens at "
        f"{format_time(int(a['windowEndsAt']))}"
    ),
    "CreditPoolRedeemOnly": lambda a: (
        "the pool pays lenders through its queue: `lender request-redeem`, then `lender claim`"
    ),
    "CreditPoolNotClaimable": lambda a: (
        f"{a['claimableShares']} share units are claimable now, not {a['shares']}; queued "
        f"shares become claimable at {format_time(int(a['claimableAt']))}"
        if int(a["claimableAt"])
        else "nothing is queued for this controller: `lender request-redeem` first"
    ),
    "CreditPoolInsufficientLiquidity": lambda a: (
        f"the pool holds {a['idle']} base units idle, less than {a['requested']}"
    ),
    "AttestationMissingIdentity": lambda a: "the attestation carries no identity commitment",
    "AttestationQuorumNotMet": lambda a: (
        f"{a['signatures']} of the {a['quorum']} attester signatures the verifier wants: add "
        "the others with `ape run bureau cosign ATTESTATION_FILE --account ...`"
    ),
    "AttestationUnknownAttester": lambda a: f"{a['signer']} is not an attester of the verifier",
    # OpenZeppelin's access control and pause.
    "AccessControlUnauthorizedAccount": lambda a: (
        f"{a['account']} does not hold {_role(a['neededRole'])}"
    ),
    "EnforcedPause": lambda a: "the contract is paused",
}


def _shown(error: str, key: str, value: Any) -> str:
    if key == "status":
        kind = LineStatus if error in LINE_STATUS_ERRORS else OrderStatus
        return kind(int(value)).name.lower()
    if key == "verdict":
        return _verdict(value)
    if key == "neededRole":
        return _role(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return str(value)


def _checksummed(value: Any) -> Any:
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    return value


def explain(revert: Revert) -> str:
    """``Name(key=value, ...)``, then ``: sentence`` when the error has one."""
    if revert.name == "Unknown":
        return f"revert data {revert.data}"
    revert = Revert(revert.name, {k: _checksummed(v) for k, v in revert.args.items()}, revert.data)
    args = ", ".join(f"{k}={_shown(revert.name, k, v)}" for k, v in revert.args.items())
    text = f"{revert.name}({args})"
    sentence = SENTENCES.get(revert.name)
    if sentence is not None:
        # Arguments the ABI decoded otherwise than the sentence expects: the name stands alone.
        with contextlib.suppress(KeyError, ValueError, TypeError):
            text += ": " + sentence(revert.args)
    return text


def explain_data(data: bytes | str | None) -> str:
    return explain(suite_decoder().decode(data))


def refusal_of(method: Any, *args: Any, sender: str | None = None, value: int = 0) -> str | None:
    """Runs an Ape contract method's call with ``eth_call`` (nothing is sent); returns the
    contract's refusal explained, or None when it would go through.

    Goes to the node through web3 rather than Ape, which does not decode errors raised by another
    contract than the one called and prints call traces.
    """
    from ape import chain
    from web3.exceptions import ContractLogicError, Web3RPCError

    call: dict[str, Any] = {
        "to": str(method.contract.address),
        "data": "0x" + bytes(method.encode_input(*args)).hex(),
    }
    if sender is not None:
        call["from"] = sender
    if value:
        call["value"] = value
    try:
        chain.provider.web3.eth.call(call)
    except ContractLogicError as exc:
        data = revert_data(exc)
        return explain_data(data) if data else str(exc.message or exc)
    except (Web3RPCError, ValueError) as exc:  # the node refuses: e.g. too little ETH for value
        return f"the node refused the call: {exc}"
    return None
