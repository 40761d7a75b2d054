"""Headless Chromium driven over the DevTools protocol: open a page at a phone's size, run
script in it, take its screenshot, and check it with axe-core (npm's, pinned in package.json).

The command-line ``--dump-dom``/``--screenshot`` of ``harness.browser`` cannot run script in a
page; an accessibility check must. The browser resolves no host but loopback, so a page that
loads anything from the internet fails its check instead of passing only where a CDN answers.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from harness.browser import PHONE_HEIGHT, PHONE_WIDTH

ROOT = Path(__file__).resolve().parent.parent
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_SECONDS = 30.0
# axe-core's impacts, worst first; a page passes with none of the first two.
BLOCKING_IMPACTS = ("critical", "serious")


class DevToolsError(RuntimeError):
    """The browser answered a command with an error, or a page's script threw."""


@dataclass(frozen=True)
class Violation:
    """One axe-core rule a page breaks: its id, impact, help text and the elements at fault."""

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.impact}: {self.rule} ({self.help}) at {', '.join(self.targets)}"


class Page:
    """One browser tab, at a phone's viewport."""

    def __init__(self, socket: ClientConnection, session_id: str) -> None:
        self._socket = socket
        self._session = session_id
        self._next_id = 0
        self._axe_source: str | None = None
        # Events that arrived while a command's answer was awaited, for _wait_event.
        self._events: list[dict[str, Any]] = []

    def command(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return _command(self, method, params, self._session)

    def open(self, url: str, language: str = "en") -> None:
        """Load ``url`` as a reader of ``language`` would (its ``Accept-Language``), until its
        load event."""
        self.command("Network.setExtraHTTPHeaders", {"headers": {"Accept-Language": language}})
        self._events.clear()
        self.command("Page.navigate", {"url": url})
        _wait_event(self, "Page.loadEventFired", self._session)

    def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` in the page (awaited when it is a promise)."""
        answer = self.command(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in answer:
            raise DevToolsError(json.dumps(answer["exceptionDetails"])[:2_000])
        return answer["result"].get("value")

    def screenshot(self, path: Path | None = None) -> bytes:
        """The viewport as PNG, also written to ``path`` when given."""
        data = base64.b64decode(self.command("Page.captureScreenshot", {"format": "png"})["data"])
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return data

    def accessibility_violations(self) -> list[Violation]:
        """axe-core's violations of the WCAG 2.x A and AA rules on the page as loaded."""
        if self._axe_source is None:
            self._axe_source = AXE_SCRIPT.read_text()
        self.evaluate(self._axe_source)
        found = self.evaluate(
            "axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},"
            " resultTypes: ['violations']}).then(r => r.violations.map(v => ({rule: v.id,"
            " impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(' '))})))"
        )
        return [
            Violation(v["rule"], v["impact"] or "minor", v["help"], tuple(v["targets"]))
            for v in found
        ]


def blocking(violations: list[Violation]) -> list[Violation]:
    """The violations a page must not have: critical or serious."""
    return [v for v in violations if v.impact in BLOCKING_IMPACTS]


@contextmanager
def browser_page(
    profile_dir: Path, width: int = PHONE_WIDTH, height: int = PHONE_HEIGHT
) -> Iterator[Page]:
    """A tab of a fresh headless Chromium (its profile in ``profile_dir``), closed after."""
    binary = shutil.which("chromium")
    assert binary is not None, "Debian's chromium is required (apt-get install chromium)"
    process = subprocess.Popen(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile_dir / 'devtools-profile'}",
            "about:blank",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        socket = connect(_debugger_address(process), max_size=None, open_timeout=TIMEOUT_SECONDS)
        with socket:
            root = Page(socket, "")
            target = _command(root, "Target.createTarget", {"url": "about:blank"}, None)
            attached = _command(
                root, "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
            )
            page = Page(socket, attached["sessionId"])
            page.command("Page.enable")
            page.command("Network.enable")
            page.command(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
            )
            yield page
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT_SECONDS)
        if process.stderr is not None:
            process.stderr.close()


def _debugger_address(process: subprocess.Popen[str]) -> str:
    """The browser's DevTools WebSocket address, from the line Chromium prints when it listens."""
    assert process.stderr is not None
    seen: list[str] = []
    for line in process.stderr:
        if line.startswith("DevTools listening on "):
            return line.removeprefix("DevTools listening on ").strip()
        seen.append(line)
    raise DevToolsError("Chromium exited before listening: " + "".join(seen[-20:]))


def _command(
    page: Page, method: str, params: dict[str, Any] | None, session: str | None = None
) -> dict[str, Any]:
    page._next_id += 1
    message: dict[str, Any] = {"id": page._next_id, "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    page._socket.send(json.dumps(message))
    while True:
        answer = json.loads(page._socket.recv(timeout=TIMEOUT_SECONDS))
        if "method" in answer:
            page._events.append(answer)
        elif answer.get("id") == page._next_id:
            if "error" in answer:
                raise DevToolsError(f"{method}: {answer['error']}")
            result: dict[str, Any] = answer["result"]
            return result


def _wait_event(page: Page, event: str, session: str) -> None:
    """Until ``event`` arrives for ``session`` (or had arrived), forgetting the events before."""
    while True:
        message = (
            page._events.pop(0)
            if page._events
            else json.loads(page._socket.recv(timeout=TIMEOUT_SECONDS))
        )
        if message.get("method") == event and message.get("sessionId") == session:
            return
