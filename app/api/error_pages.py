"""The page a person gets when a request goes wrong: in their language (``app.api.page_language``),
in the verdict banner's place, with the language switch; the shop's pages and the app-wide errors
(404, 405, a refused request) alike. A ``detail`` (the service's own words about the refusal, in
English, as its JSON answer gives them) follows as given."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.api.html_pages import escape_html as e
from app.api.html_pages import html_document
from app.api.page_language import Phrase, language_headers, language_switch, page_language

DETAIL = Phrase("Detail", "详情")

# Each status a page may answer with: its title and what it means to a reader.
_STATUS_WORDS: dict[int, tuple[Phrase, Phrase]] = {
    400: (
        Phrase("Bad request", "请求有误"),
        Phrase("The service could not read this request.", "服务无法读取此请求。"),
    ),
    401: (
        Phrase("Sign-in needed", "需要登录"),
        Phrase("Sign in with your wallet to see this page.", "请用钱包登录后查看此页面。"),
    ),
    403: (
        Phrase("Not yours to see", "无权查看"),
        Phrase("This page belongs to another account.", "此页面属于另一个账户。"),
    ),
    404: (
        Phrase("Page not found", "页面不存在"),
        Phrase("There is no page at this address.", "此地址没有页面。"),
    ),
    405: (
        Phrase("Method not allowed", "不支持此请求方式"),
        Phrase("This address does not answer this kind of request.", "此地址不响应这种请求。"),
    ),
    422: (
        Phrase("Invalid request", "请求无效"),
        Phrase("Something in this address or form is not valid.", "此地址或表单中有无效内容。"),
    ),
    429: (
        Phrase("Too many requests", "请求过于频繁"),
        Phrase("Please wait a moment and try again.", "请稍候再试。"),
    ),
    503: (
        Phrase("Service unavailable", "服务暂不可用"),
        Phrase(
            "The service cannot answer now; please try again shortly.",
            "服务暂时无法响应，请稍后再试。",
        ),
    ),
}


def status_words(status_code: int) -> tuple[Phrase, Phrase]:
    """A status's title and meaning for a reader (a generic pair for one not listed)."""
    return _STATUS_WORDS.get(
        status_code,
        (
            Phrase(f"Error {status_code}", f"错误 {status_code}"),
            Phrase("The request could not be answered.", "无法响应此请求。"),
        ),
    )


def error_page(
    request: Request,
    status_code: int,
    title: Phrase,
    message: Phrase,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    css: str = "",
) -> HTMLResponse:
    """An error page in the reader's language."""
    lang = page_language(request)
    said = (
        f'<p><small>{e(DETAIL.say(lang))}: <code lang="en">{e(detail)}</code></small></p>'
        if detail
        else ""
    )
    body = (
        f"{language_switch(request, lang)}"
        f'<div class="verdict bad"><h1 id="verdict">{e(title.say(lang))}</h1>'
        f'<p id="error">{e(message.say(lang))}</p>{said}</div>'
    )
    return HTMLResponse(
        html_document(title.say(lang), body, lang.value, css),
        status_code=status_code,
        headers={**(headers or {}), **language_headers(lang)},
    )
