"""A merchant's signed request as the service checks it: its EIP-712 hash, computed from the fields
on the hot path, is the one the generic typed-data encoder (and so every wallet) signs; the signer
recovered is the key's, and a signature OpenZeppelin's ECDSA (the forwarder's) would refuse
recovers nobody."""

from __future__ import annotations

from eth_account import Account
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.forward_requests import SECP256K1_N, Domain, ForwardRequest, recover

addresses = st.binary(min_size=20, max_size=20).map(lambda raw: "0x" + raw.hex())
uint256 = st.integers(min_value=0, max_value=2**256 - 1)
requests = st.builds(
    ForwardRequest,
    sender=addresses,
    to=addresses,
    value=uint256,
    gas=uint256,
    nonce=uint256,
    deadline=st.integers(min_value=0, max_value=2**48 - 1),
    data=st.binary(max_size=300),
)
domains = st.builds(Domain, chain_id=st.integers(min_value=1, max_value=2**64), forwarder=addresses)
KEY = Account.from_key(keccak(text="forward request signer"))


@settings(max_examples=200, deadline=None)
@given(request=requests, domain=domains)
def test_the_digest_is_the_typed_data_encoders(request: ForwardRequest, domain: Domain) -> None:
    signable = request.signable(domain)
    assert request.digest(domain) == keccak(
        b"\x19" + signable.version + signable.header + signable.body
    )


@settings(max_examples=25, deadline=None)
@given(request=requests, domain=domains)
def test_the_signer_is_the_keys_and_a_malleable_or_zero_v_signature_recovers_nobody(
    request: ForwardRequest, domain: Domain
) -> None:
    signature = request.signed_by(KEY, domain)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])

    assert request.signer(domain, signature) == KEY.address
    # The same signature in forms ecrecover takes and OpenZeppelin's ECDSA refuses.
    assert request.signer(domain, twin) is None
    assert request.signer(domain, signature[:64] + bytes([v - 27])) is None
    assert request.signer(domain, signature[:64]) is None
    # Another domain, another signer.
    other = Domain(domain.chain_id + 1, domain.forwarder)
    assert request.signer(other, signature) != KEY.address


def test_a_signature_of_zeros_recovers_nobody() -> None:
    assert recover(bytes(32), bytes(64) + bytes([27])) is None
