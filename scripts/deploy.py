"""`ape run deploy`: deploy the TrustMall suite, grant its roles, record it, refresh abi/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from app.domain.deployments import deployments_dir as resolve_deployments_dir
from app.domain.deployments import load_record
from scripts._lib.abi import abi_dir as resolve_abi_dir
from scripts._lib.abi import compiled_abis, write_abis
from scripts._lib.deployer import deploy_suite, resolve_arbiter, resolve_oracle
from scripts._lib.signers import (
    parse_address,
    resolve_account,
    signer_option,
    test_account_address,
)
from scripts._lib.suite import (
    ARBITRATION_PERIOD_LIMITS,
    DEFAULT_POLICY_HELP,
    DISPUTE_WINDOW_LIMITS,
    MAX_FEE_BPS,
    CreditOptions,
    EscrowOptions,
)
from scripts._lib.units import format_duration, parse_duration

LOCAL_ATTESTER_TEST_INDEX = 6
DEV_STABLECOIN = "DevStablecoin"

HELP = """Deploy the TrustMall suite (ProductRegistry, OrderEscrow and, with a stablecoin,
the credit contracts), grant its roles and apply the admin settings.

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
                 and on a local network test account 1. The oracle also gets
                 OrderEscrow's ORACLE_ROLE (logistics reports).
  ARBITER_ROLE   on OrderEscrow to the arbiter: --arbiter; env
                 TRUSTMALL_ARBITER_ADDRESS; ape-config.yaml trustmall: arbiter:
                 (as for the oracle); on a local network test account 3.
  ORACLE_ROLE    on ProductRegistry to OrderEscrow, which records "sold" custody
                 events for the items of the orders it releases.

\b
OrderEscrow settings (a fresh deployment gets the defaults; on a reused one an
option left out keeps what the chain holds):
  --fee-bps N                 platform fee on releases, 0-1000 (default 100 = 1%)
  --fee-recipient ADDR        who is credited the fee (default: the deployer)
  --dispute-window-bounds MIN:MAX
                              windows buyers may choose (default 1d:30d; limits 1h-90d)
  --arbitration-period DUR    how long an arbiter has to rule (default 14d; 1d-90d)
  --allow-token ADDR          allow-list an ERC-20 for payments (repeatable; adds,
                              never removes). ETH needs no entry. Name an existing
                              ERC-20: the script deploys no token (but the devnet
                              faucet token of --dev-stablecoin).
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
  --attester ADDR     a bureau's signing address (repeatable; added to a reused
                      verifier). A fresh verifier needs one: on a local network
                      the default is test account 6.
  --quorum N          signatures an attestation needs, 1 to the attesters'
                      number (fresh default 1; reused: kept).
Roles: CreditLines gets the verifier's CONSUMER_ROLE, the vault's LINE_ROLE and
the escrow's FUNDER_ROLE; the deployer holds POLICY_ROLE and RISK_ROLE on it.

\b
Default credit policy, published when CreditLines is deployed (version 1):
{policy}

\b
Output:
  <deployments-dir>/<chain-id>.json  address, tx hash, block, compiler, roles, settings
      (--deployments-dir, else env TRUSTMALL_DEPLOYMENTS_DIR, else deployments/);
      credit settings: the policy with its version, attesters, quorum, pool asset.
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
@click.option("--oracle", help="Address to receive ORACLE_ROLE (default: see above).")
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
    "--allow-token",
    "allow_tokens",
    multiple=True,
    metavar="ADDRESS",
    help="Allow-list an ERC-20 for order payments (repeatable).",
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
    help="A credit bureau's signing address (repeatable; local default: test account 6).",
)
@click.option(
    "--quorum",
    type=click.IntRange(1),
    help="Attester signatures an attestation needs (fresh default 1).",
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
    arbiter: str | None,
    fee_bps: int | None,
    fee_recipient: str | None,
    dispute_window_bounds: str | None,
    arbitration_period: str | None,
    allow_tokens: tuple[str, ...],
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
    arbiter_address = resolve_arbiter(arbiter, network)
    escrow = EscrowOptions(
        fee_bps=fee_bps,
        fee_recipient=parse_address(fee_recipient, "--fee-recipient") if fee_recipient else None,
        dispute_window_bounds=_bounds(dispute_window_bounds),
        arbitration_period=_period(arbitration_period),
        allowed_tokens=tuple(_token(t) for t in allow_tokens),
    )
    directory = resolve_deployments_dir(deployments_dir)
    credit = _credit_options(
        network, directory, stablecoin, dev_stablecoin, attesters, quorum, redeploy
    )
    click.echo(f"network {provider.network_choice}, deployer {deployer.address}")
    if not credit.enabled:
        click.echo("credit: left out (no stablecoin: --stablecoin ADDRESS or --dev-stablecoin)")
    outcome = deploy_suite(
        deployer,
        verifier=verifier_address,
        oracle=oracle_address,
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
        f"{format_duration(settings['arbitrationPeriod'])}; "
        f"tokens {', '.join(settings['allowedTokens']) or 'ETH only'}"
    )
    contracts = outcome.record.contracts
    if "CreditLines" in contracts:
        _echo_credit(contracts["AttestationVerifier"].settings, contracts)


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
        f"{'allowed' if policy['walletDraws'] else 'not allowed'}"
    )
    for band, tier in enumerate(policy["tiers"]):
        click.echo(
            f"  band {band}: limit {asset.fmt(tier['limit'])}, APR {tier['aprBps'] / 100:g}%, "
            f"term {format_duration(tier['term'])}, grace {format_duration(tier['gracePeriod'])}, "
            f"late fee {asset.fmt(tier['lateFee'])}"
        )


def _credit_options(
    network: Any,
    directory: Path,
    stablecoin: str | None,
    dev_stablecoin: bool,
    attesters: tuple[str, ...],
    quorum: int | None,
    redeploy: bool,
) -> CreditOptions:
    """The credit part's stablecoin (given, a DevStablecoin, or the recorded vault's), its
    attesters and quorum, checked before anything is sent."""
    from ape import chain

    if stablecoin and dev_stablecoin:
        raise click.UsageError("give --stablecoin ADDRESS or --dev-stablecoin, not both")
    if dev_stablecoin and not network.is_local:
        raise click.UsageError(
            f"--dev-stablecoin deploys a faucet token for local devnets only, not on "
            f"{network.choice!r}: pass the stablecoin's address with --stablecoin"
        )
    record = load_record(directory, int(chain.chain_id))
    recorded = record.contracts if record is not None else {}
    dev = recorded.get(DEV_STABLECOIN)
    token: str | None = None
    if stablecoin:
        token = _token(stablecoin, "--stablecoin")
    elif not dev_stablecoin and "CreditVault" in recorded:
        # Neither option: the credit part goes on with the recorded vault's stablecoin.
        token = str(recorded["CreditVault"].constructor_args[0])
    if token is not None and dev is not None and dev.address == token:
        token, dev_stablecoin = None, True  # the recorded DevStablecoin: keep it in the suite
    addresses = tuple(dict.fromkeys(parse_address(a, "--attester") for a in attesters))
    defaults: tuple[str, ...] = ()
    if network.is_local:
        defaults = (test_account_address(LOCAL_ATTESTER_TEST_INDEX),)
    options = CreditOptions(
        stablecoin=token,
        dev_stablecoin=dev_stablecoin,
        attesters=addresses,
        default_attesters=defaults,
        quorum=quorum,
        decimals=6 if dev_stablecoin or token is None else _decimals(token),
    )
    if not options.enabled:
        if attesters or quorum is not None:
            raise click.UsageError("--attester and --quorum need the credit part: add a stablecoin")
        return options
    if redeploy or "AttestationVerifier" not in recorded:
        count = len(addresses or defaults)
        if count == 0:
            raise click.UsageError(
                f"the attestation verifier needs an attester on {network.choice!r}: --attester"
            )
        if quorum is not None and quorum > count:
            raise click.BadParameter(
                f"{quorum} is more than the {count} attester(s)", param_hint="--quorum"
            )
    return options


def _decimals(token: str) -> int:
    from scripts._lib.escrow import erc20

    try:
        return int(erc20(token).decimals())
    except Exception:
        raise click.BadParameter(
            f"{token} answers no decimals(): not an ERC-20 stablecoin", param_hint="--stablecoin"
        ) from None


def _duration(text: str, option: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _within(seconds: int, limits: tuple[int, int], option: str) -> int:
    low, high = limits
    if not low <= seconds <= high:
        raise click.BadParameter(
            f"{format_duration(seconds)} is outside the contract's limits "
            f"{format_duration(low)}-{format_duration(high)}",
            param_hint=option,
        )
    return seconds


def _bounds(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    option = "--dispute-window-bounds"
    low_text, sep, high_text = text.partition(":")
    if not sep:
        raise click.BadParameter("give MIN:MAX, e.g. 1d:30d", param_hint=option)
    low = _within(_duration(low_text, option), DISPUTE_WINDOW_LIMITS, option)
    high = _within(_duration(high_text, option), DISPUTE_WINDOW_LIMITS, option)
    if low > high:
        raise click.BadParameter("MIN is longer than MAX", param_hint=option)
    return low, high


def _period(text: str | None) -> int | None:
    if text is None:
        return None
    option = "--arbitration-period"
    return _within(_duration(text, option), ARBITRATION_PERIOD_LIMITS, option)


def _token(text: str, option: str = "--allow-token") -> str:
    """An ERC-20: an address holding code (checked before anything is sent)."""
    from ape import chain

    address = parse_address(text, option)
    if not chain.provider.get_code(address):
        raise click.BadParameter(f"no contract code at {address}", param_hint=option)
    return address
