"""Charts drawn on the server as inline SVG: bars (grouped when there are several series),
histograms (bars without gaps) and lines. No script, no library: each chart is an ``<svg
role="img">`` named by its ``<title>`` and ``<desc>``, scaled to its container by its viewBox,
and its numbers are in the page's data table beside it for screen readers.

Colours are drawn against the white the page's sections have: every series colour has a
contrast ratio of at least 3:1 with it (WCAG 1.4.11, graphics), the text at least 4.5:1. Each
bar and point carries its value (``data-value``) and label (``data-label``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.api.html_pages import escape_html as e

BACKGROUND = "#ffffff"
TEXT = "#1b1f24"
AXIS = "#5f6368"
# Blue, red, green, brown, purple: each at least 3:1 against BACKGROUND, and told apart by more
# than hue in the legend (its order and names).
PALETTE = ("#0b57d0", "#b3261e", "#137333", "#8a5300", "#6b3fa0")
WIDTH, HEIGHT = 480, 240
LEFT, RIGHT, TOP, BOTTOM = 8, 8, 44, 40
FONT = 16
# Lines start and end this far inside the frame, so the first and last day's labels fit.
LINE_INSET = 24


@dataclass(frozen=True)
class ChartSeries:
    """One series of a chart: its name (the legend's) and a value per label."""

    name: str
    values: Sequence[float]


ValueText = Callable[[float], str]


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _open(chart_id: str, title: str, desc: str) -> str:
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'aria-labelledby="{e(chart_id)}-t {e(chart_id)}-d" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{e(chart_id)}-t">{e(title)}</title><desc id="{e(chart_id)}-d">{e(desc)}</desc>'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="{BACKGROUND}"/>'
    )


def _frame(top_value: float, value_text: ValueText, series: Sequence[ChartSeries]) -> str:
    """The baseline, the top value's label and, for several series, the legend."""
    base = HEIGHT - BOTTOM
    parts = [
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="{AXIS}"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}" stroke="{AXIS}" '
        'stroke-dasharray="3 4"/>',
        f'<text class="top" x="{LEFT}" y="{TOP - 6}" font-size="{FONT}" fill="{TEXT}">'
        f"{e(value_text(top_value))}</text>",
    ]
    if len(series) > 1:
        x = WIDTH - RIGHT
        for index in reversed(range(len(series))):
            name = series[index].name
            width = 22 + int(_text_width(name))
            x -= width
            parts.append(
                f'<rect x="{x}" y="8" width="12" height="12" fill="{PALETTE[index % 5]}"/>'
                f'<text x="{x + 16}" y="19" font-size="{FONT}" fill="{TEXT}">{e(name)}</text>'
            )
    return "".join(parts)


def _text_width(text: str) -> float:
    """About how wide ``text`` is drawn: CJK characters are square, Latin ones narrower."""
    return sum(FONT if ord(char) >= 0x2E80 else FONT * 0.6 for char in text)


def _x_labels(labels: Sequence[str], centres: Sequence[float]) -> str:
    """Every label when they fit, else the first, the middle and the last."""
    shown: Sequence[int] = range(len(labels))
    if len(labels) * FONT * 4 > WIDTH:
        shown = sorted({0, len(labels) // 2, len(labels) - 1})
    y = HEIGHT - BOTTOM + FONT + 6
    parts = []
    for index in shown:
        anchor = "middle"
        if len(labels) > 1 and index == 0 and len(shown) != len(labels):
            anchor = "start"
        elif len(labels) > 1 and index == len(labels) - 1 and len(shown) != len(labels):
            anchor = "end"
        x = centres[index] if anchor == "middle" else (LEFT if anchor == "start" else WIDTH - RIGHT)
        parts.append(
            f'<text x="{x:.1f}" y="{y}" font-size="{FONT}" fill="{TEXT}" '
            f'text-anchor="{anchor}">{e(labels[index])}</text>'
        )
    return "".join(parts)


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[ChartSeries],
    *,
    value_text: ValueText = _number,
    gap: bool = True,
) -> str:
    """Vertical bars, one group per label and one bar per series in it."""
    top = max([value for s in series for value in s.values] + [0]) or 1
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / max(len(labels), 1)
    inner = slot * (0.8 if gap else 1.0)
    bar_width = inner / max(len(series), 1)
    base = HEIGHT - BOTTOM
    parts = [_open(chart_id, title, desc), _frame(top, value_text, series)]
    centres = [LEFT + slot * (index + 0.5) for index in range(len(labels))]
    for index, label in enumerate(labels):
        start = centres[index] - inner / 2
        for number, one in enumerate(series):
            value = one.values[index]
            height = (base - TOP) * value / top
            parts.append(
                f'<rect class="bar" x="{start + number * bar_width:.2f}" y="{base - height:.2f}" '
                f'width="{max(bar_width - (1 if gap else 0.5), 0.5):.2f}" height="{height:.2f}" '
                f'fill="{PALETTE[number % 5]}" data-series="{e(one.name)}" '
                f'data-label="{e(label)}" data-value="{e(_plain(value))}"/>'
            )
    parts.append(_x_labels(labels, centres))
    return "".join(parts) + "</svg>"


def histogram(
    chart_id: str, title: str, desc: str, labels: Sequence[str], counts: Sequence[float]
) -> str:
    """Bars touching each other: one per bin."""
    return bar_chart(chart_id, title, desc, labels, [ChartSeries("", counts)], gap=False)


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[ChartSeries],
    *,
    value_text: ValueText = _number,
) -> str:
    """A line per series over the labels (days), a point at each value."""
    top = max([value for s in series for value in s.values] + [0]) or 1
    plot_width = WIDTH - LEFT - RIGHT - 2 * LINE_INSET
    step = plot_width / max(len(labels) - 1, 1)
    base = HEIGHT - BOTTOM
    centres = [
        LEFT + LINE_INSET + step * index if len(labels) > 1 else WIDTH / 2
        for index in range(len(labels))
    ]
    parts = [_open(chart_id, title, desc), _frame(top, value_text, series)]
    for number, one in enumerate(series):
        colour = PALETTE[number % 5]
        points = [
            (centres[index], base - (base - TOP) * value / top)
            for index, value in enumerate(one.values)
        ]
        path = " ".join(f"{x:.2f},{y:.2f}" for x, y in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-dasharray="{"none" if number == 0 else "6 3"}"/>'
        )
        for index, (x, y) in enumerate(points):
            parts.append(
                f'<circle class="point" cx="{x:.2f}" cy="{y:.2f}" r="3" fill="{colour}" '
                f'data-series="{e(one.name)}" data-label="{e(labels[index])}" '
                f'data-value="{e(_plain(one.values[index]))}"/>'
            )
    parts.append(_x_labels(labels, centres))
    return "".join(parts) + "</svg>"


def _plain(value: float) -> str:
    if isinstance(value, int):
        return str(value)  # exact, whatever its size (uint256 amounts)
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}"


def contrast_ratio(foreground: str, background: str = BACKGROUND) -> float:
    """WCAG 2's contrast ratio of two ``#rrggbb`` colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
