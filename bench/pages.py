"""People's pages under the same load as the JSON they explain, on ``bench.verify``'s service and
index, in the same run: the item page (``/verify/{id}``), the page a label's GS1 Digital Link
resolves to (``/01/{gtin}/21/{serial}``), and the market's figures (``/v1/stats``,
``/dashboard``).

Pages are asked for over random items of the 100,000 the index holds, so a page cache helps only
as much as it would for shoppers scanning different labels; with no ``Accept-Language``, so in
English.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from bench.http_load import LoadResult, load
from bench.model import Peer, Row, Target
from harness.service import ServiceProcess

PAGE_RPS_TARGET = Target(2_000, ">=")
PAGE_P99_TARGET = Target(25)
FIGURES_RPS_TARGET = Target(1_000, ">=")
SECONDS = 8.0
WARM_UP_SECONDS = 1.0
CONNECTIONS = 8
# What the verdict banner says of an authentic item (app.shop.wording), to check each page first.
AUTHENTIC_BANNER = b'id="verdict">Authentic<'


class Measured(NamedTuple):
    result: LoadResult
    cpu_us: float  # service CPU time per request
    # The share of the service's CPU time its busiest process used: with several API processes,
    # how evenly the kernel spread the connections (1.0 for one process).
    busiest_share: float = 1.0


class Page(NamedTuple):
    name: str  # what bench.split_pages calls it
    key: str
    label: str
    paths: list[str]
    check: bytes  # what the page must hold, checked once before the load


def measure(service: ServiceProcess, paths: list[str], connections: int = CONNECTIONS) -> Measured:
    """``paths`` under load after a warm-up; the result and the service's CPU per request."""
    load(service.port, paths, WARM_UP_SECONDS, connections)
    before = service.cpu_by_process()
    result = load(service.port, paths, SECONDS, connections)
    if result.errors:
        raise RuntimeError(f"{result.errors} of {result.requests} requests failed: {paths[0]}")
    after = service.cpu_by_process()
    used = [after[pid] - before.get(pid, 0.0) for pid in after]
    total = sum(used)
    return Measured(result, total / result.requests * 1e6, max(used) / total if total > 0 else 1.0)


def page_rows(
    service: ServiceProcess,
    get: Callable[[str], tuple[int, bytes]],
    item_pages: list[str],
    link_pages: list[str],
    json: Measured,
) -> tuple[list[Row], dict[str, Measured]]:
    """The item pages and the market's figures, beside ``json`` (``GET /v1/items/{id}``
    measured just before on the same items); the rows, and the item pages' figures by name
    (``page``, ``link``) for ``bench.split_pages``."""
    pages = [
        Page(
            "page",
            "verify.page",
            "`GET /verify/{id}` (the item's page)",
            item_pages,
            AUTHENTIC_BANNER,
        ),
        Page(
            "link",
            "verify.link_page",
            "`GET /01/{gtin}/21/{serial}` (the label's GS1 Digital Link)",
            link_pages,
            AUTHENTIC_BANNER,
        ),
    ]
    figures = [
        Page("stats", "verify.stats", "`GET /v1/stats`", ["/v1/stats"], b'"items"'),
        Page("dashboard", "verify.dashboard", "`GET /dashboard`", ["/dashboard"], b"<svg"),
    ]
    for page in (*pages, *figures):
        status, body = get(page.paths[0])
        if status != 200 or page.check not in body:
            raise RuntimeError(f"{page.paths[0]} answered {status}: {body[:300]!r}")
    note = (
        f"{CONNECTIONS} keep-alive connections for {SECONDS:.0f} s, random items of the index, "
        "in English; the same service and items as the JSON rows; the targets are the "
        "deployment for throughput's (API processes + workers' process, rows below)"
    )
    rows: list[Row] = []
    figures_of: dict[str, Measured] = {}
    for page in pages:
        measured = figures_of[page.name] = measure(service, page.paths)
        rows += read_rows(
            page.key,
            page.label,
            measured,
            json,
            peer="JSON `GET /v1/items/{id}`, this run",
            note=note,
            cpu_note=_CPU_NOTE + f" (~{1e6 / measured.cpu_us:,.0f} req/s on a core of its own)",
        )
    for page in figures:
        measured = measure(service, page.paths)
        rows += [
            Row(
                f"{page.key}_rps",
                f"{page.label}: requests per second",
                round(measured.result.rps),
                "req/s",
                target=FIGURES_RPS_TARGET,
                note=f"{CONNECTIONS} keep-alive connections for {SECONDS:.0f} s; p50 "
                f"{measured.result.percentile_ms(0.50):.2f} ms, p99 "
                f"{measured.result.percentile_ms(0.99):.2f} ms; the index of 100,000 items",
            ),
            _cpu_row(page, measured, None),
        ]
    return rows, figures_of


def read_rows(
    key: str,
    label: str,
    measured: Measured,
    json: Measured,
    *,
    peer: str,
    note: str,
    cpu_note: str,
    targets: bool = False,
    p99_note: str = "",
) -> list[Row]:
    """A page's requests per second, p99 and CPU per request, beside the JSON's (``peer``)."""
    result = measured.result
    return [
        Row(
            f"{key}_rps",
            f"{label}: requests per second",
            round(result.rps),
            "req/s",
            target=PAGE_RPS_TARGET if targets else None,
            peer=Peer(peer, round(json.result.rps)),
            note=note,
        ),
        Row(
            f"{key}_p99_ms",
            f"{label}: p99 latency",
            round(result.percentile_ms(0.99), 2),
            "ms",
            target=PAGE_P99_TARGET if targets else None,
            peer=Peer(peer, round(json.result.percentile_ms(0.99), 2)),
            note=f"p50 {result.percentile_ms(0.50):.2f} ms{p99_note}",
        ),
        Row(
            f"{key}_cpu_us",
            f"{label}: service CPU time per request",
            round(measured.cpu_us),
            "µs",
            peer=Peer(peer, round(json.cpu_us)),
            note=cpu_note,
        ),
    ]


_CPU_NOTE = (
    "user + system time of the service process over the load, divided by the requests answered"
)


def _cpu_row(page: Page, measured: Measured, peer: Peer | None) -> Row:
    return Row(
        f"{page.key}_cpu_us",
        f"{page.label}: service CPU time per request",
        round(measured.cpu_us),
        "µs",
        peer=peer,
        note=_CPU_NOTE + f" (~{1e6 / measured.cpu_us:,.0f} req/s on a core of its own)",
    )
