"""The credit suite as ``ape run lender|borrower|bureau`` (and ``ops publish-policy``) see it:
the CreditLines recorded for the chain, the contracts it works with, and attestation files."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import click

from app.domain.attestations import Domain, SignedAttestation
from app.domain.input_files import read_model
from scripts._lib.assets import Asset, asset_of
from scripts._lib.chain import Run, Stop
from scripts._lib.escrow import Escrow, open_escrow

SIMULATED = "Each call is simulated first: a refusal sends nothing. More: docs/scripts.md#credit."
FILE = click.Path(path_type=Path)
READABLE = click.Path(exists=True, dir_okay=False, path_type=Path)


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
