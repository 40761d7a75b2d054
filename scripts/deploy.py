"""`ape run deploy`: deploy the TrustMall suite, grant its roles, record it, refresh abi/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from app.domain.deployments import deployments_dir as resolve_deployments_dir
from scripts._lib import deploy_options as opts
from scripts._lib.abi import abi_dir as resolve_abi_dir
from scripts._lib.abi import compiled_abis, write_abis
from scripts._lib.deployer import (
    deploy_suite,
    resolve_arbiter,
    resolve_logistics_oracle,
    resolve_oracle,
)
from scripts._lib.policy import DEFAULT_POLICY_HELP
from scripts._lib.signers import parse_address, resolve_account, signer_option
from scripts._lib.suite import ETH_TOKEN, MAX_FEE_BPS, EscrowOptions
from scripts._lib.units import format_amount, format_duration

HELP = """Deploy the TrustMall suite (ProductRegistry, OrderEscrow and, with a stablecoin,
the credit contracts), grant its roles and apply the admin settings.

\b
Accounts (never a raw key):
  --account ALIAS   an Ape account (`ape accounts import ALIAS`); for automation set
                    APE_ACCOUNTS_<ALIAS>_PASSPHRASE and nothing prompts.
  --account TEST::N an Ape test account, local networks only. On a local network
                    the default is TEST::0.
The deployer holds DEFAULT_ADMIN_ROLE of every contract from its constructor. It is
never granted: a new admin takes it in two steps, 2 days apart (beginDefaultAdminTransfer
by the admin, then acceptDefaultAdminTransfer by the new one). A reused contract whose
admin is another account stops the run (deploy with the admin, or --redeploy).

\b
Roles granted (one key, one job):
  VERIFIER_ROLE  on ProductRegistry to --verifier (default: the deployer).
  ORACLE_ROLE    on ProductRegistry to the custody oracle, the first of: --oracle;
                 env TRUSTMALL_ORACLE_ADDRESS; ape-config.yaml
                   trustmall:
                     oracle: {sepolia: "0x..."}   # or one address for all networks
                 and on a local network test account 1.
  ORACLE_ROLE    on OrderEscrow to the logistics oracle (carriers' reports), a key
                 of its own: --logistics-oracle; env
                 TRUSTMALL_LOGISTICS_ORACLE_ADDRESS; ape-config.yaml trustmall:
                 logistics_oracle: (as for the oracle); on a local network test
                 account 8.
  ARBITER_ROLE   on OrderEscrow to the arbiter: --arbiter; env
                 TRUSTMALL_ARBITER_ADDRESS; ape-config.yaml trustmall: arbiter:
                 (as for the oracle); on a local network test account 3.
  ESCROW_ROLE    on ProductRegistry to OrderEscrow: orders hold their items, free
                 them on refunds and record them sold on release. A reused registry
                 that still gives the escrow its ORACLE_ROLE (older suites did) has
                 it revoked.

\b
OrderEscrow settings (a fresh deployment gets the defaults; on a reused one an
option left out keeps what the chain holds):
  --fee-bps N                 platform fee on releases, 0-1000 (default 100 = 1%)
  --fee-recipient ADDR        who is credited the fee (default: the deployer)
  --dispute-window-bounds MIN:MAX
                              windows buyers may choose (default 1d:30d; limits 1h-90d)
  --arbitration-period DUR    how long an arbiter has to rule (default 14d; 1d-90d)
  --ship-by-horizon DUR       how far ahead a new order's ship-by may lie (default 60d;
                              1d-180d): an unshipped order holds its items until then
  --allow-token ADDR          allow-list an ERC-20 for payments (repeatable; adds,
                              never removes). ETH needs no entry. Name an existing
                              ERC-20: the script deploys no token (but the devnet
                              faucet token of --dev-stablecoin).
  --seller-record-floor TOKEN=AMOUNT
                              the smallest order that counts in seller records
                              (repeatable; TOKEN is ETH or an ERC-20; AMOUNT in whole
                              tokens). Defaults: ETH=0.001 and, with credit, one
                              whole stablecoin (set once, for a token the record
                              has no floor for).
Durations: 90m, 36h, 7d, 1d12h or seconds.

\b
Credit (AttestationVerifier, CreditVault, CreditLines), deployed only with a
stablecoin:
  --stablecoin ADDR   the pool's ERC-20 (an existing token; allow-listed on the
                      escrow). The vault is tied to it for life: another one
                      deploys a new vault and new lines.
  --dev-stablecoin    local networks only (refused elsewhere): deploy
                      DevStablecoin (dUSD, 6 decimals, minted by the deployer's
                      MINTER_ROLE), a devnet faucet token, and use it.
  Neither: the stablecoin of the recorded CreditVault, if there is one; else
  the credit part is left out.
  --attester ADDR     an attester's signing address (repeatable; added to a
                      reused verifier). On a local network a fresh verifier
                      defaults to test accounts 6 (the service's attester) and 9
                      (the bureau's cosigner).
  --quorum N          signatures an attestation needs, up to the attesters'
                      number (fresh default 2; reused: kept). 1 is refused outside
                      local networks: one stolen key must not open credit lines.
Roles: CreditLines gets the verifier's CONSUMER_ROLE, the vault's LINE_ROLE and
the escrow's FUNDER_ROLE; the deployer holds POLICY_ROLE and RISK_ROLE on it.

\b
Default credit policy, published when CreditLines is deployed (version 1):
{policy}

\b
Output:
  <deployments-dir>/<chain-id>.json  address, tx hash, block, compiler, roles, settings
      (--deployments-dir, else env TRUSTMALL_DEPLOYMENTS_DIR, else deployments/);
      settings: the escrow's fee, windows, tokens and seller-record floors; the
      policy with its version, attesters, quorum, pool asset and redemption
      cooldown; every admin-rules contract's admin handover delay.
  <abi-dir>/<Contract>.json           the ABI (--abi-dir, else env TRUSTMALL_ABI_DIR,
      else abi/). `python -m scripts._lib.abi [--check]` does this without a chain.

A recorded deployment is reused while its address holds the recorded code and the
compiled contract is unchanged (OrderEscrow is deployed anew whenever ProductRegistry is,
CreditLines whenever the verifier, vault or escrow is); --redeploy deploys anew. Re-running
grants missing roles and applies changed settings; roles granted to a replaced contract of
the suite are revoked.
""".replace("{policy}", DEFAULT_POLICY_HELP)


@click.command(cls=ConnectedProviderCommand, help=HELP, short_help="Deploy the TrustMall suite")
@signer_option(
    "Deployer: an Ape account alias, or TEST::N on a local network (default TEST::0 there)."
)
@click.option("--verifier", help="Address to receive VERIFIER_ROLE (default: the deployer).")
@click.option("--oracle", help="The custody oracle: the registry's ORACLE_ROLE (see above).")
@click.option(
    "--logistics-oracle",
    help="The logistics oracle: the escrow's ORACLE_ROLE (local default: test account 8).",
)
@click.option("--arbiter", help="Address to receive ARBITER_ROLE (default: see above).")
@click.option(
    "--fee-bps",
    type=click.IntRange(0, MAX_FEE_BPS),
    help="OrderEscrow platform fee in basis points (fresh default 100).",
)
@click.option("--fee-recipient", help="Who is credited the fee (fresh default: the deployer).")
@click.option(
    "--dispute-window-bounds",
    metavar="MIN:MAX",
    help="Dispute windows buyers may choose (fresh default 1d:30d).",
)
@click.option(
    "--arbitration-period",
    metavar="DURATION",
    help="Time an arbiter has to rule on a dispute (fresh default 14d).",
)
@click.option(
    "--ship-by-horizon",
    metavar="DURATION",
    help="How far ahead new orders' ship-by may lie (fresh default 60d).",
)
@click.option(
    "--allow-token",
    "allow_tokens",
    multiple=True,
    metavar="ADDRESS",
    help="Allow-list an ERC-20 for order payments (repeatable).",
)
@click.option(
    "--seller-record-floor",
    "floors",
    multiple=True,
    metavar="TOKEN=AMOUNT",
    help="Smallest order counted in seller records, e.g. ETH=0.001 (repeatable).",
)
@click.option("--stablecoin", metavar="ADDRESS", help="The credit pool's ERC-20 stablecoin.")
@click.option(
    "--dev-stablecoin",
    is_flag=True,
    help="Local networks only: deploy DevStablecoin (a faucet token) for the credit pool.",
)
@click.option(
    "--attester",
    "attesters",
    multiple=True,
    metavar="ADDRESS",
    help="An attester's signing address (repeatable; local default: test accounts 6 and 9).",
)
@click.option(
    "--quorum",
    type=click.IntRange(1),
    help="Attester signatures an attestation needs (fresh default 2; 1 on local networks only).",
)
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
    logistics_oracle: str | None,
    arbiter: str | None,
    fee_bps: int | None,
    fee_recipient: str | None,
    dispute_window_bounds: str | None,
    arbitration_period: str | None,
    ship_by_horizon: str | None,
    allow_tokens: tuple[str, ...],
    floors: tuple[str, ...],
    stablecoin: str | None,
    dev_stablecoin: bool,
    attesters: tuple[str, ...],
    quorum: int | None,
    redeploy: bool,
    deployments_dir: Path | None,
    abi_dir: Path | None,
) -> None:
    deployer = resolve_account(account, network, default_test_index=0)
    verifier_address = parse_address(verifier, "--verifier") if verifier else str(deployer.address)
    oracle_address = resolve_oracle(oracle, network)
    logistics_address = resolve_logistics_oracle(logistics_oracle, network)
    arbiter_address = resolve_arbiter(arbiter, network)
    escrow = EscrowOptions(
        fee_bps=fee_bps,
        fee_recipient=parse_address(fee_recipient, "--fee-recipient") if fee_recipient else None,
        dispute_window_bounds=opts.window_bounds(dispute_window_bounds),
        arbitration_period=opts.arbitration_period(arbitration_period),
        ship_by_horizon=opts.ship_by_horizon(ship_by_horizon),
        allowed_tokens=tuple(opts.token_address(t) for t in allow_tokens),
        seller_record_floors=opts.seller_record_floors(floors),
    )
    directory = resolve_deployments_dir(deployments_dir)
    credit = opts.credit_options(
        network, directory, stablecoin, dev_stablecoin, attesters, quorum, redeploy
    )
    click.echo(f"network {provider.network_choice}, deployer {deployer.address}")
    if not credit.enabled:
        click.echo("credit: left out (no stablecoin: --stablecoin ADDRESS or --dev-stablecoin)")
    outcome = deploy_suite(
        deployer,
        verifier=verifier_address,
        oracle=oracle_address,
        logistics_oracle=logistics_address,
        arbiter=arbiter_address,
        escrow=escrow,
        credit=credit,
        network_choice=provider.network_choice,
        directory=directory,
        redeploy=redeploy,
    )
    for name in write_abis(resolve_abi_dir(abi_dir), compiled_abis()):
        click.echo(f"updated ABI {name}")
    state = "written" if outcome.changed else "unchanged"
    click.echo(f"deployment record {outcome.path} ({state})")
    for name, entry in outcome.record.contracts.items():
        click.echo(f"{name} {entry.address}")
    settings = outcome.record.contracts["OrderEscrow"].settings
    low, high = settings["disputeWindowBounds"]
    click.echo(
        f"OrderEscrow settings: fee {settings['feeBps']} bps to {settings['feeRecipient']}; "
        f"dispute windows {format_duration(low)}-{format_duration(high)}; arbitration "
        f"{format_duration(settings['arbitrationPeriod'])}; ship-by at most "
        f"{format_duration(settings['shipByHorizon'])} ahead; "
        f"tokens {', '.join(settings['allowedTokens']) or 'ETH only'}"
    )
    click.echo(f"seller-record floors: {_floors(settings['sellerRecordFloors'])}")
    roles = outcome.record.contracts["ProductRegistry"].roles
    click.echo(
        f"custody oracle {', '.join(roles.get('ORACLE_ROLE', [])) or 'none'}; logistics oracle "
        f"{', '.join(outcome.record.contracts['OrderEscrow'].roles.get('ORACLE_ROLE', []))}"
    )
    contracts = outcome.record.contracts
    if "CreditLines" in contracts:
        _echo_credit(contracts["AttestationVerifier"].settings, contracts)


def _floors(floors: dict[str, int]) -> str:
    from scripts._lib.escrow import asset_of

    shown = []
    for token, amount in floors.items():
        if token == ETH_TOKEN:
            shown.append(format_amount(amount, 18, "ETH"))
        else:
            shown.append(asset_of(token).fmt(amount))
    return ", ".join(shown) or "none"


def _echo_credit(verifier: dict[str, Any], contracts: dict[str, Any]) -> None:
    from scripts._lib.escrow import asset_of

    asset = asset_of(contracts["CreditVault"].settings["asset"])
    policy = contracts["CreditLines"].settings["policy"]
    attesters = ", ".join(verifier["attesters"])
    click.echo(
        f"Credit: pool asset {asset.symbol} {asset.token}; attesters {attesters} "
        f"(quorum {verifier['quorum']}, set version {verifier['attesterSetVersion']})"
    )
    if policy is None:
        click.echo("Credit policy: none published")
        return
    click.echo(
        f"Credit policy v{policy['version']}: minimum band {policy['minBand']}, refresh "
        f"{format_duration(policy['refreshPeriod'])}, default after "
        f"{format_duration(policy['defaultAfter'])}, wallet draws "
        f"{'allowed' if policy['walletDraws'] else 'not allowed'}, new credit at most "
        f"{asset.fmt(policy['periodCap'])} per {format_duration(policy['capPeriod'])}"
    )
    for band, tier in enumerate(policy["tiers"]):
        click.echo(
            f"  band {band}: limit {asset.fmt(tier['limit'])}, APR {tier['aprBps'] / 100:g}%, "
            f"term {format_duration(tier['term'])}, grace {format_duration(tier['gracePeriod'])}, "
            f"late fee {asset.fmt(tier['lateFee'])}"
        )
