"""Credit-score attestations: what a bureau signs for the AttestationVerifier, and how.

An attestation says that a borrower's score falls in a policy *band* (never the raw score). It is
EIP-712 typed data (contracts/common/IAttestationVerifier.sol)::

    domain  {name: "TrustMall Credit Attestations", version: "1", chainId, verifyingContract}
    CreditAttestation(address borrower,bytes32 identityHash,uint8 band,bytes32 modelId,
                      bytes32 reportHash,uint40 issuedAt,uint40 expiresAt,uint256 nonce,
                      uint64 attesterSetVersion)

``identityHash`` is the borrower's identity commitment (:mod:`app.domain.identity`): the same keyed
hash a verifier records for a merchant's owner, so the credit lines bind one identity to one line
and refuse to pay a shop the borrower owns.

``attesterSetVersion`` is the verifier's ``attesterSetVersion()`` when the bureau signs: any change
to the attester set or quorum bumps it and voids every signature made before. Signatures go to the
contract ascending by signer address (:func:`ordered_signatures`).

What reaches the chain of the off-chain report is only ``reportHash``, a salted commitment
(:func:`report_commitment`): ``keccak256(salt || canonical_json(report))`` with a 32-byte random
salt kept beside the report, so that nobody can confirm a guessed report from the hash alone.

Score bands: the policy's tiers carry no score bounds on chain (a tier is limit, APR, term, grace,
late fee), so the mapping from a raw score to a band is this module's table,
:data:`SCORE_BAND_FLOORS`, on the common 300-850 scale:

    ======  ===========  =====================================================
    band    scores       default policy (scripts/_lib/policy.py)
    ======  ===========  =====================================================
    0       300-579      below the policy's minimum band: denied
    1       580-669      starter line
    2       670-739      standard line
    3       740-850      premium line
    ======  ===========  =====================================================

Pure Python (eth_account, pydantic): the scripts, the tests and the service share it.
"""

from __future__ import annotations

import re
import secrets
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any, Literal

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field

from app.domain.abi_types import Address, Bytes32, Signature, Uint256, bytes32_hex, hex32
from app.domain.metadata import canonical_json

DOMAIN_NAME = "TrustMall Credit Attestations"
DOMAIN_VERSION = "1"
PRIMARY_TYPE = "CreditAttestation"
ATTESTATION_FIELDS: tuple[tuple[str, str], ...] = (
    ("borrower", "address"),
    ("identityHash", "bytes32"),
    ("band", "uint8"),
    ("modelId", "bytes32"),
    ("reportHash", "bytes32"),
    ("issuedAt", "uint40"),
    ("expiresAt", "uint40"),
    ("nonce", "uint256"),
    ("attesterSetVersion", "uint64"),
)
EIP712_DOMAIN_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
)
SALT_BYTES = 32

# The score scale and the lowest score of each band (see the module's table).
SCORE_MIN = 300
SCORE_MAX = 850
SCORE_BAND_FLOORS: tuple[int, ...] = (300, 580, 670, 740)


# ---------------------------------------------------------------------------------------- types


# A scoring model's name: 1-128 printable ASCII characters, spaces inside only. The name is
# hashed as given, so it is refused rather than trimmed: " v3" and "v3" would be two models.
# Printable ASCII reads the same to every regex engine (Python's, Rust's and ECMA's ``\s`` differ
# on characters such as NEL), so the documented pattern is exactly this rule.
MODEL_NAME_MAX_LENGTH = 128
MODEL_NAME_PATTERN = rf"^[!-~](?:[ -~]{{0,{MODEL_NAME_MAX_LENGTH - 2}}}[!-~])?$"
_MODEL_NAME = re.compile(MODEL_NAME_PATTERN)


def model_id_of(model: str) -> str:
    """The bytes32 ``modelId`` of a scoring model: a 0x-hex id as given, else keccak256 of its
    name (``"trustmall-score-v3"``), a name as :data:`MODEL_NAME_PATTERN` allows."""
    if model.startswith("0x") and len(model) == 66:
        return bytes32_hex(model)
    if not _MODEL_NAME.fullmatch(model):
        raise ValueError(
            "a scoring model is a 0x bytes32 id or a name of 1-128 printable ASCII characters"
            " with no space at either end"
        )
    return hex32(keccak(text=model))


class Attestation(BaseModel):
    """IAttestationVerifier.Attestation, in ABI order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    borrower: Address
    identity_hash: Bytes32
    band: int = Field(ge=0, lt=2**8)
    model_id: Bytes32
    report_hash: Bytes32
    issued_at: int = Field(ge=0, lt=2**40)
    expires_at: int = Field(ge=0, lt=2**40)
    nonce: Uint256
    attester_set_version: int = Field(ge=0, lt=2**64)

    def as_abi(self) -> tuple[Any, ...]:
        """The tuple a contract call takes."""
        return (
            self.borrower,
            bytes.fromhex(self.identity_hash[2:]),
            self.band,
            bytes.fromhex(self.model_id[2:]),
            bytes.fromhex(self.report_hash[2:]),
            self.issued_at,
            self.expires_at,
            self.nonce,
            self.attester_set_version,
        )

    def message(self) -> dict[str, Any]:
        """The EIP-712 message (Solidity field names)."""
        values = self.as_abi()
        return {name: value for (name, _), value in zip(ATTESTATION_FIELDS, values, strict=True)}

    @classmethod
    def from_abi(cls, values: Sequence[Any] | Mapping[str, Any]) -> Attestation:
        """From a decoded ABI tuple (an event's ``attestation``), in ABI order or by field name."""
        if isinstance(values, Mapping):
            values = [values[name] for name, _ in ATTESTATION_FIELDS]
        borrower, identity, band, model_id, report_hash, issued, expires, nonce, version = values
        return cls(
            borrower=str(borrower),
            identity_hash=hex32(bytes(identity)),
            band=int(band),
            model_id=hex32(bytes(model_id)),
            report_hash=hex32(bytes(report_hash)),
            issued_at=int(issued),
            expires_at=int(expires),
            nonce=int(nonce),
            attester_set_version=int(version),
        )


class Domain(BaseModel):
    """The verifier's EIP-712 domain: bound to the chain and the verifier contract."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chain_id: int = Field(ge=1)
    verifying_contract: Address
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION


def _types(fields: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "type": kind} for name, kind in fields]


def typed_data(attestation: Attestation, domain: Domain) -> dict[str, Any]:
    """The full EIP-712 message, for ``encode_typed_data(full_message=...)`` or a wallet's
    ``eth_signTypedData_v4``."""
    return {
        "types": {
            "EIP712Domain": _types(EIP712_DOMAIN_FIELDS),
            PRIMARY_TYPE: _types(ATTESTATION_FIELDS),
        },
        "primaryType": PRIMARY_TYPE,
        "domain": {
            "name": domain.name,
            "version": domain.version,
            "chainId": domain.chain_id,
            "verifyingContract": domain.verifying_contract,
        },
        "message": attestation.message(),
    }


def typed_data_json(attestation: Attestation, domain: Domain) -> dict[str, Any]:
    """:func:`typed_data` as JSON can carry it, for a wallet or another service to sign: bytes as
    0x-hex, integers past 2**53 as decimal text (JavaScript numbers would round them). Signing it
    gives the same signature."""
    message: dict[str, Any] = {}
    for name, value in attestation.message().items():
        if isinstance(value, bytes):
            message[name] = "0x" + value.hex()
        elif isinstance(value, int) and value >= 2**53:
            message[name] = str(value)
        else:
            message[name] = value
    return {**typed_data(attestation, domain), "message": message}


def digest(attestation: Attestation, domain: Domain) -> bytes:
    """The EIP-712 digest attesters sign (the verifier's ``digestOf``)."""
    signable = encode_typed_data(full_message=typed_data(attestation, domain))
    return bytes(keccak(b"\x19" + signable.version + signable.header + signable.body))


def sign(attestation: Attestation, domain: Domain, account: LocalAccount) -> str:
    """An attester's 65-byte signature (r, s, v; low s) of the attestation, as 0x-hex."""
    signable = encode_typed_data(full_message=typed_data(attestation, domain))
    return "0x" + bytes(account.sign_message(signable).signature).hex()


def recover(attestation: Attestation, domain: Domain, signature: str) -> str:
    """The address that made ``signature`` over the attestation."""
    signable = encode_typed_data(full_message=typed_data(attestation, domain))
    return str(Account.recover_message(signable, signature=bytes.fromhex(signature[2:])))


def ordered_signatures(
    attestation: Attestation, domain: Domain, signatures: Iterable[str]
) -> list[str]:
    """Signatures ascending by signer address, as the verifier wants them (duplicates kept: the
    contract refuses them, with the index)."""
    return sorted(signatures, key=lambda s: int(recover(attestation, domain, s), 16))


class SignedAttestation(BaseModel):
    """What a bureau hands the borrower (``ape run bureau attest`` writes it as JSON, version 1)::

        {"version": 1, "domain": {...}, "attestation": {...}, "signatures": ["0x..."],
         "signers": ["0x..."], "model": "trustmall-score-v3"}

    ``signatures`` ascend by signer; ``signers`` name them in the same order (for people: the
    contract recovers them itself).
    """

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    domain: Domain
    attestation: Attestation
    signatures: list[Signature]
    signers: list[Address] = Field(default_factory=list)
    model: str | None = None

    def abi_args(self) -> tuple[tuple[Any, ...], list[bytes]]:
        """``(attestation, signatures)`` as ``applyForCredit`` and ``verify`` take them."""
        return self.attestation.as_abi(), [bytes.fromhex(s[2:]) for s in self.signatures]


def sign_all(
    attestation: Attestation, domain: Domain, accounts: Iterable[LocalAccount], model: str | None
) -> SignedAttestation:
    """Signatures of every account, ordered by signer: a ready-to-submit attestation."""
    by_signer = sorted(accounts, key=lambda a: int(a.address, 16))
    return SignedAttestation(
        domain=domain,
        attestation=attestation,
        signatures=[sign(attestation, domain, a) for a in by_signer],
        signers=[a.address for a in by_signer],
        model=model,
    )


# ---------------------------------------------------------------------------------------- bands


def band_for_score(
    score: int, tiers: int | None = None, floors: Sequence[int] = SCORE_BAND_FLOORS
) -> int:
    """The band a raw score falls in: the highest band whose floor the score reaches.

    ``floors`` are the lowest scores of bands 0, 1, 2, ... (ascending; the first is the scale's
    minimum). ``tiers``, the number of tiers of the policy in force, caps the band at its top
    tier, so a score above the policy's best band still gets the best terms. Scores off the
    300-850 scale (or below the first floor) are refused.
    """
    if not floors or any(b <= a for a, b in pairwise(floors)):
        raise ValueError("band floors must be strictly ascending")
    if not floors[0] <= score <= SCORE_MAX:
        raise ValueError(f"score {score} is off the {floors[0]}-{SCORE_MAX} scale")
    band = bisect_right(floors, score) - 1
    if tiers is not None:
        if tiers < 1:
            raise ValueError("a policy has at least one tier")
        band = min(band, tiers - 1)
    return band


# ---------------------------------------------------------------------------------------- report


def new_salt() -> bytes:
    """A fresh random salt for a report commitment."""
    return secrets.token_bytes(SALT_BYTES)


def report_commitment(report: Any, salt: bytes) -> bytes:
    """``keccak256(salt || canonical_json(report))``: the ``reportHash`` an attestation carries.

    The salt (32 random bytes, kept with the report) hides the report: without it, the hash does
    not let anyone test a guessed report. Canonical JSON (RFC 8785) makes the bytes the same in
    any language.
    """
    if len(salt) != SALT_BYTES:
        raise ValueError(f"the salt must be {SALT_BYTES} bytes, not {len(salt)}")
    return bytes(keccak(bytes(salt) + canonical_json(report)))
