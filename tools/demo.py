"""`make demo`: the whole story on a local chain, told by the project's own commands and service.

Starts Anvil on 127.0.0.1:8545 (an Anvil already answering there is reused), deploys the suite,
and starts the oracle service (`make api`'s uvicorn) on 127.0.0.1:8000. Then each part is
played the way its real actor plays it (tools/demo_story.py): the verifier and the merchant with
their scripts and their own keys (`ape run merchant ...`), the carrier and the credit bureau with
signed webhooks to the service, buyers, borrowers and lenders with their scripts, and shoppers
through the service's API and pages. Then an attacker tries one attack of each kind the contracts
now refuse, against the same deployment, and the contract's reason is printed for each
(tools/demo_attacks.py). At the end it prints the verification pages to open and keeps the chain
and the service running until Ctrl-C (`--no-wait` stops them at once, for CI).

SIGINT, SIGTERM and SIGHUP all end it the same way: the service and the chain it started are
stopped before it exits (they run in sessions of their own, so no signal reaches them but ours).
It refuses to start, with exit status 2, when the service's port is taken, or the chain's port by
something that is not a chain, and names the process holding it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a file (`python tools/demo.py`): import the project

from harness import ports  # noqa: E402
from harness.cluster import ServiceCluster  # noqa: E402
from harness.nodes import state_spill_option, stop_process  # noqa: E402
from harness.service import ServiceProcess, service_environment  # noqa: E402
from tools import demo_attacks, demo_keeper, demo_story  # noqa: E402
from tools.demo_cluster import oracle_cluster, show_cluster  # noqa: E402
from tools.demo_support import (  # noqa: E402
    ATTESTER_KEY,
    BIN,
    BUREAU,
    CARRIER,
    CARRIER_ID,
    HOST,
    LOGISTICS_ORACLE_KEY,
    MERCHANT_ADDRESS,
    ORACLE_KEY,
    RIVAL_CARRIER,
    RIVAL_CARRIER_ID,
    Demo,
    ServiceHandle,
    Source,
    ape_run,
    kill_strays,
    rpc_answers,
    say,
)

ANVIL_START_TIMEOUT = 30.0
ANVIL_STOP_TIMEOUT = 10.0
CHAIN_PROBE_TIMEOUT = 3.0  # a chain answers eth_chainId at once; a silent listener is no chain
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PORT_TAKEN = 2  # the exit status when a port the demo needs is held by another process


class Stopped(BaseException):
    """A stop signal arrived. A BaseException, as KeyboardInterrupt is, so that no ``except
    Exception`` on the way swallows it: it unwinds ``main`` through the context managers that
    stop what the demo started."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    # Further signals are ignored: a second Ctrl-C must not cut the clean-up short and leave a
    # process behind. The clean-up is bounded (each child gets a timeout, then SIGKILL).
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, signal.SIG_IGN)
    raise Stopped(signum)


def stop_on_signals() -> None:
    """SIGINT (Ctrl-C), SIGTERM (a process manager, a CI timeout) and SIGHUP (a closed terminal)
    all stop the demo and what it started."""
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _on_stop_signal)


def taken_ports(rpc_port: int, api_port: int) -> list[int]:
    """The ports the demo cannot use: the service's when anything holds it; the chain's when
    something that is not a chain answering JSON-RPC holds it (a chain there is reused)."""
    rpc_taken = ports.port_taken(rpc_port)
    taken = []
    if rpc_taken and not rpc_answers(f"http://{HOST}:{rpc_port}", timeout=CHAIN_PROBE_TIMEOUT):
        taken.append(rpc_port)
    if ports.port_taken(api_port):
        # Name the chain's holder too: with the service's port taken it is most likely an
        # earlier demo, still running.
        if rpc_taken and rpc_port not in taken:
            taken.append(rpc_port)
        taken.append(api_port)
    return taken


@contextlib.contextmanager
def local_chain(port: int, workdir: Path) -> Iterator[None]:
    """Anvil for the story: an existing one is reused; one we start is stopped afterwards."""
    url = f"http://{HOST}:{port}"
    if rpc_answers(url):
        say(f"using the chain already answering at {url}")
        yield
        return
    with (workdir / "anvil.log").open("wb") as log:
        anvil = subprocess.Popen(
            [str(BIN / "anvil"), "--host", HOST, "--port", str(port), "--chain-id", "1337",
             "--hardfork", "cancun", *state_spill_option()],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    # From here on Anvil is stopped whatever happens, a signal during its start included.
    try:
        deadline = time.monotonic() + ANVIL_START_TIMEOUT
        while not rpc_answers(url):
            if anvil.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"Anvil did not start; see {workdir / 'anvil.log'}")
            time.sleep(0.1)
        say(f"started Anvil at {url} (log: {workdir / 'anvil.log'})")
        yield
    finally:
        stop_process(anvil, ANVIL_STOP_TIMEOUT)


def service_settings(
    workdir: Path,
    env: dict[str, str],
    rpc_url: str,
    url: str,
    sources: dict[str, Source],
    database: Path | str,
) -> dict[str, str]:
    """The service's environment for the story: this run's source credentials; the oracle and
    attester keys are public test keys of the devnet (a real set-up uses encrypted keystores);
    the identity key is the development key, the one the scripts use on a local network."""
    return service_environment(
        rpc_url=rpc_url,
        deployments_dir=Path(env["TRUSTMALL_DEPLOYMENTS_DIR"]),
        abi_dir=Path(env["TRUSTMALL_ABI_DIR"]),
        database=database,
        oracle_key=ORACLE_KEY,
        sources={
            CARRIER: sources[CARRIER].settings("carrier"),
            RIVAL_CARRIER: sources[RIVAL_CARRIER].settings("carrier"),
            BUREAU: sources[BUREAU].settings("bureau"),
        },
        environment="development",
        logistics_oracle_private_key=LOGISTICS_ORACLE_KEY,
        attester_private_key=ATTESTER_KEY,
        report_encryption_key=Fernet.generate_key().decode(),
        public_base_url=url,
        # A local Anvil has no reorgs: what is mined is final.
        confirmation_depth=0,
    )


@contextlib.contextmanager
def oracle_service(
    workdir: Path, env: dict[str, str], rpc_url: str, port: int, sources: dict[str, Source]
) -> Iterator[ServiceProcess]:
    """The service, one process, on a fresh SQLite database."""
    database = workdir / "service.db"
    for stale in workdir.glob("service.db*"):
        stale.unlink()
    url = f"http://{HOST}:{port}"
    service = ServiceProcess(
        service_settings(workdir, env, rpc_url, url, sources, database),
        port,
        workdir / "service.log",
    )
    # stop() inside the finally: a signal while the service starts must not leave it running.
    try:
        service.start()
        sys.stdout.write(
            f"started the service at {url} (API docs {url}/docs; log: {workdir / 'service.log'})\n"
        )
        yield service
    finally:
        service.stop()


def wait_for_ctrl_c(service: ServiceHandle) -> None:
    say(f"The chain and the service keep running: open the pages above, or {service.url}/docs. "
        "Ctrl-C stops them.")  # fmt: skip
    # A stop signal reaches only this process (the chain and the service run in sessions of
    # their own): it raises Stopped here, and the context managers around this call stop them.
    if service.process is not None:
        service.process.wait()


def tell(demo: Demo) -> None:
    """The honest story, then the attacks, then the keeper at work, then what shoppers see of
    it all."""
    demo_story.onboarding_and_registration(demo)
    demo_story.custody(demo)
    demo_story.counterfeit_and_recall(demo)
    demo_story.escrow(demo)
    demo_story.credit(demo)
    demo_attacks.attacks(demo, chapter=20)
    demo_keeper.keeper(demo, chapter=21)
    demo_story.shoppers_view(demo, chapter=22)


def main() -> int:
    started = time.monotonic()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=int(os.environ.get("RPC_PORT", "8545")))
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", "8000")))
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "demo")
    parser.add_argument("--no-wait", action="store_true", help="Stop everything at the end.")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="PostgreSQL and two replicas of the service behind a round-robin front.",
    )
    parser.add_argument(
        "--no-story",
        action="store_true",
        help="Start the chain, deploy and start the service, but play no chapter.",
    )
    args = parser.parse_args()
    taken = taken_ports(args.port, args.api_port)
    if taken:
        for port in taken:
            sys.stderr.write(ports.describe(port) + "\n")
        sys.stderr.write(
            "the demo needs these ports: stop what holds them, or choose others "
            "(make demo RPC_PORT=8555 API_PORT=8010)\n"
        )
        return PORT_TAKEN
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["TRUSTMALL_DEPLOYMENTS_DIR"] = str(args.workdir / "deployments")
    # The run's ABIs go beside its deployment record: the committed abi/ is left alone.
    env["TRUSTMALL_ABI_DIR"] = str(args.workdir / "abi")
    # ape-foundry connects to the Anvil at this address instead of starting its own.
    env["APE_FOUNDRY_HOST"] = f"http://{HOST}:{args.port}"
    for stale in args.workdir.glob("*.json"):
        stale.unlink()
    rpc_url = f"http://{HOST}:{args.port}"
    sources = {
        CARRIER: Source(
            CARRIER,
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(32),
            CARRIER_ID,
            merchants=(MERCHANT_ADDRESS,),
        ),
        RIVAL_CARRIER: Source(
            RIVAL_CARRIER, secrets.token_urlsafe(24), secrets.token_urlsafe(32), RIVAL_CARRIER_ID
        ),
        BUREAU: Source(BUREAU, secrets.token_urlsafe(24), secrets.token_urlsafe(32)),
    }
    try:
        stop_on_signals()  # from here on, whatever is started is stopped on a signal
        with local_chain(args.port, args.workdir):
            say("1. The platform deploys the suite, with its credit desk (a dev stablecoin)")
            ape_run(env, "deploy", "--redeploy", "--dev-stablecoin")
            say("2. The platform starts the oracle service")
            with (
                (
                    oracle_cluster(
                        args.workdir,
                        lambda url, database: service_settings(
                            args.workdir, env, rpc_url, url, sources, database
                        ),
                        args.api_port,
                    )
                    if args.cluster
                    else oracle_service(args.workdir, env, rpc_url, args.api_port, sources)
                ) as svc,
                httpx.Client(base_url=svc.url, timeout=30) as http,
            ):
                demo = Demo(
                    args.workdir, env, rpc_url, svc, http,
                    sources[CARRIER], sources[RIVAL_CARRIER], sources[BUREAU],
                )  # fmt: skip
                if not args.no_story:
                    tell(demo)
                if isinstance(svc, ServiceCluster):
                    show_cluster(svc)
                say(f"The end ({time.monotonic() - started:.0f} s). Files of this run are in "
                    f"{args.workdir}")  # fmt: skip
                if not args.no_wait:
                    wait_for_ctrl_c(svc)
    except subprocess.CalledProcessError as error:
        sys.stderr.write(f"demo step failed: {' '.join(map(str, error.cmd))}\n")
        return 1
    except Stopped as stopped:
        # Caught outside every context manager: by now each has stopped what it started, and
        # a child the signal caught being started is stopped here.
        kill_strays()
        sys.stderr.write(f"\n{stopped}: stopped the service and the chain\n")
        return 128 + stopped.signum
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
