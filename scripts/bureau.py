from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from eth_account.messages import encode_typed_data

from app.domain import attestations as at
from app.domain.abi_types import hex32
from app.domain.deployments import write_json
from app.domain.metadata import loads_strict
from app.domain.units import format_moment, parse_duration
from scripts._lib import chain
from scripts._lib import credit as cr
from scripts._lib import service as svc
from scripts._lib.chain import Run, Stop, parse_address

# The bureau's credentials at the service, as for its reports (never on the command line).
BUREAU_CREDENTIALS = ("TRUSTMALL_BUREAU_API_KEY", "TRUSTMALL_BUREAU_HMAC_SECRET")
ATTESTER = "The attester"
SCORES = click.IntRange(at.SCORE_BAND_FLOORS[0], at.SCORE_MAX)


@click.group(
    help="""A credit bureau's part (local and development use; in production the service
signs): attest a borrower's score band for the AttestationVerifier, and cosign. Nothing here
sends a transaction. More: docs/scripts.md#bureau."""
)
def cli() -> None:
    pass


@chain.command(cli, short_help="attest a score band", signer=ATTESTER, default_signer=6)
@click.option("--borrower", required=True, help="The borrower's address.")
@click.option("--identity", required=True, help="The borrower's legal identifier (hashed).")
@click.option("--score", required=True, type=SCORES, help="The raw score; its band is attested.")
@click.option("--model", required=True, help="The scoring model: a name, or a 0x bytes32 id.")
@click.option("--report", required=True, type=cr.READABLE, help="The full report (JSON), hashed.")
@click.option("--out", required=True, type=cr.FILE, help="The signed attestation's new file.")
@click.option("--valid-for", default="7d", show_default=True, help="How long it may be used.")
@click.option("--nonce", type=click.IntRange(0, 2**256 - 1), help="Single-use number (random).")
def attest(
    run: Run,
    borrower: str,
    identity: str,
    score: int,
    model: str,
    report: Path,
    out: Path,
    valid_for: str,
    nonce: int | None,
) -> None:
    """Attest that --borrower's --score falls in a band of the current policy, for the legal
    person --identity names; writes the signed attestation to --out and the report's salt, which
    stays with the bureau, to <out>.salt.json. More: docs/scripts.md#bureau."""
    borrower = parse_address(borrower, "--borrower")
    chain.writable(out, "--out", new=True)
    salt_file = chain.writable(out.with_name(out.name + ".salt.json"), "--out", new=True)
    text = report.read_text(encoding="utf-8")
    content = chain.parsed(loads_strict, text, f"--report: {report} is not JSON")
    credit = cr.open_credit(run)
    if (policy := cr.read_policy(credit.lines)) is None:
        raise Stop(f"no credit policy is published on {credit.lines.address} yet")
    salt, now = at.new_salt(), chain.now()
    attestation = at.Attestation(
        borrower=borrower,
        identity_hash=hex32(cr.commitment(identity, run.network)),
        band=at.band_for_score(score, tiers=len(policy["tiers"])),
        model_id=chain.parsed(at.model_id_of, model, "--model"),
        report_hash=hex32(at.report_commitment(content, salt)),
        issued_at=now,
        expires_at=now + chain.parsed(parse_duration, valid_for, "--valid-for"),
        nonce=secrets.randbits(64) if nonce is None else nonce,
        attester_set_version=int(credit.verifier.attesterSetVersion()),
    )
    click.echo(
        f"attesting {borrower}: score band {attestation.band} (policy v{policy['version']}), "
        f"model {model}, report commitment {attestation.report_hash}, valid until "
        f"{format_moment(attestation.expires_at, now)}, nonce {attestation.nonce}"
    )
    unsigned = at.SignedAttestation(
        domain=credit.domain, attestation=attestation, signatures=[], model=model
    )
    _, then = _sign(run, credit, unsigned, out)
    kept = {"report_file": str(report), "report_hash": attestation.report_hash}
    write_json(salt_file, {**kept, "salt": hex32(salt)})
    click.echo(f"the report's salt is kept in {salt_file}\n{then}")


@chain.command(cli, short_help="cosign an attestation", signer=ATTESTER, default_signer=9)
@click.argument("attestation_file", type=cr.READABLE)
@click.option("--service", help=svc.SERVICE_URL_HELP + " With --report-id: post it there.")
@click.option("--report-id", help="The service's credit report the attestation belongs to.")
def cosign(run: Run, attestation_file: Path, service: str | None, report_id: str | None) -> None:
    """Sign ATTESTATION_FILE as another attester and rewrite it with the signature. With
    --report-id it is also posted to the service's report, signed as the bureau (with
    $TRUSTMALL_BUREAU_API_KEY and $TRUSTMALL_BUREAU_HMAC_SECRET), relayed at quorum."""
    if service is not None and report_id is None:
        raise Stop("--service goes with --report-id: which report to add it to")
    if report_id is not None and not all(map(os.getenv, BUREAU_CREDENTIALS)):
        raise Stop("--report-id: set {} and {}, the bureau's keys".format(*BUREAU_CREDENTIALS))
    signed, credit = cr.attestation_for(run, attestation_file, "ATTESTATION_FILE")
    chain.writable(attestation_file, "ATTESTATION_FILE")
    signature, then = _sign(run, credit, signed, attestation_file)
    if report_id is None:
        click.echo(then)
        return
    url = f"{svc.service_url(service)}/v1/credit/reports/{report_id}/signatures"
    try:
        body = svc.post_signed(url, {"signature": signature}, BUREAU_CREDENTIALS)
    except svc.ServiceError as error:
        raise Stop(f"the service refused the signature: {error}") from None
    got = f"{len(body.get('signers') or [])} of {body.get('quorum')} signature(s)"
    click.echo(f"posted the signature to report {report_id}: {got}, {body.get('status', 'stored')}")
    where = f"relay/{body['relay_id']}" if body.get("relay_id") else f"credit/reports/{report_id}"
    click.echo(f"next: follow the application at the service: GET /v1/{where}")


def _sign(run: Run, credit: cr.Credit, signed: at.SignedAttestation, path: Path) -> tuple[str, str]:
    """Signs as --account, if the verifier counts it (another's signature is worth nothing),
    and writes the attestation with the signature to ``path``: the signature, and the next
    command (another attester's while the verifier wants more)."""
    me, attestation, domain = run.me, signed.attestation, signed.domain
    if not credit.verifier.isAttester(me):
        raise Stop(f"{me} is not an attester of the verifier {credit.verifier.address}")
    if me in signed.signers:
        raise Stop(f"{me} signed this attestation already")
    typed = encode_typed_data(full_message=at.typed_data(attestation, domain))
    if (made := run.signer.sign_message(typed)) is None:
        raise Stop(f"{me} declined to sign")
    signature = "0x" + bytes(made.encode_rsv()).hex()
    ordered = at.ordered_signatures(attestation, domain, [*signed.signatures, signature])
    signers = [at.recover(attestation, domain, s) for s in ordered]
    updated = signed.model_copy(update={"signatures": ordered, "signers": signers})
    write_json(path, updated.model_dump(mode="json"))
    quorum = int(credit.verifier.quorum())
    counted = f"{len(ordered)} of {quorum} signature(s) the verifier wants"
    click.echo(f"signed by {me}: {counted}, in {path}")
    then = f"ape run borrower apply --attestation {path}"
    if len(ordered) < quorum:
        then = f"the verifier wants {quorum} signatures: ape run bureau cosign {path} --account ..."
    return signature, f"next: {then}"
