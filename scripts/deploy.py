"""`ape run deploy`: deploy the TrustMall suite, grant its roles, record it, refresh abi/.

The work is the ordered steps of ``scripts/_lib/suite.py``, run by ``scripts/_lib/deployer.py``;
this command gathers and checks the options first (nothing is sent before), then says what the
chain now holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from app.domain.deployments import deployments_dir as resolve_deployments_dir
from app.domain.units import format_duration
from scripts._lib import deploy_options as opts
from scripts._lib.abi import abi_dir as resolve_abi_dir
from scripts._lib.abi import compiled_abis, write_abis
from scripts._lib.assets import asset_of
from scripts._lib.chain import Command, writable
from scripts._lib.deployer import deploy_suite
from scripts._lib.policy import DEFAULT_POLICY_HELP
from scripts._lib.signers import parse_address, resolve_account, signer_option
from scripts._lib.suite import MAX_FEE_BPS, EscrowOptions

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

DIRECTORY = click.Path(file_okay=False, path_type=Path)
# (option names, click settings), in the order --help lists them.
OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("--verifier",), {"help": "Address to receive VERIFIER_ROLE (default: the deployer)."}),
    (("--oracle",), {"help": "The custody oracle: the registry's ORACLE_ROLE (see above)."}),
    (("--logistics-oracle",), {"help": "The logistics oracle: the escrow's ORACLE_ROLE (local "
                                       "default: test account 8)."}),
    (("--arbiter",), {"help": "Address to receive ARBITER_ROLE (default: see above)."}),
    (("--fee-bps",), {"type": click.IntRange(0, MAX_FEE_BPS),
                      "help": "OrderEscrow platform fee in basis points (fresh default 100)."}),
    (("--fee-recipient",), {"help": "Who is credited the fee (fresh default: the deployer)."}),
    (("--dispute-window-bounds",), {"metavar": "MIN:MAX", "help": "Dispute windows buyers may "
                                    "choose (fresh default 1d:30d)."}),
    (("--arbitration-period",), {"metavar": "DURATION", "help": "Time an arbiter has to rule on "
                                 "a dispute (fresh default 14d)."}),
    (("--ship-by-horizon",), {"metavar": "DURATION", "help": "How far ahead new orders' ship-by "
                              "may lie (fresh default 60d)."}),
    (("--allow-token", "allow_tokens"), {"multiple": True, "metavar": "ADDRESS", "help":
                                         "Allow-list an ERC-20 for order payments (repeatable)."}),
    (("--seller-record-floor", "floors"), {"multiple": True, "metavar": "TOKEN=AMOUNT", "help":
                                           "Smallest order counted in seller records, e.g. "
                                           "ETH=0.001 (repeatable)."}),
    (("--stablecoin",), {"metavar": "ADDRESS", "help": "The credit pool's ERC-20 stablecoin."}),
    (("--dev-stablecoin",), {"is_flag": True, "help": "Local networks only: deploy DevStablecoin "
                             "(a faucet token) for the credit pool."}),
    (("--attester", "attesters"), {"multiple": True, "metavar": "ADDRESS", "help": "An "
                                   "attester's signing address (repeatable; local default: test "
                                   "accounts 6 and 9)."}),
    (("--quorum",), {"type": click.IntRange(1), "help": "Attester signatures an attestation "
                     "needs (fresh default 2; 1 on local networks only)."}),
    (("--redeploy",), {"is_flag": True, "help": "Deploy anew even if a live deployment is "
                       "recorded."}),
    (("--deployments-dir",), {"type": DIRECTORY, "help": "Where <chain-id>.json goes (default: "
                              "$TRUSTMALL_DEPLOYMENTS_DIR or deployments/)."}),
    (("--abi-dir",), {"type": DIRECTORY, "help": "Where the ABI files go (default: "
                      "$TRUSTMALL_ABI_DIR or abi/)."}),
)  # fmt: skip


def _options(command: Any) -> Any:
    for names, settings in reversed(OPTIONS):
        command = click.option(*names, **settings)(command)
    return signer_option(
        "Deployer: an Ape account alias, or TEST::N on a local network (default TEST::0 there)."
    )(command)


@click.command(cls=Command, help=HELP, short_help="Deploy the TrustMall suite")
@_options
def cli(network: Any, provider: Any, account: Any, **given: Any) -> None:
    deployer = resolve_account(account, network, default_test_index=0)
    verifier, recipient = given["verifier"], given["fee_recipient"]
    verifier = parse_address(verifier, "--verifier") if verifier else str(deployer.address)
    oracle, logistics, arbiter = (
        opts.resolve_party(role, given[role.replace("-", "_")], network) for role in opts.PARTIES
    )
    escrow = EscrowOptions(
        fee_bps=given["fee_bps"],
        fee_recipient=parse_address(recipient, "--fee-recipient") if recipient else None,
        dispute_window_bounds=opts.window_bounds(given["dispute_window_bounds"]),
        arbitration_period=opts.duration(given["arbitration_period"], "--arbitration-period"),
        ship_by_horizon=opts.duration(given["ship_by_horizon"], "--ship-by-horizon"),
        allowed_tokens=tuple(opts.token_address(t) for t in given["allow_tokens"]),
        seller_record_floors=opts.seller_record_floors(given["floors"]),
    )
    directory, abi_dir = (
        resolve_deployments_dir(given["deployments_dir"]),
        resolve_abi_dir(given["abi_dir"]),
    )
    credit = opts.credit_options(
        network, directory, given["stablecoin"], given["dev_stablecoin"], given["attesters"],
        given["quorum"], given["redeploy"],
    )  # fmt: skip
    for folder, option in ((directory, "--deployments-dir"), (abi_dir, "--abi-dir")):
        _writable_dir(folder, option)  # a record or ABI that cannot be written loses the run
    click.echo(f"network {provider.network_choice}, deployer {deployer.address}")
    if not credit.enabled:
        click.echo("credit: left out (no stablecoin: --stablecoin ADDRESS or --dev-stablecoin)")
    outcome = deploy_suite(
        deployer, verifier=verifier, oracle=oracle, logistics_oracle=logistics, arbiter=arbiter,
        escrow=escrow, credit=credit, network_choice=provider.network_choice, directory=directory,
        redeploy=given["redeploy"],
    )  # fmt: skip
    for name in write_abis(abi_dir, compiled_abis()):
        click.echo(f"updated ABI {name}")
    state = "written" if outcome.changed else "unchanged"
    click.echo(f"deployment record {outcome.path} ({state})")
    contracts = outcome.record.contracts
    for name, entry in contracts.items():
        click.echo(f"{name} {entry.address}")
    _echo_escrow(contracts)
    if "CreditLines" in contracts:
        _echo_credit(contracts)
    click.echo(
        "next: a verifier onboards merchants (`ape run ops approve-merchant ADDRESS --name NAME "
        "--identity TEXT`); `make api` serves the oracle service against this record"
    )


def _writable_dir(folder: Path, option: str) -> None:
    """Stops before anything is sent unless files can be written in ``folder`` (made if absent)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(
            f"cannot create {folder}: {exc.strerror}", param_hint=option
        ) from None
    writable(folder / ".deploy-check", option)


def _echo_escrow(contracts: dict[str, Any]) -> None:
    settings = contracts["OrderEscrow"].settings
    low, high = settings["disputeWindowBounds"]
    click.echo(
        f"OrderEscrow settings: fee {settings['feeBps']} bps to {settings['feeRecipient']}; "
        f"dispute windows {format_duration(low)}-{format_duration(high)}; arbitration "
        f"{format_duration(settings['arbitrationPeriod'])}; ship-by at most "
        f"{format_duration(settings['shipByHorizon'])} ahead; "
        f"tokens {', '.join(settings['allowedTokens']) or 'ETH only'}"
    )
    floors = [asset_of(token).fmt(units) for token, units in settings["sellerRecordFloors"].items()]
    click.echo(f"seller-record floors: {', '.join(floors) or 'none'}")
    custody = contracts["ProductRegistry"].roles.get("ORACLE_ROLE", [])
    logistics = contracts["OrderEscrow"].roles.get("ORACLE_ROLE", [])
    click.echo(
        f"custody oracle {', '.join(custody) or 'none'}; logistics oracle {', '.join(logistics)}"
    )


def _echo_credit(contracts: dict[str, Any]) -> None:
    verifier = contracts["AttestationVerifier"].settings
    asset = asset_of(contracts["CreditVault"].settings["asset"])
    policy = contracts["CreditLines"].settings["policy"]
    click.echo(
        f"Credit: pool asset {asset.symbol} {asset.token}; attesters "
        f"{', '.join(verifier['attesters'])} (quorum {verifier['quorum']}, set version "
        f"{verifier['attesterSetVersion']})"
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
