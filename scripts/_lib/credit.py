"""The credit suite as ``ape run lender|borrower|bureau`` (and ``ops publish-policy``) see it:
the CreditLines recorded for the chain, the contracts it works with, attestation files; the
identity commitments a bureau attests and a verifier records for a merchant's owner, so that credit
can tell a borrower's own shop (under ``$TRUSTMALL_IDENTITY_KEY``, locally the development key);
and the credit policy (ICreditPolicies' PolicyRules and tiers): the default a fresh CreditLines
publishes, the TOML file a risk officer writes, a published version read back, and a policy in
words or as its changes from another."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import asdict, astuple, dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import click
from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError, with_config
from pydantic.alias_generators import to_snake

from app.domain.attestations import SCORE_BAND_FLOORS, SCORE_MAX, Domain, SignedAttestation
from app.domain.identity import DEV_IDENTITY_KEY, identity_commitment, parse_identity_key
from app.domain.input_files import ModelFileError, read_model, summary
from app.domain.units import format_duration, parse_amount, parse_duration
from scripts._lib.assets import Asset, asset_of
from scripts._lib.chain import Run, Stop, parsed
from scripts._lib.escrow import Escrow, open_escrow

SIMULATED = "Each call is simulated first: a refusal sends nothing. More: docs/scripts.md#credit."
FILE = click.Path(path_type=Path)
READABLE = click.Path(exists=True, dir_okay=False, path_type=Path)
IDENTITY_KEY_ENV = "TRUSTMALL_IDENTITY_KEY"
# Fields in seconds and in the stablecoin's base units: a policy file gives them as 30d and in
# whole stablecoins, under the contract's field names in snake_case; people read them so too.
DURATIONS = ("refreshPeriod", "defaultAfter", "capPeriod", "term", "gracePeriod")
AMOUNTS = ("periodCap", "limit", "lateFee")
TIER_WORDS = (("limit", "limit"), ("aprBps", "APR"), ("term", "term"), ("gracePeriod", "grace"),
              ("lateFee", "late fee"))  # fmt: skip
Fmt = Callable[[int], str]  # an amount of the stablecoin's base units, for people
Seconds = Annotated[int, BeforeValidator(lambda value: parse_duration(str(value)))]
Units = Annotated[int, BeforeValidator(lambda v, i: parse_amount(str(v), i.context["decimals"]))]
file_keys = with_config(extra="forbid", alias_generator=to_snake)


@dataclass(frozen=True)
class Credit:
    lines: Any
    verifier: Any
    vault: Any
    escrow: Escrow
    asset: Asset
    domain: Domain  # what the verifier's attesters sign for

    @cached_property
    def shares(self) -> Asset:
        """The pool's shares, the vault's own ERC-20."""
        return asset_of(str(self.vault.address))


def open_credit(run: Run) -> Credit:
    from ape import chain

    lines = run.contract("CreditLines")
    verifier, vault, escrow, asset = (str(a) for a in lines.contracts())
    return Credit(
        lines=lines,
        verifier=run.contract("AttestationVerifier", verifier),
        vault=run.contract("CreditVault", vault),
        escrow=open_escrow(run, escrow),
        asset=asset_of(asset),
        domain=Domain(chain_id=int(chain.chain_id), verifying_contract=verifier),
    )


def attestation_for(run: Run, path: Path, hint: str) -> tuple[SignedAttestation, Credit]:
    """A signed attestation file (``ape run bureau attest`` wrote it) and the credit suite whose
    verifier it is for: the signatures of another chain's or verifier's are worth nothing."""
    signed = read_model(path, SignedAttestation, "an attestation file")
    credit = open_credit(run)
    if signed.domain != credit.domain:
        raise Stop(
            f"{hint}: signed for verifier {signed.domain.verifying_contract} on chain "
            f"{signed.domain.chain_id}, not {credit.verifier.address} on this chain"
        )
    return signed, credit


def commitment(identifier: str, network: Any) -> bytes:
    """The commitment to a legal identifier (a national id, a registration number)."""
    text = os.environ.get(IDENTITY_KEY_ENV)
    if not text and not network.is_local:
        raise Stop(
            f"set {IDENTITY_KEY_ENV} (the platform's identity key, 0x-hex) on {network.choice!r}: "
            "the development key is for local networks only"
        )
    key = parsed(parse_identity_key, text, IDENTITY_KEY_ENV) if text else DEV_IDENTITY_KEY
    return bytes(parsed(lambda given: identity_commitment(given, key), identifier, "--identity"))


@file_keys
@dataclass(frozen=True)
class Tier:
    """ICreditPolicies.Tier, in ABI order, with the contract's field names (as recorded)."""

    limit: Units
    aprBps: Annotated[int, Field(ge=0)]
    term: Seconds
    gracePeriod: Seconds
    lateFee: Units


@file_keys
@dataclass(frozen=True)
class CreditPolicy:
    """ICreditPolicies.PolicyRules, in ABI order, and the tiers (``tiers[b]`` for band ``b``).
    All lines together draw at most ``periodCap`` of new principal per ``capPeriod`` window."""

    minBand: Annotated[int, Field(ge=0, le=255)]
    refreshPeriod: Seconds
    defaultAfter: Seconds
    walletDraws: bool
    capPeriod: Seconds
    periodCap: Units
    tiers: Annotated[tuple[Tier, ...], Field(min_length=1)]

    def rules_abi(self) -> tuple[Any, ...]:
        return astuple(self)[:-1]

    def tiers_abi(self) -> list[tuple[Any, ...]]:
        return [astuple(tier) for tier in self.tiers]

    def as_json(self) -> dict[str, Any]:
        """The policy as the deployment record keeps it (without its version)."""
        return asdict(self) | {"tiers": [asdict(tier) for tier in self.tiers]}


def default_policy(decimals: int) -> CreditPolicy:
    """A fresh CreditLines' policy (default_policy.toml beside this file says why each value)."""
    return policy_from_toml(Path(__file__).with_name("default_policy.toml"), decimals)


def read_policy(lines: Any, version: int | None = None) -> dict[str, Any] | None:
    """A published policy (default: the current one) as JSON data with its version, else None."""
    current = int(lines.currentPolicyVersion())
    version = current if version is None else version
    if not 0 < version <= current:
        return None
    rules, tiers = lines.policyRules(version), list[dict[str, int]]()
    # Published tiers have a term: the first without one ends them.
    while (tier := lines.policyTier(version, len(tiers))).term:
        tiers.append({f.name: getattr(tier, f.name) for f in fields(Tier)})
    plain = {f.name: getattr(rules, f.name) for f in fields(CreditPolicy)[:-1]}
    return {"version": version, **plain, "tiers": tiers}


def policy_from_toml(path: Path, decimals: int) -> CreditPolicy:
    """The policy a TOML file describes (examples/policy.toml); the contract checks its rules."""
    try:
        text = tomllib.loads(path.read_text(encoding="utf-8"))
        return TypeAdapter(CreditPolicy).validate_python(text, context={"decimals": decimals})
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelFileError(f"{path} is not TOML: {exc}") from None
    except ValidationError as exc:
        raise ModelFileError(f"{path}: {summary(exc)}") from None


def _rows(policy: dict[str, Any], fmt: Fmt) -> dict[str, str]:
    """``minBand``, ``band 2 limit`` ...: each value of a policy's JSON, shown for people."""
    rows = {k: v for k, v in policy.items() if k not in ("version", "tiers")}
    for band, tier in enumerate(policy.get("tiers", [])):
        rows |= {f"band {band} {k}": v for k, v in tier.items()}
    shown: dict[str, Callable[[Any], str]] = {"aprBps": lambda bps: f"{bps / 100:g}%"}
    shown |= dict.fromkeys(DURATIONS, format_duration) | dict.fromkeys(AMOUNTS, fmt)
    return {k: shown.get(k.split()[-1], lambda v: str(v).lower())(v) for k, v in rows.items()}


def describe_policy(policy: dict[str, Any], fmt: Fmt) -> list[str]:
    """A policy in lines of text: its rules, then its bands with their scores."""
    row, floors = _rows(policy, fmt), (*SCORE_BAND_FLOORS, SCORE_MAX + 1)
    draws = "allowed" if policy["walletDraws"] else "not allowed"
    text = [
        f"minimum band {row['minBand']}, refresh {row['refreshPeriod']}, default after "
        f"{row['defaultAfter']}, wallet draws {draws}",
        f"new credit at most {row['periodCap']} per {row['capPeriod']} (all lines together)",
    ]
    for b, tier in enumerate(policy["tiers"]):
        scores = f" (scores {floors[b]}-{floors[b + 1] - 1})" if b + 1 < len(floors) else ""
        text.append(f"band {b}{scores}: {tier_terms(tier.values(), fmt)}")
    return text


def tier_terms(tier: Iterable[int], fmt: Fmt) -> str:
    """A tier's values in ABI order, in words: ``limit 2000 dUSD, APR 18%, term 30d, ...``."""
    row = _rows(dict(zip((f.name for f in fields(Tier)), tier, strict=True)), fmt)
    return ", ".join(f"{word} {row[key]}" for key, word in TIER_WORDS)


def policy_changes(current: dict[str, Any] | None, wanted: dict[str, Any], fmt: Fmt) -> list[str]:
    """What ``wanted`` changes from ``current``: ``band 2 limit: 2000 dUSD -> 2500 dUSD`` ..."""
    old, new = _rows(current or {}, fmt), _rows(wanted, fmt)
    changes = [f"{k}: {old.get(k, 'none')} -> {v}" for k, v in new.items() if old.get(k) != v]
    removed = range(len(wanted["tiers"]), len((current or {}).get("tiers", [])))
    return changes + [f"band {band}: removed" for band in removed]
