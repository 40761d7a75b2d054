"""AttestationVerifier: EIP-712 digests, k-of-n quorum, freshness, replay and attester changes."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from tests.contracts.credit.helpers import DAY, Domain, malleate, reverts


@pytest.fixture
def quorum_verifier(project: Any, admin: Any, attesters: list[Any], lines: Any) -> Any:
    """A 2-of-3 verifier over the first three attesters."""
    return project.AttestationVerifier.deploy(
        admin, [a.address for a in attesters[:3]], 2, sender=admin
    )


@pytest.fixture
def quorum_domain(quorum_verifier: Any, chain: Any) -> Domain:
    return Domain(chain.chain_id, quorum_verifier.address)


def _signed_for(domain: Domain, signed: Any, signers: list[Any]) -> Any:
    signed.signatures = [domain.sign(signed.attestation, s.private_key) for s in signers]
    return signed


def test_digest_equals_eth_account_eip712_digest(
    attestations: Any, domain: Domain, attest: Any
) -> None:
    attestation = attest().attestation
    assert attestations.digestOf(attestation.as_abi()) == domain.digest(attestation)


def test_verify_accepts_attester_signature_and_returns_digest(
    attestations: Any, domain: Domain, attest: Any
) -> None:
    signed = attest()
    assert attestations.verify(*signed.args) == domain.digest(signed.attestation)


def test_verify_reverts_for_signature_of_non_attester(
    attestations: Any, attest: Any, outsider_signer: Any
) -> None:
    signed = attest(signers=[outsider_signer])
    with ape.reverts(
        attestations.AttestationUnknownAttester, index=0, signer=outsider_signer.address
    ):
        attestations.verify(*signed.args)


def test_verify_reverts_for_signature_over_other_data(attestations: Any, attest: Any) -> None:
    """A wrong signer: the attester's signature of band 1 does not vouch for band 3."""
    signed = attest(band=1)
    tampered = signed.attestation.but(band=3)
    with ape.reverts(attestations.AttestationUnknownAttester, index=0):
        attestations.verify(tampered.as_abi(), signed.signatures)


def test_verify_reverts_for_malformed_signature(attestations: Any, attest: Any) -> None:
    signed = attest()
    for bad in (b"\x01" * 65, signed.signatures[0][:64], b""):
        with ape.reverts(attestations.AttestationInvalidSignature, index=0):
            attestations.verify(signed.attestation.as_abi(), [bad])


def test_verify_reverts_for_malleated_high_s_signature(attestations: Any, attest: Any) -> None:
    signed = attest()
    high_s = malleate(signed.signatures[0])
    with ape.reverts(attestations.AttestationMalleableSignature, index=0):
        attestations.verify(signed.attestation.as_abi(), [high_s])


def test_apply_reverts_when_attestation_issued_in_the_future(
    lines: Any, attestations: Any, attest: Any, chain: Any, now: Any, borrower: Any
) -> None:
    issued = now() + DAY
    signed = attest(issued_at=issued)
    chain.pending_timestamp = now() + 10
    with reverts(
        attestations.AttestationNotYetValid,
        issuedAt=issued,
        expiresAt=issued + 7 * DAY,
        blockTime=chain.pending_timestamp,
    ):
        lines.applyForCredit(*signed.args, sender=borrower)


def test_apply_reverts_when_attestation_expired(
    lines: Any, attestations: Any, attest: Any, chain: Any, borrower: Any
) -> None:
    """An expired attestation can neither open a line nor raise one."""
    signed = attest(valid_for=DAY)
    expires = signed.attestation.expires_at
    chain.pending_timestamp = expires
    with reverts(attestations.AttestationExpired, expiresAt=expires, blockTime=expires):
        lines.applyForCredit(*signed.args, sender=borrower)


def test_verify_reverts_for_stale_attester_set_version(attestations: Any, attest: Any) -> None:
    current = int(attestations.attesterSetVersion())
    signed = attest(set_version=current - 1)
    with ape.reverts(
        attestations.AttestationSetVersionMismatch,
        signedVersion=current - 1,
        currentVersion=current,
    ):
        attestations.verify(*signed.args)


def test_consume_spends_nonce_and_refuses_replay(
    lines: Any, attestations: Any, attest: Any, borrower: Any
) -> None:
    signed = attest()
    lines.applyForCredit(*signed.args, sender=borrower)
    nonce = signed.attestation.nonce
    assert attestations.isNonceUsed(nonce)
    with reverts(attestations.AttestationNonceUsed, nonce=nonce):
        lines.applyForCredit(*signed.args, sender=borrower)
    with ape.reverts(attestations.AttestationNonceUsed, nonce=nonce):
        attestations.verify(*signed.args)


def test_consume_reverts_for_caller_without_consumer_role(
    attestations: Any, attest: Any, borrower: Any
) -> None:
    signed = attest()
    with ape.reverts(
        attestations.AccessControlUnauthorizedAccount,
        account=borrower.address,
        neededRole=attestations.CONSUMER_ROLE(),
    ):
        attestations.consume(*signed.args, sender=borrower)


def test_quorum_accepts_k_distinct_attesters_ascending(
    quorum_verifier: Any, quorum_domain: Domain, attest: Any, attesters: list[Any]
) -> None:
    version = int(quorum_verifier.attesterSetVersion())
    signed = _signed_for(quorum_domain, attest(set_version=version), attesters[:2])
    assert quorum_verifier.verify(*signed.args) == quorum_domain.digest(signed.attestation)
    signed_all = _signed_for(quorum_domain, attest(set_version=version), attesters[:3])
    assert quorum_verifier.verify(*signed_all.args) == quorum_domain.digest(signed_all.attestation)


def test_quorum_reverts_when_too_few_signatures(
    quorum_verifier: Any, quorum_domain: Domain, attest: Any, attesters: list[Any]
) -> None:
    version = int(quorum_verifier.attesterSetVersion())
    signed = _signed_for(quorum_domain, attest(set_version=version), attesters[:1])
    with ape.reverts(quorum_verifier.AttestationQuorumNotMet, signatures=1, quorum=2):
        quorum_verifier.verify(*signed.args)


def test_quorum_reverts_for_duplicate_signer(
    quorum_verifier: Any, quorum_domain: Domain, attest: Any, attesters: list[Any]
) -> None:
    """One stolen key cannot meet a quorum of two by signing twice."""
    version = int(quorum_verifier.attesterSetVersion())
    signed = _signed_for(quorum_domain, attest(set_version=version), [attesters[0]] * 2)
    with ape.reverts(
        quorum_verifier.AttestationSignersNotAscending, index=1, signer=attesters[0].address
    ):
        quorum_verifier.verify(*signed.args)


def test_quorum_reverts_for_signers_out_of_order(
    quorum_verifier: Any, quorum_domain: Domain, attest: Any, attesters: list[Any]
) -> None:
    version = int(quorum_verifier.attesterSetVersion())
    signed = _signed_for(quorum_domain, attest(set_version=version), [attesters[1], attesters[0]])
    with ape.reverts(
        quorum_verifier.AttestationSignersNotAscending, index=1, signer=attesters[0].address
    ):
        quorum_verifier.verify(*signed.args)


def test_quorum_reverts_when_one_of_the_signers_is_unknown(
    quorum_verifier: Any, quorum_domain: Domain, attest: Any, attesters: list[Any]
) -> None:
    version = int(quorum_verifier.attesterSetVersion())
    signers = sorted([attesters[0], attesters[4]], key=lambda a: int(a.address, 16))
    signed = _signed_for(quorum_domain, attest(set_version=version), signers)
    index = signers.index(attesters[4])
    with ape.reverts(
        quorum_verifier.AttestationUnknownAttester, index=index, signer=attesters[4].address
    ):
        quorum_verifier.verify(*signed.args)


def test_removed_attester_unused_attestation_stops_working(
    attestations: Any, domain: Domain, attest: Any, admin: Any, attesters: list[Any]
) -> None:
    attestations.addAttester(attesters[1], sender=admin)
    signed = _signed_for(domain, attest(), [attesters[1]])
    attestations.verify(*signed.args)
    signed_version = signed.attestation.attester_set_version
    tx = attestations.removeAttester(attesters[1], sender=admin)
    assert tx.events == [
        attestations.AttesterRemoved(attester=attesters[1].address, setVersion=signed_version + 1)
    ]
    with ape.reverts(
        attestations.AttestationSetVersionMismatch,
        signedVersion=signed_version,
        currentVersion=signed_version + 1,
    ):
        attestations.verify(*signed.args)
    # Re-signed under the new version, the removed attester is simply unknown.
    resigned = _signed_for(domain, attest(), [attesters[1]])
    with ape.reverts(attestations.AttestationUnknownAttester, index=0, signer=attesters[1].address):
        attestations.verify(*resigned.args)


def test_admin_manages_attesters_and_quorum_with_version_bumps(
    attestations: Any, admin: Any, attesters: list[Any], attester: Any
) -> None:
    version = int(attestations.attesterSetVersion())
    attestations.addAttester(attesters[2], sender=admin)
    assert attestations.isAttester(attesters[2])
    assert attestations.attesterCount() == 2
    tx = attestations.setQuorum(2, sender=admin)
    assert tx.events == [attestations.QuorumChanged(quorum=2, setVersion=version + 2)]
    assert attestations.quorum() == 2
    with ape.reverts(attestations.AttestationInvalidQuorum, quorum=2, attesterCount=1):
        attestations.removeAttester(attesters[2], sender=admin)
    with ape.reverts(attestations.AttestationInvalidQuorum, quorum=3, attesterCount=2):
        attestations.setQuorum(3, sender=admin)
    with ape.reverts(attestations.AttestationInvalidQuorum, quorum=0, attesterCount=2):
        attestations.setQuorum(0, sender=admin)
    with ape.reverts(attestations.AttestationAttesterExists, attester=attester.address):
        attestations.addAttester(attester, sender=admin)
    with ape.reverts(attestations.AttestationAttesterNotFound, attester=attesters[4].address):
        attestations.removeAttester(attesters[4], sender=admin)


def test_only_admin_manages_attesters(
    attestations: Any, borrower: Any, attesters: list[Any]
) -> None:
    with ape.reverts(attestations.AccessControlUnauthorizedAccount, account=borrower.address):
        attestations.addAttester(attesters[3], sender=borrower)
    with ape.reverts(attestations.AccessControlUnauthorizedAccount, account=borrower.address):
        attestations.setQuorum(1, sender=borrower)


def test_apply_through_lines_refuses_invalid_attestations(
    lines: Any, attestations: Any, attest: Any, borrower: Any, outsider_signer: Any
) -> None:
    """Invalid attestations are errors, not decisions: the application reverts."""
    unknown = attest(signers=[outsider_signer])
    with reverts(attestations.AttestationUnknownAttester, index=0, signer=outsider_signer.address):
        lines.applyForCredit(*unknown.args, sender=borrower)
    unsigned = attest(signers=[])
    with reverts(attestations.AttestationQuorumNotMet, signatures=0, quorum=1):
        lines.applyForCredit(*unsigned.args, sender=borrower)


def test_attestation_without_identity_is_refused(
    lines: Any, attestations: Any, attest: Any, borrower: Any
) -> None:
    """No identity commitment, no binding to one line per identity: an error, not a denial."""
    signed = attest(identity=bytes(32))
    with ape.reverts(attestations.AttestationMissingIdentity):
        attestations.verify(*signed.args)
    with reverts(attestations.AttestationMissingIdentity):
        lines.applyForCredit(*signed.args, sender=borrower)
    assert not attestations.isNonceUsed(signed.attestation.nonce)
    assert lines.lineOf(borrower).status == 0
