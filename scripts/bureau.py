"""`ape run bureau attest|cosign`: a credit bureau's signed statement of a borrower's score band.

For local and development use: the attester signs with an Ape account. In production the
service signs (app.domain.attestations, the same code) and keeps the full report encrypted; the
bureau's cosigner adds its signature (`cosign`) and may post it to the service's report.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import click
from eth_account.messages import encode_typed_data

from app.domain.abi_types import hex32
from app.domain.attestations import (
    SCORE_BAND_FLOORS,
    SCORE_MAX,
    Attestation,
    Domain,
    SignedAttestation,
    band_for_score,
    model_id_of,
    new_salt,
    ordered_signatures,
    recover,
    report_commitment,
    typed_data,
)
from app.domain.deployments import write_json
from app.domain.metadata import NotCanonicalizable, loads_strict
from app.domain.units import format_moment, parse_duration
from scripts._lib import chain
from scripts._lib import credit as cr
from scripts._lib.chain import Run, Stop
from scripts._lib.identity import IDENTITY_KEY_ENV, commitment
from scripts._lib.service import (
    SERVICE_URL_HELP,
    ServiceError,
    post_signed,
    service_url,
    source_credentials,
)
from scripts._lib.signers import parse_address

LOCAL_ATTESTER_TEST_INDEX = 6
LOCAL_COSIGNER_TEST_INDEX = 9
DEFAULT_VALID_FOR = "7d"
NONCE_BITS = 64
# The bureau's credentials at the service, as for its reports (never on the command line).
BUREAU_CREDENTIALS = ("TRUSTMALL_BUREAU_API_KEY", "TRUSTMALL_BUREAU_HMAC_SECRET")


@click.group(
    help="""A credit bureau's part (local and development use; in production the service
signs): attest that a borrower's score falls in a policy band, signed as EIP-712 typed data
for the AttestationVerifier.

\b
  attest  score a borrower: band from the score, commitment to the report and to the
          borrower's legal identity, signature
  cosign  add another attester's signature to an attestation (the verifier's quorum is 2
          by default), and optionally post it to the service's report

Only the band, the model id, a salted commitment to the report and a keyed commitment to the
borrower's identity reach the chain; the report, the salt and the identifier stay with the
bureau. The verifier is the one the CreditLines recorded for the chain in --deployments-dir
uses (default: $TRUSTMALL_DEPLOYMENTS_DIR or deployments/). --account is the attester's Ape
account (local default TEST::6 for attest, TEST::9 for cosign)."""
)
def cli() -> None:
    pass


def _attester(run: Run, credit: cr.Credit) -> Any:
    """The signer, if the verifier counts it: a signature of another is worth nothing."""
    if not credit.verifier.isAttester(run.me):
        raise Stop(f"{run.me} is not an attester of the verifier {credit.verifier.address}")
    return run.signer


def _sign(signer: Any, attestation: Attestation, domain: Domain) -> str:
    """The Ape account's EIP-712 signature (r, s, v), checked to recover the account."""
    signable = encode_typed_data(full_message=typed_data(attestation, domain))
    signature = signer.sign_message(signable)
    if signature is None:
        raise Stop(f"{signer.address} declined to sign")
    text = "0x" + bytes(signature.encode_rsv()).hex()
    if recover(attestation, domain, text) != signer.address:
        raise Stop(f"the signature of {signer.address} does not recover it")
    return text


@chain.command(
    cli,
    short_help="attest a borrower's score band",
    signer="The attester: an Ape account alias, or TEST::N locally (default TEST::6).",
    default_signer=LOCAL_ATTESTER_TEST_INDEX,
)
@click.option("--borrower", required=True, help="The borrower's address.")
@click.option(
    "--identity",
    required=True,
    help="The borrower's legal identifier (national id, registration number); only its "
    f"commitment under ${IDENTITY_KEY_ENV} is attested.",
)
@click.option(
    "--score",
    required=True,
    type=click.IntRange(SCORE_BAND_FLOORS[0], SCORE_MAX),
    help=f"The raw score ({SCORE_BAND_FLOORS[0]}-{SCORE_MAX}); only its band is attested.",
)
@click.option("--model", required=True, help="The scoring model: a name, or a 0x bytes32 id.")
@click.option(
    "--report",
    "report_file",
    required=True,
    type=click.Path(path_type=Path),
    help="The full report (JSON); only a salted hash of it is attested.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Where the signed attestation goes (a new JSON file, for `borrower apply`).",
)
@click.option(
    "--valid-for",
    default=DEFAULT_VALID_FOR,
    show_default=True,
    help="How long the attestation may be submitted (90m, 7d ...).",
)
@click.option("--nonce", type=click.IntRange(0, 2**256 - 1), help="Single-use number (random).")
def attest(
    run: Run,
    borrower: str,
    identity: str,
    score: int,
    model: str,
    report_file: Path,
    out: Path,
    valid_for: str,
    nonce: int | None,
) -> None:
    """Attest that --borrower's --score falls in a band of the current policy (bands by
    app.domain.attestations' score table: below 580 band 0, 580-669 band 1, 670-739 band 2,
    740+ band 3, capped at the policy's top tier), for the legal person --identity names: its
    commitment (HMAC-SHA256 under the platform's identity key, $TRUSTMALL_IDENTITY_KEY; the
    development key on a local network) binds the line to one identity and keeps credit away
    from a shop the borrower owns. Writes the signed attestation to --out and, beside it
    (<out>.salt.json), the salt of the report commitment, which stays with the bureau. Sends
    nothing."""
    borrower_address = parse_address(borrower, "--borrower")
    identity_hash = commitment(identity, run.network)
    chain.writable(out, "--out", new=True)
    salt_file = chain.writable(out.with_name(out.name + ".salt.json"), "--out", new=True)
    try:
        report = loads_strict(report_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise Stop(f"--report: cannot read {report_file}: {exc.strerror}") from None
    except (ValueError, NotCanonicalizable) as exc:
        raise Stop(f"--report: {report_file} is not JSON: {exc}") from None
    model_id = chain.parsed(model_id_of, model, "--model")
    lifetime = chain.parsed(parse_duration, valid_for, "--valid-for")
    if lifetime <= 0:
        raise Stop("--valid-for must be longer than 0s")
    credit = cr.open_credit(run)
    signer = _attester(run, credit)
    current = cr.policy(credit)
    if current is None:
        raise Stop(f"no credit policy is published on {credit.address} yet")
    if nonce is not None and credit.verifier.isNonceUsed(nonce):
        raise Stop(f"--nonce: nonce {nonce} is spent already")
    band = band_for_score(score, tiers=len(current["tiers"]))
    salt = new_salt()
    now = chain.now()
    attestation = Attestation(
        borrower=borrower_address,
        identity_hash=hex32(identity_hash),
        band=band,
        model_id=model_id,
        report_hash=hex32(report_commitment(report, salt)),
        issued_at=now,
        expires_at=now + lifetime,
        nonce=secrets.randbits(NONCE_BITS) if nonce is None else nonce,
        attester_set_version=int(credit.verifier.attesterSetVersion()),
    )
    domain = credit.domain()
    signed = SignedAttestation(
        domain=domain,
        attestation=attestation,
        signatures=[_sign(signer, attestation, domain)],
        signers=[str(signer.address)],
        model=model,
    )
    kept = {"report_file": str(report_file), "report_hash": attestation.report_hash}
    write_json(salt_file, {**kept, "salt": hex32(salt)})
    write_json(out, signed.model_dump(mode="json"))
    click.echo(
        f"attested {borrower_address}: score band {band} (policy v{current['version']}), model "
        f"{model}, report commitment {attestation.report_hash}"
    )
    expires = format_moment(attestation.expires_at, now)
    click.echo(f"valid until {expires}; nonce {attestation.nonce}")
    click.echo(f"attestation file {out} (salt kept in {salt_file})")
    quorum = int(credit.verifier.quorum())
    if quorum > 1:
        click.echo(
            f"next: the verifier wants {quorum} signatures: ape run bureau cosign {out} "
            "--account ..."
        )
    else:
        click.echo(f"next: ape run borrower apply --attestation {out}")


@chain.command(
    cli,
    short_help="add a signature to an attestation",
    signer="The cosigning attester: an Ape account alias, or TEST::N locally (default TEST::9).",
    default_signer=LOCAL_COSIGNER_TEST_INDEX,
)
@click.argument("attestation_file", type=click.Path(path_type=Path))
@click.option("--service", help=SERVICE_URL_HELP + " With --report-id: post the signature there.")
@click.option("--report-id", help="The service's credit report the attestation belongs to.")
def cosign(
    run: Run,
    attestation_file: Path,
    service: str | None,
    report_id: str | None,
) -> None:
    """Sign ATTESTATION_FILE as another attester: the signature is added (ascending by signer,
    as the verifier wants them) and the file rewritten. With --report-id the signature is also
    posted to the service's report (POST /v1/credit/reports/{id}/signatures), authenticated as
    the bureau's reports are: API key and HMAC secret from $TRUSTMALL_BUREAU_API_KEY and
    $TRUSTMALL_BUREAU_HMAC_SECRET. The service relays the application once the quorum is met.
    Sends no transaction."""
    signed = cr.read_attestation(attestation_file, "ATTESTATION_FILE")
    chain.writable(attestation_file, "ATTESTATION_FILE")
    if service is not None and report_id is None:
        raise Stop("--service goes with --report-id: which report to add it to")
    if report_id is not None:
        try:
            source_credentials(BUREAU_CREDENTIALS)
        except ServiceError as error:
            raise Stop(str(error)) from None
    credit = cr.open_credit(run)
    signer = _attester(run, credit)
    if signed.domain != credit.domain():
        raise Stop(f"the attestation is for verifier {signed.domain.verifying_contract}")
    if signer.address in signed.signers:
        raise Stop(f"{signer.address} signed this attestation already")
    signature = _sign(signer, signed.attestation, signed.domain)
    ordered = ordered_signatures(signed.attestation, signed.domain, [*signed.signatures, signature])
    signers = [recover(signed.attestation, signed.domain, s) for s in ordered]
    updated = signed.model_copy(update={"signatures": ordered, "signers": signers})
    write_json(attestation_file, updated.model_dump(mode="json"))
    quorum = int(credit.verifier.quorum())
    click.echo(
        f"signed by {signer.address}: {len(ordered)} of {quorum} signature(s) the verifier wants"
    )
    if report_id is not None:
        _post_signature(service_url(service), report_id, signature)
    elif len(ordered) >= quorum:
        click.echo(f"next: ape run borrower apply --attestation {attestation_file}")
    else:
        click.echo(
            f"next: another attester: ape run bureau cosign {attestation_file} --account ..."
        )


def _post_signature(base: str, report_id: str, signature: str) -> None:
    url = f"{base}/v1/credit/reports/{report_id}/signatures"
    try:
        answer = post_signed(url, {"signature": signature}, BUREAU_CREDENTIALS)
    except ServiceError as error:
        raise Stop(f"the service refused the signature: {error}") from None
    body = answer.body
    signers, quorum = body.get("signers") or [], body.get("quorum")
    status = body.get("status", "stored")
    relay = f"; follow it at GET /v1/relay/{body['relay_id']}" if body.get("relay_id") else ""
    click.echo(
        f"posted the signature to report {report_id}: {len(signers)} of {quorum} signature(s), "
        f"{status}{relay}"
    )
