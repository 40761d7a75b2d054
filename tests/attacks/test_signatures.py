"""Signed messages cannot be replayed across chains or contracts, nor reshaped.

Credit attestations are EIP-712 messages bound to the chain id and the verifier's address, and
carry the borrower's identity commitment; the verifier wants two attesters' signatures (the
service's and the bureau's cosigner's), ascending by signer. The stablecoin's EIP-2612 permits
are bound likewise. A signature made for another chain id (the same message under another domain)
or for another deployment of the same contract recovers some other address and is refused. A
high-s copy of a valid signature (ECDSA malleability) and its 64-byte compact form are refused
too; each attack is paired with the genuine signatures passing, so the refusal is the domain or
the signature's form, nothing else.
"""

from __future__ import annotations

import itertools
from typing import Any

import ape
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from app.domain.abi_types import hex32
from app.domain.attestations import Attestation, Domain, recover, sign
from harness.permits import sign_permit, vrs
from tests.attacks.conftest import (
    ATTESTER,
    COSIGNER,
    QUORUM,
    USD,
    Actors,
    Suite,
    identity_of,
    now_of,
)
from tests.contracts.escrow.helpers import DAY

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
OTHER_CHAIN = 1
_nonces = itertools.count(1)


def _attestation(provider: Any, borrower: str, version: int) -> Attestation:
    now = now_of(provider)
    return Attestation(
        borrower=borrower,
        identity_hash=hex32(identity_of(f"borrower {borrower}")),
        band=2,
        model_id=hex32(keccak(text="model v3")),
        report_hash=hex32(keccak(text=f"report {next(_nonces)}")),
        issued_at=now - 60,
        expires_at=now + 30 * DAY,
        nonce=next(_nonces),
        attester_set_version=version,
    )


def _abi(attestation: Attestation) -> tuple[Any, ...]:
    return attestation.as_abi()


def _domain(verifier: Any, chain_id: int = 1337) -> Domain:
    return Domain(chain_id=chain_id, verifying_contract=verifier.address)


def _bytes(signature: str) -> bytes:
    return bytes.fromhex(signature.removeprefix("0x"))


def _signatures(attestation: Attestation, domain: Domain) -> list[bytes]:
    """Both attesters' signatures under `domain`, ascending by signer as the verifier wants."""
    signers = sorted((ATTESTER, COSIGNER), key=lambda a: int(a.address, 16))
    return [_bytes(sign(attestation, domain, signer)) for signer in signers]


@pytest.fixture
def second_verifier(project_: Any, actors: Actors) -> Any:
    """Another deployment of the verifier trusting the same attesters (a staging copy, say)."""
    return project_.AttestationVerifier.deploy(
        actors.admin.address, [ATTESTER.address, COSIGNER.address], QUORUM, sender=actors.admin
    )


def test_attestation_signed_for_another_chain_is_refused(
    suite: Suite, actors: Actors, provider: Any
) -> None:
    verifier = suite.verifier
    attestation = _attestation(provider, actors.buyer.address, int(verifier.attesterSetVersion()))
    genuine = _signatures(attestation, _domain(verifier))
    foreign = _signatures(attestation, _domain(verifier, OTHER_CHAIN))
    recovered = recover(attestation, _domain(verifier), "0x" + foreign[0].hex())

    assert bytes(verifier.verify(_abi(attestation), genuine)) == bytes(
        verifier.digestOf(_abi(attestation))
    )
    assert recovered not in (ATTESTER.address, COSIGNER.address)
    with ape.reverts(verifier.AttestationUnknownAttester, index=0, signer=recovered):
        verifier.verify(_abi(attestation), foreign)


def test_attestation_signed_for_another_verifier_is_refused_there_and_here(
    suite: Suite, actors: Actors, provider: Any, second_verifier: Any
) -> None:
    here = suite.verifier
    attestation = _attestation(provider, actors.buyer.address, int(here.attesterSetVersion()))
    assert int(second_verifier.attesterSetVersion()) == attestation.attester_set_version
    for_second = _signatures(attestation, _domain(second_verifier))
    for_here = _signatures(attestation, _domain(here))

    second_verifier.verify(_abi(attestation), for_second)
    here.verify(_abi(attestation), for_here)
    with ape.reverts(here.AttestationUnknownAttester, index=0):
        here.verify(_abi(attestation), for_second)
    with ape.reverts(second_verifier.AttestationUnknownAttester, index=0):
        second_verifier.verify(_abi(attestation), for_here)


def test_consumed_attestation_cannot_be_spent_again(
    suite: Suite, actors: Actors, provider: Any
) -> None:
    verifier = suite.verifier
    verifier.grantRole(verifier.CONSUMER_ROLE(), actors.stranger.address, sender=actors.admin)
    attestation = _attestation(provider, actors.buyer.address, int(verifier.attesterSetVersion()))
    signatures = _signatures(attestation, _domain(verifier))

    verifier.consume(_abi(attestation), signatures, sender=actors.stranger)

    assert verifier.isNonceUsed(attestation.nonce)
    with ape.reverts(verifier.AttestationNonceUsed, nonce=attestation.nonce):
        verifier.consume(_abi(attestation), signatures, sender=actors.stranger)
    verifier.revokeRole(verifier.CONSUMER_ROLE(), actors.stranger.address, sender=actors.admin)


def test_high_s_copy_of_a_valid_attestation_signature_is_refused(
    suite: Suite, actors: Actors, provider: Any
) -> None:
    verifier = suite.verifier
    attestation = _attestation(provider, actors.buyer.address, int(verifier.attesterSetVersion()))
    signatures = _signatures(attestation, _domain(verifier))
    for index, signature in enumerate(signatures):
        r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
        malleated = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
        # The copy is a valid secp256k1 signature by the same key: only the low-s rule refuses it.
        signer = recover(attestation, _domain(verifier), "0x" + signature.hex())
        assert recover(attestation, _domain(verifier), "0x" + malleated.hex()) == signer
        reshaped = [*signatures[:index], malleated, *signatures[index + 1 :]]

        verifier.verify(_abi(attestation), signatures)
        with ape.reverts(verifier.AttestationMalleableSignature, index=index):
            verifier.verify(_abi(attestation), reshaped)


def test_compact_64_byte_form_of_a_valid_signature_is_refused(
    suite: Suite, actors: Actors, provider: Any
) -> None:
    verifier = suite.verifier
    attestation = _attestation(provider, actors.buyer.address, int(verifier.attesterSetVersion()))
    first, second = _signatures(attestation, _domain(verifier))
    r, s, v = second[:32], int.from_bytes(second[32:64], "big"), second[64]
    compact = r + ((v - 27) << 255 | s).to_bytes(32, "big")  # EIP-2098

    with ape.reverts(verifier.AttestationInvalidSignature, index=1):
        verifier.verify(_abi(attestation), [first, compact])


def test_one_attesters_signature_alone_or_twice_does_not_meet_the_quorum(
    suite: Suite, actors: Actors, provider: Any
) -> None:
    """A thief of one attester key: its signature alone is short of the quorum of 2, and the
    same signature given twice is refused as not ascending (one key never counts twice)."""
    verifier = suite.verifier
    attestation = _attestation(provider, actors.buyer.address, int(verifier.attesterSetVersion()))
    signature = _bytes(sign(attestation, _domain(verifier), ATTESTER))

    with ape.reverts(verifier.AttestationQuorumNotMet, signatures=1, quorum=QUORUM):
        verifier.verify(_abi(attestation), [signature])
    with ape.reverts(verifier.AttestationSignersNotAscending, index=1, signer=ATTESTER.address):
        verifier.verify(_abi(attestation), [signature, signature])


# ------------------------------------------------------------------ EIP-2612 permits


def _permit(token: Any, owner: LocalAccount, spender: str, value: int, chain_id: int) -> bytes:
    nonce = int(token.nonces(owner.address))
    return sign_permit(
        owner,
        token=token.address,
        chain_id=chain_id,
        spender=spender,
        value=value,
        nonce=nonce,
        deadline=2**40,
    )


def test_stablecoin_permit_cannot_be_replayed_on_another_chain_or_deployment(
    suite: Suite, actors: Actors, project_: Any
) -> None:
    token = suite.stablecoin
    twin = project_.DevStablecoin.deploy(actors.admin.address, sender=actors.admin)
    owner: LocalAccount = Account.from_key(keccak(text="trustmall attacks: permit owner"))
    spender, value, deadline = actors.stranger.address, 50 * USD, 2**40

    for foreign in (
        _permit(twin, owner, spender, value, 1337),
        _permit(token, owner, spender, value, 1),
    ):
        with ape.reverts(token.ERC2612InvalidSigner):
            token.permit(
                owner.address, spender, value, deadline, *vrs(foreign), sender=actors.stranger
            )
    assert token.allowance(owner.address, spender) == 0

    genuine = _permit(token, owner, spender, value, 1337)
    token.permit(owner.address, spender, value, deadline, *vrs(genuine), sender=actors.stranger)
    assert token.allowance(owner.address, spender) == value
    with ape.reverts(token.ERC2612InvalidSigner):  # the nonce moved on: no second use here
        token.permit(owner.address, spender, value, deadline, *vrs(genuine), sender=actors.stranger)
