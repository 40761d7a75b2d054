from __future__ import annotations

import secrets
from pathlib import Path

import click
from eth_account.messages import encode_typed_data

from app.domain import attestations as at
from app.domain.abi_types import hex32
from app.domain.deployments import write_json
from app.domain.metadata import NotCanonicalizable, loads_strict
from app.domain.units import format_moment, parse_duration
from scripts._lib import chain
from scripts._lib import credit as cr
from scripts._lib import service as svc
from scripts._lib.chain import Run, Stop
from scripts._lib.identity import IDENTITY_KEY_ENV, commitment
from scripts._lib.policy import read_policy
from scripts._lib.signers import parse_address

NONCE_BITS = 64
# The bureau's credentials at the service, as for its reports (never on the command line).
BUREAU_CREDENTIALS = ("TRUSTMALL_BUREAU_API_KEY", "TRUSTMALL_BUREAU_HMAC_SECRET")


@click.group(
    help="""A credit bureau's part (local and development use; in production the service
signs): attest that a borrower's score falls in a policy band, signed as EIP-712 typed data
for the AttestationVerifier, and cosign (the verifier's quorum is 2 by default).

Only the band, the model id, a salted commitment to the report and a keyed commitment to the
borrower's identity reach the chain; the report, the salt and the identifier stay with the
bureau. The verifier is the one of the CreditLines recorded for the chain in --deployments-dir.
Nothing here sends a transaction."""
)
def cli() -> None:
    pass


@chain.command(
    cli,
    short_help="attest a borrower's score band",
    signer="The attester: an Ape account alias, or TEST::N locally (default TEST::6).",
    default_signer=6,
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
    type=click.IntRange(at.SCORE_BAND_FLOORS[0], at.SCORE_MAX),
    help=f"The raw score ({at.SCORE_BAND_FLOORS[0]}-{at.SCORE_MAX}); only its band is attested.",
)
@click.option("--model", required=True, help="The scoring model: a name, or a 0x bytes32 id.")
@click.option(
    "--report",
    "report_file",
    required=True,
    type=cr.FILE,
    help="The full report (JSON); only a salted hash of it is attested.",
)
@click.option(
    "--out",
    required=True,
    type=cr.FILE,
    help="Where the signed attestation goes (a new JSON file, for `borrower apply`).",
)
@click.option(
    "--valid-for",
    default="7d",
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
    """Attest that --borrower's --score falls in a band of the current policy (below 580 band
    0, 580-669 band 1, 670-739 band 2, 740+ band 3, capped at the policy's top tier), for the
    legal person --identity names: its commitment (HMAC-SHA256 under the platform's identity
    key, $TRUSTMALL_IDENTITY_KEY; the development key on a local network) binds the line to
    one identity and keeps credit away from a shop the borrower owns. Writes the signed
    attestation to --out and, beside it (<out>.salt.json), the salt of the report commitment,
    which stays with the bureau."""
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
    model_id = chain.parsed(at.model_id_of, model, "--model")
    lifetime = chain.parsed(parse_duration, valid_for, "--valid-for")
    credit = cr.open_credit(run)
    policy = read_policy(credit.lines)
    if policy is None:
        raise Stop(f"no credit policy is published on {credit.address} yet")
    salt, now = at.new_salt(), chain.now()
    attestation = at.Attestation(
        borrower=borrower_address,
        identity_hash=hex32(identity_hash),
        band=at.band_for_score(score, tiers=len(policy["tiers"])),
        model_id=model_id,
        report_hash=hex32(at.report_commitment(report, salt)),
        issued_at=now,
        expires_at=now + lifetime,
        nonce=secrets.randbits(NONCE_BITS) if nonce is None else nonce,
        attester_set_version=int(credit.verifier.attesterSetVersion()),
    )
    click.echo(
        f"attesting {borrower_address}: score band {attestation.band} (policy "
        f"v{policy['version']}), model {model}, report commitment {attestation.report_hash}, "
        f"valid until {format_moment(attestation.expires_at, now)}, nonce {attestation.nonce}"
    )
    unsigned = at.SignedAttestation(
        domain=credit.domain(), attestation=attestation, signatures=[], model=model
    )
    _, wanted = _add_signature(run, credit, unsigned, out)
    kept = {"report_file": str(report_file), "report_hash": attestation.report_hash}
    write_json(salt_file, {**kept, "salt": hex32(salt)})
    click.echo(f"the report's salt is kept in {salt_file}")
    _next(out, wanted)


@chain.command(
    cli,
    short_help="add a signature to an attestation",
    signer="The cosigning attester: an Ape account alias, or TEST::N locally (default TEST::9).",
    default_signer=9,
)
@click.argument("attestation_file", type=cr.FILE)
@click.option(
    "--service", help=svc.SERVICE_URL_HELP + " With --report-id: post the signature there."
)
@click.option("--report-id", help="The service's credit report the attestation belongs to.")
def cosign(run: Run, attestation_file: Path, service: str | None, report_id: str | None) -> None:
    """Sign ATTESTATION_FILE as another attester: the signature is added (ascending by signer,
    as the verifier wants them) and the file rewritten. With --report-id the signature is also
    posted to the service's report (POST /v1/credit/reports/{id}/signatures), authenticated as
    the bureau's reports are: API key and HMAC secret from $TRUSTMALL_BUREAU_API_KEY and
    $TRUSTMALL_BUREAU_HMAC_SECRET. The service relays the application once the quorum is met."""
    if service is not None and report_id is None:
        raise Stop("--service goes with --report-id: which report to add it to")
    if report_id is not None:
        try:
            svc.source_credentials(BUREAU_CREDENTIALS)
        except svc.ServiceError as error:
            raise Stop(str(error)) from None
    signed, credit = cr.attestation_for(run, attestation_file, "ATTESTATION_FILE")
    chain.writable(attestation_file, "ATTESTATION_FILE")
    signature, wanted = _add_signature(run, credit, signed, attestation_file)
    if report_id is None:
        _next(attestation_file, wanted)
        return
    url = f"{svc.service_url(service)}/v1/credit/reports/{report_id}/signatures"
    try:
        body = svc.post_signed(url, {"signature": signature}, BUREAU_CREDENTIALS).body
    except svc.ServiceError as error:
        raise Stop(f"the service refused the signature: {error}") from None
    relay = f"; follow it at GET /v1/relay/{body['relay_id']}" if body.get("relay_id") else ""
    click.echo(
        f"posted the signature to report {report_id}: {len(body.get('signers') or [])} of "
        f"{body.get('quorum')} signature(s), {body.get('status', 'stored')}{relay}"
    )


def _add_signature(
    run: Run, credit: cr.Credit, signed: at.SignedAttestation, path: Path
) -> tuple[str, int]:
    """Signs as --account, if the verifier counts it (another's signature is worth nothing),
    and writes the attestation with the signature to ``path``: the signature, and how many
    the verifier wants while it has fewer (else 0)."""
    me, attestation, domain = run.me, signed.attestation, signed.domain
    if not credit.verifier.isAttester(me):
        raise Stop(f"{me} is not an attester of the verifier {credit.verifier.address}")
    if me in signed.signers:
        raise Stop(f"{me} signed this attestation already")
    made = run.signer.sign_message(
        encode_typed_data(full_message=at.typed_data(attestation, domain))
    )
    if made is None:
        raise Stop(f"{me} declined to sign")
    signature = "0x" + bytes(made.encode_rsv()).hex()
    ordered = at.ordered_signatures(attestation, domain, [*signed.signatures, signature])
    signers = [at.recover(attestation, domain, s) for s in ordered]
    if me not in signers:
        raise Stop(f"the signature of {me} does not recover it")
    updated = signed.model_copy(update={"signatures": ordered, "signers": signers})
    write_json(path, updated.model_dump(mode="json"))
    quorum = int(credit.verifier.quorum())
    click.echo(
        f"signed by {me}: {len(ordered)} of {quorum} signature(s) the verifier wants, in {path}"
    )
    return signature, 0 if len(ordered) >= quorum else quorum


def _next(path: Path, wanted: int) -> None:
    if not wanted:
        click.echo(f"next: ape run borrower apply --attestation {path}")
    else:
        click.echo(
            f"next: the verifier wants {wanted} signatures: another attester signs with "
            f"ape run bureau cosign {path} --account ..."
        )
