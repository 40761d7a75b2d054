"""`ape run deploy`: deploy the TrustMall suite, grant its roles, record it, refresh abi/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from scripts._lib.abi import abi_dir as resolve_abi_dir
from scripts._lib.abi import compiled_abis, write_abis
from scripts._lib.deployer import deploy_suite, resolve_oracle
from scripts._lib.deployments import deployments_dir as resolve_deployments_dir
from scripts._lib.signers import parse_address, resolve_account, signer_option

HELP = """Deploy the TrustMall suite (today: ProductRegistry) and grant its roles.

\b
Accounts (never a raw key):
  --account ALIAS   an Ape account (`ape accounts import ALIAS`); for automation set
                    APE_ACCOUNTS_<ALIAS>_PASSPHRASE and nothing prompts.
  --account TEST::N an Ape test account, local networks only. On a local network
                    the default is TEST::0.
The deployer becomes DEFAULT_ADMIN_ROLE.

\b
Roles granted:
  VERIFIER_ROLE  to --verifier (default: the deployer).
  ORACLE_ROLE    to the oracle address, the first of: --oracle; env
                 TRUSTMALL_ORACLE_ADDRESS; ape-config.yaml
                   trustmall:
                     oracle: {sepolia: "0x..."}   # or one address for all networks
                 and on a local network test account 1.

\b
Output:
  <deployments-dir>/<chain-id>.json  address, tx hash, block, compiler, roles
      (--deployments-dir, else env TRUSTMALL_DEPLOYMENTS_DIR, else deployments/).
  <abi-dir>/<Contract>.json           the ABI (--abi-dir, else env TRUSTMALL_ABI_DIR,
      else abi/). `python -m scripts._lib.abi [--check]` does this without a chain.

A recorded deployment is reused while its address holds the recorded code and the
compiled contract is unchanged; --redeploy deploys anew. Re-running grants missing roles.
"""


@click.command(cls=ConnectedProviderCommand, help=HELP, short_help="Deploy the TrustMall suite")
@signer_option(
    "Deployer: an Ape account alias, or TEST::N on a local network (default TEST::0 there)."
)
@click.option("--verifier", help="Address to receive VERIFIER_ROLE (default: the deployer).")
@click.option("--oracle", help="Address to receive ORACLE_ROLE (default: see above).")
@click.option("--redeploy", is_flag=True, help="Deploy anew even if a live deployment is recorded.")
@click.option(
    "--deployments-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where <chain-id>.json goes (default: $TRUSTMALL_DEPLOYMENTS_DIR or deployments/).",
)
@click.option(
    "--abi-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the ABI files go (default: $TRUSTMALL_ABI_DIR or abi/).",
)
def cli(
    network: Any,
    provider: Any,
    account: Any,
    verifier: str | None,
    oracle: str | None,
    redeploy: bool,
    deployments_dir: Path | None,
    abi_dir: Path | None,
) -> None:
    deployer = resolve_account(account, network, default_test_index=0)
    verifier_address = parse_address(verifier, "--verifier") if verifier else str(deployer.address)
    oracle_address = resolve_oracle(oracle, network)
    click.echo(f"network {provider.network_choice}, deployer {deployer.address}")
    outcome = deploy_suite(
        deployer,
        verifier=verifier_address,
        oracle=oracle_address,
        network_choice=provider.network_choice,
        directory=resolve_deployments_dir(deployments_dir),
        redeploy=redeploy,
    )
    for name in write_abis(resolve_abi_dir(abi_dir), compiled_abis()):
        click.echo(f"updated ABI {name}")
    state = "written" if outcome.changed else "unchanged"
    click.echo(f"deployment record {outcome.path} ({state})")
    for name, entry in outcome.record.contracts.items():
        click.echo(f"{name} {entry.address}")
