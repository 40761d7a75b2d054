"""Several replicas of the service on one database, behind a round-robin front
(``harness.front``): what ``make demo-cluster`` runs, and the replica benchmarks measure.

Every replica runs the API and the background workers; the leases in the database let one lead
each worker (``app.db.lease``). ``env`` is the replicas' shared settings: a change applies to
each at its next start.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

from harness.nodes import free_port, stop_process
from harness.service import STOP_TIMEOUT_SECONDS, ServiceProcess, spawn_logged, wait_healthy


class ServiceCluster:
    def __init__(self, env: Mapping[str, str], port: int, logs: Path, replicas: int = 2) -> None:
        self.env = dict(env)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.logs = logs
        self.replicas = [
            ServiceProcess(self.env, free_port(), logs / f"replica-{n}.log")
            for n in range(1, replicas + 1)
        ]
        self.front: ServiceFront | None = None

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The front's process: the cluster runs while it does."""
        return None if self.front is None else self.front.process

    def start(self) -> None:
        for replica in self.replicas:
            replica.env = dict(self.env)
            replica.start()
        if self.front is None:
            self.front = ServiceFront(self.port, [r.port for r in self.replicas], self.logs)
            self.front.start()

    def stop(self) -> None:
        """The replicas, gracefully (the front stays: a restart is a rolling one to clients)."""
        for replica in self.replicas:
            replica.stop()

    def close(self) -> None:
        self.stop()
        if self.front is not None:
            self.front.stop()
            self.front = None

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class ServiceFront:
    """``python -m harness.front`` on ``port`` for the replicas' ports."""

    def __init__(self, port: int, backends: list[int], logs: Path) -> None:
        self.port = port
        self.backends = backends
        self.log = logs / "front.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Started once the replicas answer: it answers as they do (``/healthz`` through it)."""
        command = [sys.executable, "-m", "harness.front", str(self.port),
                   *map(str, self.backends)]  # fmt: skip
        self.process = spawn_logged(command, os.environ, self.log)
        wait_healthy(f"http://127.0.0.1:{self.port}", self.process)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, STOP_TIMEOUT_SECONDS)
