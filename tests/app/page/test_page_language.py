"""A page's language: ``?lang=`` first, then the reader's ``Accept-Language``, then English."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from app.api.page_language import (
    Lang,
    Phrase,
    language_headers,
    language_switch,
    page_language,
    preferred_language,
)


def _request(query: str = "", accept_language: str | None = None) -> Request:
    headers = [] if accept_language is None else [(b"accept-language", accept_language.encode())]
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/verify/x",
            "query_string": query.encode(),
            "headers": headers,
        }
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", Lang.EN),
        ("zh-CN,zh;q=0.9,en;q=0.8", Lang.ZH),
        ("zh-Hans", Lang.ZH),
        ("en-GB,zh;q=0.5", Lang.EN),
        ("fr-FR,zh-TW;q=0.4,en;q=0.3", Lang.ZH),
        ("de, fr", Lang.EN),
        ("zh;q=0, en;q=0.1", Lang.EN),
        ("en;q=0.2, ZH-cn;q=0.9", Lang.ZH),
    ],
)
def test_accept_language_chooses_between_the_two(header: str, expected: Lang) -> None:
    assert preferred_language(header) is expected


def test_the_query_parameter_overrides_the_header_and_an_unknown_one_is_ignored() -> None:
    assert page_language(_request("lang=en", "zh-CN")) is Lang.EN
    assert page_language(_request("lang=zh-CN", "en")) is Lang.ZH
    assert page_language(_request("lang=xx", "zh-CN")) is Lang.ZH


def test_the_switch_links_the_same_page_in_the_other_language_keeping_other_parameters() -> None:
    html = language_switch(_request("linkType=all&lang=en"), Lang.EN)
    assert 'href="/verify/x?linkType=all&amp;lang=zh-CN"' in html
    assert ">中文</a>" in html
    assert 'href="/verify/x?lang=en"' in language_switch(_request(), Lang.ZH)


def test_phrases_and_headers_name_the_language() -> None:
    phrase = Phrase("Authentic", "正品")
    assert (phrase.say(Lang.EN), phrase.say(Lang.ZH)) == ("Authentic", "正品")
    assert language_headers(Lang.ZH) == {"Content-Language": "zh-CN", "Vary": "Accept-Language"}
