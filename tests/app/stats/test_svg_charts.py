"""The chart module draws what it is given: a bar per value and series, a point per value, each
with its value, titled and described for assistive technology, in colours readable on white."""

from __future__ import annotations

from itertools import pairwise
from xml.etree import ElementTree

from app.stats.svg_charts import (
    AXIS,
    PALETTE,
    TEXT,
    ChartSeries,
    bar_chart,
    contrast_ratio,
    histogram,
    line_chart,
)

SVG = "{http://www.w3.org/2000/svg}"


def _shapes(svg: str, tag: str) -> list[ElementTree.Element]:
    return [s for s in ElementTree.fromstring(svg).iter(f"{SVG}{tag}") if s.get("data-value")]


def test_grouped_bars_carry_their_values_heights_and_names() -> None:
    svg = bar_chart(
        "c1",
        "Credit decisions",
        "2 bands",
        ["band 1", "band 2"],
        [ChartSeries("approved", [3, 0]), ChartSeries("denied", [1, 6])],
    )
    root = ElementTree.fromstring(svg)

    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-t c1-d"
    assert root.get("viewBox") == "0 0 480 240"  # scales with its container
    assert root.find(f"{SVG}title").text == "Credit decisions"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "2 bands"  # type: ignore[union-attr]
    bars = _shapes(svg, "rect")
    assert [(b.get("data-series"), b.get("data-label"), b.get("data-value")) for b in bars] == [
        ("approved", "band 1", "3"),
        ("denied", "band 1", "1"),
        ("approved", "band 2", "0"),
        ("denied", "band 2", "6"),
    ]
    heights = [float(b.get("height", "")) for b in bars]
    assert heights[3] == max(heights) and heights[2] == 0
    assert abs(heights[0] / heights[3] - 0.5) < 1e-6


def test_a_histogram_has_a_bar_per_bin_touching_the_next() -> None:
    bars = _shapes(histogram("h", "Delivery", "d", ["a", "b", "c"], [1, 4, 2]), "rect")

    assert [b.get("data-value") for b in bars] == ["1", "4", "2"]
    edges = [(float(b.get("x", "")), float(b.get("width", ""))) for b in bars]
    assert all(abs(x + w + 0.5 - nxt) < 0.02 for (x, w), (nxt, _) in pairwise(edges))


def test_lines_have_a_point_per_value_and_exact_large_amounts() -> None:
    wei = 123_456_789_012_345_678_901
    svg = line_chart("l", "Value", "per day", ["12-01", "12-02"], [ChartSeries("ETH", [0, wei])])

    points = _shapes(svg, "circle")
    assert [p.get("data-value") for p in points] == ["0", str(wei)]
    assert float(points[1].get("cy", "")) < float(points[0].get("cy", ""))
    assert len(ElementTree.fromstring(svg).findall(f"{SVG}polyline")) == 1


def test_labels_are_escaped() -> None:
    svg = bar_chart("x", '<b>"t"</b>', "&", ["<i>"], [ChartSeries("<s>", [1])])

    assert "<b>" not in svg and "<i>" not in svg and "<s>" not in svg
    ElementTree.fromstring(svg)  # still well-formed


def test_colours_are_readable_on_the_charts_white() -> None:
    assert all(contrast_ratio(colour) >= 3 for colour in (*PALETTE, AXIS))
    assert contrast_ratio(TEXT) >= 4.5
    assert round(contrast_ratio("#777777"), 2) == 4.48  # the formula, on a known grey
