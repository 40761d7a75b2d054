"""The dashboard's HTML: one section a series, each a chart drawn as SVG (``app.stats.svg_charts``),
a sentence of its totals, its numbers in a table (in a ``<details>``, for screen readers and
anyone who wants them) and links to it as CSV and JSON. Every value is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from app.api.html_pages import escape_html as e
from app.api.html_pages import html_document
from app.api.page_language import Lang, Phrase
from app.shop.tokens import AmountText
from app.stats import wording as w
from app.stats.series import Cell, SeriesName, SeriesPublic
from app.stats.svg_charts import ChartSeries, bar_chart, histogram, line_chart

CSS = """
main{max-width:52rem}svg.chart{display:block;width:100%;height:auto;margin:.25rem 0}
table{border-collapse:collapse;font-size:.85rem;width:100%}th,td{text-align:left;
padding:.2rem .4rem;border-bottom:1px solid #c4c7cc}td.n{text-align:right}
.table-wrap{overflow-x:auto}.vh{position:absolute;width:1px;height:1px;overflow:hidden;
clip:rect(0 0 0 0);white-space:nowrap}summary{cursor:pointer;padding:.4rem 0}
p.downloads a{display:inline-block;padding:.4rem .5rem}nav.window a{display:inline-block;
padding:.4rem .5rem}nav.window [aria-current]{font-weight:700;color:#1b1f24}
"""
WINDOWS = (7, 30, 90, 365)


@dataclass(frozen=True)
class PageContext:
    """Who the page is about and how to link from it."""

    lang: Lang
    days: int
    switch: str  # the language switch (HTML)
    base_path: str  # the page's path, for the window links
    series_path: str  # where its series are: ``{series_path}/{name}.csv``
    merchant: str | None = None
    merchant_name: str | None = None


def render_dashboard(
    context: PageContext,
    series: Mapping[SeriesName, SeriesPublic],
    amount_text: AmountText,
    pool_token: str | None,
) -> str:
    lang = context.lang
    if context.merchant is None:
        title = w.TITLE.say(lang)
    else:
        title = w.MERCHANT_TITLE.say(lang).format(name=context.merchant_name or context.merchant)
    first = next(iter(series.values()))
    parts = [context.switch, f"<h1>{e(title)}</h1>"]
    if context.merchant is not None:
        platform = f'<a href="/dashboard?lang={e(lang.value)}">{e(w.PLATFORM_LINK.say(lang))}</a>'
        parts.append(
            f"<p>{e(w.MERCHANT_ADDRESS.say(lang))}: "
            f'<code id="merchant">{e(context.merchant)}</code> · {platform}</p>'
        )
    days_rows = series[SeriesName.ORDERS].rows
    if first.as_of_block is None or not days_rows:
        parts.append(f'<p id="as-of">{e(w.EMPTY_INDEX.say(lang))}</p>')
    else:
        parts.append(
            '<p id="as-of">'
            + e(
                w.AS_OF.say(lang).format(
                    block=first.as_of_block, days=context.days, last=days_rows[-1]["day"]
                )
            )
            + "</p>"
        )
    parts.append(_window_links(context))
    for name, one in series.items():
        parts.append(_section(name, one, context, amount_text, pool_token))
    return html_document(title, "".join(parts), lang.value, CSS)


def _window_links(context: PageContext) -> str:
    lang = context.lang
    links = []
    for days in WINDOWS:
        href = f"{context.base_path}?days={days}&lang={lang.value}"
        current = ' aria-current="page"' if days == context.days else ""
        links.append(f'<a href="{e(href)}"{current}>{e(w.DAYS.say(lang).format(days=days))}</a>')
    return f'<nav class="window" aria-label="{e(w.WINDOW.say(lang))}">{"".join(links)}</nav>'


def _section(
    name: SeriesName,
    series: SeriesPublic,
    context: PageContext,
    amount_text: AmountText,
    pool_token: str | None,
) -> str:
    lang = context.lang
    charts, summary = _charts(name, series, lang, amount_text, pool_token)
    heading = (w.GMV_SECTION if name is SeriesName.GMV else w.SECTION_TITLES[name]).say(lang)
    body = "".join(charts) if series.rows else f"<p>{e(w.NO_DATA.say(lang))}</p>"
    csv_href = f"{context.series_path}/{name.value}.csv?days={context.days}"
    json_href = f"{context.series_path}/{name.value}.json?days={context.days}"
    return (
        f'<section id="{e(name.value)}" aria-labelledby="{e(name.value)}-h">'
        f'<h2 id="{e(name.value)}-h">{e(heading)}</h2>{body}'
        f'<p class="summary">{e(summary)}</p>{_table(series, heading, lang)}'
        f'<p class="downloads">{e(w.DOWNLOAD.say(lang))}: '
        # Each link names its series to a screen reader, not only "CSV".
        f'<a href="{e(csv_href)}" download>CSV<span class="vh"> {e(heading)}</span></a> '
        f'<a href="{e(json_href)}">JSON<span class="vh"> {e(heading)}</span></a></p>'
        "</section>"
    )


def _table(series: SeriesPublic, heading: str, lang: Lang) -> str:
    head = "".join(
        f'<th scope="col">{e(w.COLUMNS.get(c, Phrase(c, c)).say(lang))}</th>'
        for c in series.columns
    )
    rows = "".join(
        "<tr>" + "".join(_cell(row.get(column), lang) for column in series.columns) + "</tr>"
        for row in series.rows
    )
    return (
        f"<details><summary>{e(w.NUMBERS.say(lang))}</summary>"
        # Focusable, so a keyboard can scroll a table wider than a phone.
        f'<div class="table-wrap" tabindex="0" role="region" '
        f'aria-label="{e(w.NUMBERS.say(lang))}: {e(heading)}">'
        f"<table><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table></div></details>"
    )


def _cell(value: Cell, lang: Lang) -> str:
    if value is None:
        return f"<td>{e(w.NOT_APPLICABLE.say(lang))}</td>"
    if isinstance(value, int):
        return f'<td class="n">{value:,}</td>'
    word = w.VALUES.get(value)
    return f"<td>{e(word.say(lang) if word else value)}</td>"


def _short_days(rows: Sequence[Mapping[str, Cell]]) -> list[str]:
    return [str(row["day"])[5:] for row in rows]


def _ints(rows: Sequence[Mapping[str, Cell]], column: str) -> list[int]:
    return [int(row[column] or 0) for row in rows]


def _percent(rate: Cell | float, lang: Lang) -> str:
    return w.NOT_APPLICABLE.say(lang) if rate is None else f"{float(rate) * 100:.1f} %"


def _charts(
    name: SeriesName,
    series: SeriesPublic,
    lang: Lang,
    amount_text: AmountText,
    pool_token: str | None,
) -> tuple[list[str], str]:
    """The section's charts and its sentence of totals."""
    rows = series.rows
    title = w.SECTION_TITLES[name].say(lang)
    summary = w.SECTION_SUMMARIES[name].say(lang)
    cid = f"chart-{name.value}"
    if name in (SeriesName.ITEMS, SeriesName.ORDERS):
        column = "registered" if name is SeriesName.ITEMS else "orders"
        values = _ints(rows, column)
        text = summary.format(total=f"{sum(values):,}", most=f"{max(values, default=0):,}")
        chart = bar_chart(cid, title, text, _short_days(rows), [ChartSeries(column, values)])
        return [chart], text
    if name is SeriesName.GMV:
        return _gmv(series, lang, amount_text)
    if name is SeriesName.DELIVERY_TIME:
        counts = _ints(rows, "orders")
        text = summary.format(total=f"{sum(counts):,}")
        labels = [str(row["label"]) for row in rows]
        return [histogram(cid, title, text, labels, counts)], text
    if name is SeriesName.DISPUTES_REFUNDS:
        orders, disputes, refunds = (_ints(rows, c) for c in ("orders", "disputes", "refunds"))
        total = sum(orders)
        text = summary.format(
            orders=f"{total:,}",
            disputes=f"{sum(disputes):,}",
            refunds=f"{sum(refunds):,}",
            dispute_rate=_percent(sum(disputes) / total if total else None, lang),
            refund_rate=_percent(sum(refunds) / total if total else None, lang),
        )
        lines = [
            ChartSeries(w.SERIES_NAMES["disputes"].say(lang), disputes),
            ChartSeries(w.SERIES_NAMES["refunds"].say(lang), refunds),
        ]
        return [line_chart(cid, title, text, _short_days(rows), lines)], text
    if name is SeriesName.REPORTS:
        return _reports(series, lang, cid, title, summary)
    if name is SeriesName.CREDIT_BANDS:
        approved, denied = _ints(rows, "approved"), _ints(rows, "denied")
        text = summary.format(approved=f"{sum(approved):,}", denied=f"{sum(denied):,}")
        bars = [
            ChartSeries(w.SERIES_NAMES["approved"].say(lang), approved),
            ChartSeries(w.SERIES_NAMES["denied"].say(lang), denied),
        ]
        labels = [str(row["band"]) for row in rows]
        return ([bar_chart(cid, title, text, labels, bars)] if rows else []), text
    if name is SeriesName.POOL:
        return _pool(series, lang, amount_text, pool_token, cid, title, summary)
    return _relay(series, lang, cid, title, summary)


def _gmv(series: SeriesPublic, lang: Lang, amount_text: AmountText) -> tuple[list[str], str]:
    tokens = sorted({str(row["token"]) for row in series.rows})
    charts, sentences = [], []
    for number, token in enumerate(tokens):
        rows = [row for row in series.rows if row["token"] == token]
        amounts = [int(str(row["amount"])) for row in rows]
        symbol = amount_text(token, 0).split(" ")[-1]
        title = w.SECTION_TITLES[SeriesName.GMV].say(lang).format(token=symbol)
        text = (
            w.SECTION_SUMMARIES[SeriesName.GMV]
            .say(lang)
            .format(
                total=amount_text(token, sum(amounts)),
                token=symbol,
                most=amount_text(token, max(amounts, default=0)),
            )
        )
        charts.append(
            line_chart(
                f"chart-gmv-{number}",
                title,
                text,
                _short_days(rows),
                [ChartSeries(symbol, amounts)],
                value_text=_amount_of(amount_text, token),
            )
        )
        sentences.append(text)
    return charts, " ".join(sentences)


def _amount_of(amount_text: AmountText, token: str) -> Callable[[float], str]:
    def said(value: float) -> str:
        return amount_text(token, int(value))

    return said


def _reports(
    series: SeriesPublic, lang: Lang, cid: str, title: str, summary: str
) -> tuple[list[str], str]:
    statuses = ["open", "confirmed", "dismissed"]
    kinds = sorted({str(row["kind"]) for row in series.rows})
    count = {(str(r["kind"]), str(r["status"])): int(r["reports"] or 0) for r in series.rows}
    bars = [
        ChartSeries(
            w.VALUES[k].say(lang) if k in w.VALUES else k, [count[(k, s)] for s in statuses]
        )
        for k in kinds
    ]
    totals = {s: sum(count[(k, s)] for k in kinds) for s in statuses}
    text = summary.format(**{s: f"{n:,}" for s, n in totals.items()})
    labels = [w.VALUES[s].say(lang) for s in statuses]
    return [bar_chart(cid, title, text, labels, bars)], text


def _pool(
    series: SeriesPublic,
    lang: Lang,
    amount_text: AmountText,
    pool_token: str | None,
    cid: str,
    title: str,
    summary: str,
) -> tuple[list[str], str]:
    def said(amount: float) -> str:
        return amount_text(pool_token, int(amount)) if pool_token else f"{int(amount):,}"

    rows = series.rows
    sizes, lent = _ints(rows, "pool_size"), _ints(rows, "lent_out")
    last = rows[-1] if rows else {}
    text = summary.format(
        size=said(sizes[-1] if sizes else 0),
        lent=said(lent[-1] if lent else 0),
        utilisation=_percent(last.get("utilisation"), lang),
    )
    lines = [
        ChartSeries(w.SERIES_NAMES["pool_size"].say(lang), sizes),
        ChartSeries(w.SERIES_NAMES["lent_out"].say(lang), lent),
    ]
    return [line_chart(cid, title, text, _short_days(rows), lines, value_text=said)], text


def _relay(
    series: SeriesPublic, lang: Lang, cid: str, title: str, summary: str
) -> tuple[list[str], str]:
    if not series.rows:
        return [], w.RELAY_UNKNOWN.say(lang)
    records = {str(row["state"]): int(row["records"] or 0) for row in series.rows}
    oldest = series.rows[0]["oldest_unconfirmed_seconds"]
    waits = (
        w.NOTHING_WAITS.say(lang) if oldest is None else w.SECONDS.say(lang).format(seconds=oldest)
    )
    text = summary.format(**{state: f"{n:,}" for state, n in records.items()}, oldest=waits)
    labels = [w.VALUES[state].say(lang) for state in records]
    bars = [ChartSeries("records", list(records.values()))]
    return [bar_chart(cid, title, text, labels, bars)], text
