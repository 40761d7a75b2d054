"""The TrustMall service as a child process, run as `make api` runs it (uvicorn, settings from
``TRUSTMALL_*`` variables): for `make demo`, the benchmarks and the tests that need a real process.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from harness.nodes import stop_process

ROOT = Path(__file__).resolve().parent.parent
FACTORY = "app.main:create_app"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0


def service_environment(
    *,
    rpc_url: str,
    deployments_dir: Path,
    database: Path | str,
    oracle_key: str,
    sources: Mapping[str, Mapping[str, Any]],
    abi_dir: Path | None = None,
    **settings: str | int | float,
) -> dict[str, str]:
    """This process's environment plus the service's settings (``database``: a SQLite file, or a
    database URL); ``settings`` are further fields
    of ``app.settings.Settings`` by name (``confirmation_depth=1``,
    ``logistics_oracle_private_key=...``). The keys are raw test keys, which the service's
    default environment (production) refuses: the environment is always written, development
    unless ``settings`` name another (``environment="test"``)."""
    env = {
        **os.environ,
        "TRUSTMALL_ENVIRONMENT": "development",
        "TRUSTMALL_RPC_URL": rpc_url,
        "TRUSTMALL_DEPLOYMENTS_DIR": str(deployments_dir),
        "TRUSTMALL_DATABASE_URL": database
        if isinstance(database, str)
        else f"sqlite:///{database}",
        "TRUSTMALL_ORACLE_PRIVATE_KEY": oracle_key,
        "TRUSTMALL_SOURCES": json.dumps(sources),
    }
    if abi_dir is not None:
        env["TRUSTMALL_ABI_DIR"] = str(abi_dir)
    env.update({f"TRUSTMALL_{name.upper()}": str(value) for name, value in settings.items()})
    return env


class ServiceProcess:
    """One uvicorn process of the service on a loopback port, or ``api_processes`` of them on one
    port (``python -m app.serve``); started, stopped or killed at will (a restart reuses the same
    environment, so the same database). ``uvicorn_args`` are further arguments of uvicorn's
    (``--no-access-log``, ``--loop uvloop``; app.serve takes these too). As a context manager:
    started on entry, stopped on exit."""

    def __init__(
        self,
        env: Mapping[str, str],
        port: int,
        log: Path,
        factory: str = FACTORY,
        uvicorn_args: Sequence[str] = (),
        api_processes: int = 0,
    ) -> None:
        self.env = dict(env)
        self.api_processes = api_processes
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.factory = factory
        self.uvicorn_args = list(uvicorn_args)
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()  # a process that never answered is not left behind
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        if self.api_processes:
            server = ["app.serve", "--workers", str(self.api_processes), "--factory", self.factory]
        else:
            server = ["uvicorn", self.factory, "--factory"]
        command = [
            sys.executable, "-m", *server,
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
            *self.uvicorn_args,
        ]  # fmt: skip
        process = self.process = spawn_logged(command, self.env, self.log)
        wait_healthy(self.url, process, timeout)

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the service is not running")
        return self.process.pid

    def rss_mib(self, field: str = "VmRSS") -> float:
        """Resident memory in MiB: all of it (``VmRSS``), or its anonymous part (``RssAnon``) or
        its file-backed part (``RssFile``: code and mapped files, such as a mapped SQLite file)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        kib = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith(f"{field}:")
        )
        return kib / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time the service has used: its process and the processes it
        started (uvicorn's ``--workers``, app.serve's processes), all of its session."""
        return session_cpu_seconds(self.pid)

    def cpu_by_process(self) -> dict[int, float]:
        """``cpu_seconds`` for each process of the service's session."""
        return session_cpu_by_process(self.pid)

    def stop(self) -> None:
        """A graceful stop (SIGTERM: uvicorn finishes its requests and the app's lifespan)."""
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, STOP_TIMEOUT_SECONDS)

    def kill(self) -> None:
        """kill -9 of the process group: nothing of the service gets to clean up."""
        process, self.process = self.process, None
        if process is not None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def running_service(
    env: Mapping[str, str],
    port: int,
    log: Path,
    factory: str = FACTORY,
    uvicorn_args: Sequence[str] = (),
) -> Iterator[ServiceProcess]:
    with ServiceProcess(env, port, log, factory, uvicorn_args) as service:
        yield service


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux, ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spawn_logged(command: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``command`` started from the repository in a session of its own (so that its group can be
    killed whole), its output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def session_processes(session: int) -> dict[int, list[str]]:
    """The running processes of a session: each one's ``/proc/PID/stat`` fields after its name
    (Linux)."""
    found: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[3]) == session:
            found[int(entry.name)] = fields
    return found


def session_cpu_seconds(session: int) -> float:
    """User + system CPU time of the running processes of a session (Linux, ``/proc``)."""
    return sum(session_cpu_by_process(session).values())


def session_cpu_by_process(session: int) -> dict[int, float]:
    """User + system CPU time of each running process of a session, by process id."""
    tick = os.sysconf("SC_CLK_TCK")
    return {pid: (int(f[11]) + int(f[12])) / tick for pid, f in session_processes(session).items()}


class WorkerProcess:
    """The service's background workers as a process of their own (``python -m app.worker``),
    beside API processes whose background tasks are off. As a context manager: started on entry,
    stopped (SIGTERM) on exit."""

    def __init__(self, env: Mapping[str, str], log: Path) -> None:
        self.env = dict(env)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self.process = spawn_logged([sys.executable, "-m", "app.worker"], self.env, self.log)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, STOP_TIMEOUT_SECONDS)

    def cpu_seconds(self) -> float:
        if self.process is None:
            raise RuntimeError("the workers are not running")
        return session_cpu_seconds(self.process.pid)


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` (plain HTTP) answers 200 now. For polling loops: ``httpx.get`` builds a
    client, and with it a TLS context from the CA bundle, at every call (~30 ms of CPU taken from
    the very process being waited for); urllib builds none for ``http://``."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status) == 200
    except (OSError, http.client.HTTPException):  # refused, reset, timed out, or not 2xx
        return False


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], timeout: float = START_TIMEOUT_SECONDS
) -> None:
    """Polls ``/healthz`` until it answers 200, or fails with the process's exit status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode} before answering")
        if answers(f"{url}/healthz"):
            return
        time.sleep(0.05)
    raise TimeoutError(f"the service at {url} did not answer within {timeout:.0f} s")
