"""The app's own error pages (an address with no page, a method an address does not answer, a
refused request on a page) speak the reader's language as the item pages do: Chinese for a reader
who prefers it, with the switch to English, and English otherwise. Programs still get JSON."""

from __future__ import annotations

import pytest

from tests.app.index.actors import Shop

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CHINESE = {**BROWSER, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


@pytest.mark.parametrize(
    ("method", "path", "status", "english", "chinese"),
    [
        ("GET", "/no/such/page", 404, "Page not found", "页面不存在"),
        ("DELETE", "/dashboard", 405, "Method not allowed", "不支持此请求方式"),
    ],
)
def test_an_error_page_is_in_the_readers_language_with_the_switch(
    shop: Shop, method: str, path: str, status: int, english: str, chinese: str
) -> None:
    in_chinese = shop.client.request(method, path, headers=CHINESE)
    in_english = shop.client.request(method, path, headers=BROWSER)
    switched = shop.client.request(method, f"{path}?lang=en", headers=CHINESE)

    assert in_chinese.status_code == in_english.status_code == switched.status_code == status
    assert '<html lang="zh-CN">' in in_chinese.text and chinese in in_chinese.text
    assert in_chinese.headers["content-language"] == "zh-CN"
    assert 'hreflang="en"' in in_chinese.text  # the switch to English
    assert '<html lang="en">' in in_english.text and english in in_english.text
    assert english in switched.text and chinese not in switched.text


def test_a_program_asking_for_no_page_still_gets_json(shop: Shop) -> None:
    answer = shop.client.get("/no/such/page", headers={"Accept": "application/json"})

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_a_refused_page_request_says_why_in_the_services_words_below_the_readers_own(
    shop: Shop,
) -> None:
    page = shop.client.get("/dashboard/merchants/not-an-address", headers=CHINESE)

    assert page.status_code == 422
    assert '<html lang="zh-CN">' in page.text and "请求无效" in page.text
    assert '详情: <code lang="en">' in page.text  # the service's own words, as given


def test_a_parameter_given_twice_is_refused_as_the_pages_other_refusals_are(shop: Shop) -> None:
    """A query parameter a page reads, given twice, is refused (``refuse_repeated_parameters``)
    rather than read as its last value: a page for a browser, JSON for a program where the page
    documents both, and always a page where it documents only HTML (the GS1 resolver)."""
    page = shop.client.get("/dashboard?days=7&days=30", headers=BROWSER)
    program = shop.client.get("/dashboard?days=7&days=30", headers={"Accept": "application/json"})
    link = shop.client.get(
        "/01/09506000134352/21/A1?linkType=gs1:pip&linkType=all",
        headers={"Accept": "application/json"},
    )

    assert page.status_code == program.status_code == link.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "days is given more than once" in page.text
    assert program.json()["error"]["code"] == "repeated_parameter"
    assert link.headers["content-type"].startswith("text/html")
    assert "linkType is given more than once" in link.text


def test_apps_made_one_after_another_wrap_a_route_once(shop: Shop) -> None:
    """Routes are the features' own, shared by every app a process makes: the refusal wraps
    each once, however many apps are made (tests make hundreds)."""
    from app.main import create_app

    route = next(r for r in shop.client.app.routes if getattr(r, "path", "") == "/dashboard")
    handler = route.app  # type: ignore[attr-defined]
    create_app(shop.client.app.state.services.settings)  # type: ignore[attr-defined]

    assert route.app is handler  # type: ignore[attr-defined]
