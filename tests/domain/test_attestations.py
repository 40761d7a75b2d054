"""app.domain.attestations: EIP-712 signing and recovery, score bands, report commitments.

That the digest equals the verifier contract's ``digestOf`` is tested on chain by the credit
contract tests; here the digest is checked against EIP-712 computed by hand with eth_abi.
"""

from __future__ import annotations

import json
import re

import jsonschema_rs
import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from app.domain.attestations import (
    MODEL_NAME_PATTERN,
    SCORE_BAND_FLOORS,
    SCORE_MAX,
    SCORE_MIN,
    Attestation,
    Domain,
    SignedAttestation,
    band_for_score,
    digest,
    model_id_of,
    new_salt,
    ordered_signatures,
    recover,
    report_commitment,
    sign,
    sign_all,
    typed_data,
    typed_data_json,
)
from app.domain.identity import DEV_IDENTITY_KEY, identity_commitment
from app.domain.metadata import canonical_json
from app.domain.vocab import DenialReason

VERIFIER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
BORROWER = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"
# Keys of the public test mnemonic (never real money).
KEYS = (
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
)
DOMAIN = Domain(chain_id=1337, verifying_contract=VERIFIER)
REPORT = {"bureau": "Example Credit Bureau", "score": 712, "accounts": [{"kind": "card"}]}


def attestation(**changes: object) -> Attestation:
    values: dict[str, object] = {
        "borrower": BORROWER,
        "identity_hash": "0x" + identity_commitment("CN91310000MA1K", DEV_IDENTITY_KEY).hex(),
        "band": 2,
        "model_id": model_id_of("trustmall-score-v3"),
        "report_hash": "0x" + keccak(text="report").hex(),
        "issued_at": 1_800_000_000,
        "expires_at": 1_800_604_800,
        "nonce": 7,
        "attester_set_version": 2,
    }
    values.update(changes)
    return Attestation.model_validate(values)


def hand_digest(a: Attestation, domain: Domain) -> bytes:
    """EIP-712 by the book: keccak256(0x1901 || domainSeparator || hashStruct(attestation))."""
    type_hash = keccak(
        text="CreditAttestation(address borrower,bytes32 identityHash,uint8 band,bytes32 modelId,"
        "bytes32 reportHash,uint40 issuedAt,uint40 expiresAt,uint256 nonce,"
        "uint64 attesterSetVersion)"
    )
    struct_hash = keccak(
        encode(
            ["bytes32", "address", "bytes32", "uint8", "bytes32", "bytes32", "uint40", "uint40",
             "uint256", "uint64"],
            [type_hash, *a.as_abi()],
        )
    )  # fmt: skip
    domain_type = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    separator = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                domain_type,
                keccak(text=domain.name),
                keccak(text=domain.version),
                domain.chain_id,
                domain.verifying_contract,
            ],
        )
    )
    return bytes(keccak(b"\x19\x01" + separator + struct_hash))


# ------------------------------------------------------------------ signing


def test_digest_equals_eip712_computed_by_hand() -> None:
    a = attestation()
    assert digest(a, DOMAIN) == hand_digest(a, DOMAIN)


def test_digest_is_bound_to_chain_contract_and_every_field() -> None:
    a = attestation()
    base = digest(a, DOMAIN)
    assert digest(a, Domain(chain_id=1, verifying_contract=VERIFIER)) != base
    assert digest(a, Domain(chain_id=1337, verifying_contract=BORROWER)) != base
    for change in (
        {"band": 3},
        {"nonce": 8},
        {"attester_set_version": 3},
        {"expires_at": 1_800_604_801},
        {"report_hash": "0x" + "11" * 32},
        {"identity_hash": "0x" + "22" * 32},
    ):
        assert digest(attestation(**change), DOMAIN) != base, change


def test_signature_recovers_its_signer_and_nobody_else_for_another_attestation() -> None:
    account = Account.from_key(KEYS[0])
    a = attestation()

    signature = sign(a, DOMAIN, account)

    assert len(bytes.fromhex(signature[2:])) == 65
    assert recover(a, DOMAIN, signature) == account.address
    assert recover(attestation(band=3), DOMAIN, signature) != account.address


@given(st.integers(min_value=0, max_value=2**256 - 1), st.integers(min_value=0, max_value=255))
def test_sign_and_recover_round_trip_for_any_nonce_and_band(nonce: int, band: int) -> None:
    account = Account.from_key(KEYS[1])
    a = attestation(nonce=nonce, band=band)
    assert recover(a, DOMAIN, sign(a, DOMAIN, account)) == account.address


def test_sign_all_orders_signatures_ascending_by_signer() -> None:
    accounts = [Account.from_key(k) for k in KEYS]
    a = attestation()

    signed = sign_all(a, DOMAIN, accounts, "trustmall-score-v3")

    signers = [recover(a, DOMAIN, s) for s in signed.signatures]
    assert signers == sorted(signers, key=lambda x: int(x, 16)) == signed.signers
    assert ordered_signatures(a, DOMAIN, reversed(signed.signatures)) == signed.signatures


def test_signed_attestation_survives_json_round_trip_with_uint256_nonce_as_text() -> None:
    a = attestation(nonce=2**255 + 1)
    signed = sign_all(a, DOMAIN, [Account.from_key(KEYS[0])], "m")

    text = signed.model_dump_json()

    assert f'"nonce":"{2**255 + 1}"' in text
    again = SignedAttestation.model_validate_json(text)
    assert again == signed
    assert again.abi_args() == (a.as_abi(), [bytes.fromhex(signed.signatures[0][2:])])


def test_typed_data_json_is_json_and_a_signature_of_it_recovers_for_the_attestation() -> None:
    account = Account.from_key(KEYS[2])
    a = attestation(nonce=2**255 + 1)

    carried = json.loads(json.dumps(typed_data_json(a, DOMAIN)))
    signature = account.sign_message(encode_typed_data(full_message=carried)).signature

    assert carried["message"]["nonce"] == str(2**255 + 1)
    assert carried["message"]["identityHash"] == a.identity_hash
    assert recover(a, DOMAIN, "0x" + bytes(signature).hex()) == account.address


def test_attestation_round_trips_through_its_abi_tuple() -> None:
    a = attestation()
    assert Attestation.from_abi(a.as_abi()) == a
    assert Attestation.from_abi(typed_data(a, DOMAIN)["message"]) == a


@pytest.mark.parametrize(
    "change",
    [
        {"band": 256},
        {"issued_at": 2**40},
        {"borrower": "0x1234"},
        {"model_id": "0x12"},
        {"identity_hash": "0x12"},
    ],
)
def test_attestation_rejects_values_outside_their_abi_types(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        attestation(**change)


def test_model_id_is_keccak_of_the_name_or_a_given_bytes32() -> None:
    assert model_id_of("trustmall-score-v3") == "0x" + keccak(text="trustmall-score-v3").hex()
    given_id = "0x" + "AB" * 32
    assert model_id_of(given_id) == given_id.lower()


# What a generated client (and the API fuzzer) holds a documented pattern to: ECMA-262 regex.
MODEL_NAMES = jsonschema_rs.Draft202012Validator({"type": "string", "pattern": MODEL_NAME_PATTERN})


@pytest.mark.parametrize(
    "name", ["", " v3", "v3 ", "\u0085", "v3\u0085", "\x1c", "模型-v3", "v3\n", "a" * 129]
)
def test_a_model_name_is_hashed_as_given_so_padding_and_non_ascii_are_refused(name: str) -> None:
    """The fuzzer's find: NEL (U+0085) is whitespace to Python's ``strip`` but not to ECMA's
    ``\\s``, so trimming refused a name the document admitted. Nothing is trimmed now."""
    assert not MODEL_NAMES.is_valid(name)
    with pytest.raises(ValueError, match="printable ASCII"):
        model_id_of(name)


@given(st.text(max_size=140) | st.from_regex(MODEL_NAME_PATTERN, fullmatch=True))
def test_the_documented_model_name_pattern_is_exactly_the_rule(name: str) -> None:
    taken = MODEL_NAMES.is_valid(name) and len(name) <= 128
    assert taken == bool(re.fullmatch(r"[!-~]([ -~]*[!-~])?", name) and len(name) <= 128)
    if name.startswith("0x") and len(name) == 66:
        return  # a bytes32 id, not a name
    if taken:
        assert model_id_of(name) == "0x" + keccak(text=name).hex()
    else:
        with pytest.raises(ValueError):
            model_id_of(name)


# ------------------------------------------------------------------ bands


@pytest.mark.parametrize(
    ("score", "band"),
    [(300, 0), (579, 0), (580, 1), (669, 1), (670, 2), (739, 2), (740, 3), (850, 3)],
)
def test_band_for_score_takes_the_highest_band_whose_floor_is_reached(
    score: int, band: int
) -> None:
    assert band_for_score(score) == band


@pytest.mark.parametrize("score", [SCORE_MIN - 1, SCORE_MAX + 1, -1])
def test_band_for_score_refuses_scores_off_the_scale(score: int) -> None:
    with pytest.raises(ValueError, match="off the"):
        band_for_score(score)


def test_band_for_score_caps_the_band_at_the_policys_top_tier() -> None:
    assert band_for_score(800, tiers=3) == 2
    assert band_for_score(800, tiers=len(SCORE_BAND_FLOORS)) == 3
    assert band_for_score(600, tiers=3) == 1


def test_band_for_score_uses_a_given_table_and_refuses_unordered_ones() -> None:
    assert band_for_score(500, floors=(300, 400, 500)) == 2
    with pytest.raises(ValueError, match="ascending"):
        band_for_score(500, floors=(300, 500, 500))


# ------------------------------------------------------------------ report commitments


def test_report_commitment_is_keccak_of_salt_and_canonical_json() -> None:
    salt = bytes(range(32))
    assert report_commitment(REPORT, salt) == keccak(salt + canonical_json(REPORT))


def test_report_commitment_changes_with_the_salt_and_not_with_key_order() -> None:
    salt = new_salt()
    reordered = dict(reversed(list(REPORT.items())))
    assert report_commitment(REPORT, salt) == report_commitment(reordered, salt)
    assert report_commitment(REPORT, salt) != report_commitment(REPORT, new_salt())
    assert report_commitment(REPORT, salt) != report_commitment({**REPORT, "score": 713}, salt)


def test_report_commitment_refuses_a_salt_that_is_not_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        report_commitment(REPORT, b"short")


# ------------------------------------------------------------------ denial reasons


def test_denial_reason_bitmap_round_trips() -> None:
    reasons = [DenialReason.BAND_BELOW_MINIMUM, DenialReason.ATTESTATION_STALE]
    bitmap = DenialReason.bitmap(*reasons)
    assert bitmap == 0b101
    assert DenialReason.decode(bitmap) == reasons
