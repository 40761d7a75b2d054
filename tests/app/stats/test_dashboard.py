"""The dashboard pages and their series: charts drawn as SVG with the right bars and points,
the numbers in a table and as CSV and JSON, one merchant's figures apart from another's, both
languages, hostile names escaped, clear refusals."""

from __future__ import annotations

import csv
import io
import re
from xml.etree import ElementTree

from app.domain.vocab import LogisticsKind
from tests.app.index.actors import Actor, Shop, SuiteDriver
from tests.app.stats.story import ETH, play_story

SVG = "{http://www.w3.org/2000/svg}"


def _chart(page: str, chart_id: str) -> ElementTree.Element:
    match = re.search(rf'<svg class="chart"[^>]*aria-labelledby="{chart_id}-t.*?</svg>', page)
    assert match is not None, chart_id
    return ElementTree.fromstring(match.group(0))


def _values(svg: ElementTree.Element, kind: str) -> list[tuple[str, str, str]]:
    """(series, label, value) of each bar (``rect``) or point (``circle``)."""
    return [
        (shape.get("data-series", ""), shape.get("data-label", ""), shape.get("data-value", ""))
        for shape in svg.iter(f"{SVG}{kind}")
        if shape.get("data-value") is not None
    ]


def _csv(shop: Shop, path: str) -> list[dict[str, str]]:
    response = shop.client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_a_merchants_page_draws_its_story_and_offers_its_numbers(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor, shopper: Actor
) -> None:
    play_story(suite, merchant, buyer, shopper)
    shop.index()
    today = suite_day(suite)

    response = shop.client.get(f"/dashboard/merchants/{merchant.address}", params={"days": 7})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    items = _chart(page, "chart-items")
    assert items.get("role") == "img" and items.find(f"{SVG}title") is not None
    assert items.find(f"{SVG}desc") is not None
    bars = _values(items, "rect")
    assert len(bars) == 7 and bars[-1] == ("registered", today[5:], "6")  # 3 single + 3 declared
    assert {value for _, _, value in bars[:-1]} == {"0"}
    gmv = _values(_chart(page, "chart-gmv-0"), "circle")
    assert len(gmv) == 7 and gmv[-1][2] == str(7 * 10**15)
    histogram = _values(_chart(page, "chart-delivery_time"), "rect")
    assert [value for _, _, value in histogram] == ["1", "0", "0", "0", "0", "0", "0"]
    disputes = _values(_chart(page, "chart-disputes_refunds"), "circle")
    assert [(s, v) for s, _, v in disputes if _ == today[5:]] == [
        ("Disputes", "1"),
        ("Refunds", "1"),
    ]
    reports = _values(_chart(page, "chart-reports"), "rect")
    assert reports == [
        ("counterfeit", "open", "1"),
        ("counterfeit", "confirmed", "1"),
        ("counterfeit", "dismissed", "0"),
    ]
    assert "0.007 ETH" in page  # amounts read as people read them
    assert page.count("<details>") == 6  # a table of numbers for each chart's section
    for platform_only in ("credit_bands", "pool", "relay_lag"):
        assert f'id="{platform_only}"' not in page

    items_csv = _csv(shop, f"/v1/stats/merchants/{merchant.address}/series/items.csv?days=7")
    assert [row["day"] for row in items_csv][-1] == today and len(items_csv) == 7
    assert items_csv[-1] == {
        "day": today, "registered": "6", "single": "3", "batch_declared": "3",
        "batch_activated": "1", "batches": "1",
    }  # fmt: skip
    gmv_csv = _csv(shop, f"/v1/stats/merchants/{merchant.address}/series/gmv.csv?days=7")
    assert gmv_csv[-1] == {
        "day": today, "token": ETH, "orders": "3", "amount": str(7 * 10**15),
        "amount_text": "0.007 ETH",
    }  # fmt: skip
    rates = shop.client.get(
        f"/v1/stats/merchants/{merchant.address}/series/disputes_refunds.json?days=7"
    ).json()
    assert rates["merchant"] == merchant.address and rates["days"] == 7
    assert rates["rows"][-1] == {
        "day": today, "orders": 3, "disputes": 1, "refunds": 1,
        "dispute_rate": "0.3333", "refund_rate": "0.3333",
    }  # fmt: skip


def suite_day(suite: SuiteDriver) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(suite.block_time(), UTC).date().isoformat()


def test_one_merchants_figures_stay_its_own(
    shop: Shop, suite: SuiteDriver, merchant: Actor, buyer: Actor
) -> None:
    other = suite.new_merchant("Other Goods Ltd")
    mine = suite.register_item(merchant)
    theirs = [suite.register_item(other) for _ in range(2)]
    suite.open_order(buyer, merchant, [mine.item_id], amount=10**15)
    for item in theirs:
        order = suite.open_order(buyer, other, [item.item_id], amount=5 * 10**15)
        suite.ship(other, order)
        suite.report(order, LogisticsKind.DELIVERED)
    shop.index()

    my_orders = _csv(shop, f"/v1/stats/merchants/{merchant.address}/series/orders.csv?days=1")
    their_orders = _csv(shop, f"/v1/stats/merchants/{other.address}/series/orders.csv?days=1")
    everyone = _csv(shop, "/v1/stats/series/orders.csv?days=1")
    assert [row["orders"] for row in my_orders] == ["1"]
    assert [row["orders"] for row in their_orders] == ["2"]
    assert [row["orders"] for row in everyone] == ["3"]
    my_delivery = _csv(shop, f"/v1/stats/merchants/{merchant.address}/series/delivery_time.csv")
    assert {row["orders"] for row in my_delivery} == {"0"}
    page = shop.client.get(f"/dashboard/merchants/{other.address}", params={"days": 1}).text
    assert _values(_chart(page, "chart-items"), "rect") == [
        ("registered", suite_day(suite)[5:], "2")
    ]
    assert "Other Goods Ltd" in page and "Test Goods Ltd" not in page


def test_the_platforms_page_speaks_english_or_chinese(shop: Shop) -> None:
    shop.index()

    english = shop.client.get("/dashboard")
    chinese = shop.client.get("/dashboard", params={"lang": "zh-CN"})
    preferred = shop.client.get("/dashboard", headers={"Accept-Language": "zh;q=0.9, en;q=0.5"})

    assert english.status_code == chinese.status_code == 200
    assert '<html lang="en">' in english.text and "TrustMall dashboard" in english.text
    assert '<html lang="zh-CN">' in chinese.text and "数据看板" in chinese.text
    assert chinese.headers["content-language"] == "zh-CN"
    assert '<html lang="zh-CN">' in preferred.text
    assert preferred.headers["vary"] == "Accept-Language"
    for section in ("credit_bands", "pool", "relay_lag"):
        assert f'id="{section}"' in english.text
    assert 'hreflang="zh-CN"' in english.text  # the switch to the other language


def test_a_hostile_merchant_name_is_shown_as_text(shop: Shop, suite: SuiteDriver) -> None:
    hostile = suite.new_merchant('<script>alert("x")</script> & <img src=x onerror=1>')
    shop.index()

    page = shop.client.get(f"/dashboard/merchants/{hostile.address}").text

    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in page


def test_refusals_are_clear(shop: Shop, suite: SuiteDriver, merchant: Actor) -> None:
    shop.index()
    stranger = suite.new_account()

    unknown = shop.client.get(f"/v1/stats/merchants/{stranger.address}/series/items.csv")
    platform_only = shop.client.get(f"/v1/stats/merchants/{merchant.address}/series/pool.json")
    malformed = shop.client.get("/v1/stats/merchants/0x12/series/items.csv")
    no_series = shop.client.get("/v1/stats/series/nonsense.csv")
    bad_window = shop.client.get("/v1/stats/series/items.json", params={"days": 0})
    unknown_page = shop.client.get(
        f"/dashboard/merchants/{stranger.address}", headers={"Accept": "text/html"}
    )

    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "merchant_unknown")
    assert (platform_only.status_code, platform_only.json()["error"]["code"]) == (
        404,
        "series_platform_only",
    )
    assert (malformed.status_code, malformed.json()["error"]["code"]) == (422, "invalid_address")
    assert (no_series.status_code, no_series.json()["error"]["code"]) == (422, "validation_failed")
    assert bad_window.status_code == 422
    assert unknown_page.status_code == 404 and "text/html" in unknown_page.headers["content-type"]
