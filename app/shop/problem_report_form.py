"""The "report a problem" form on an item's page, the page that shows it again beside a refusal
(filled in as the shopper left it, all but the file), and the receipt page.

Plain HTML, no JavaScript; a label for every input; every value escaped; English and Simplified
Chinese (``app.api.page_language``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from app.api.html_pages import escape_html as e
from app.api.html_pages import html_document
from app.api.page_language import LANG_PARAMETER, Lang, Phrase
from app.shop.problem_report_schemas import (
    MAX_CONTACT_CHARS,
    MAX_DETAILS_CHARS,
    FormValues,
    ProblemReason,
    Review,
)
from app.shop.problem_reports import ReportState

REASONS = {
    ProblemReason.COUNTERFEIT: Phrase("I think it is a fake", "我认为这是假货"),
    ProblemReason.TAMPERED: Phrase("The label or seal was tampered with", "标签或封条被动过"),
    ProblemReason.NOT_AS_DESCRIBED: Phrase("It is not the product described", "与描述的商品不符"),
    ProblemReason.OTHER: Phrase("Something else", "其他问题"),
}
REVIEWS = {
    Review.RECEIVED: Phrase(
        "Received: a verifier will look at it. This page says when the report is open on chain.",
        "已收到：核验员会查看。报告在链上立案后，本页会显示。",
    ),
    Review.UNDER_REVIEW: Phrase("Reported, under review by a verifier", "已举报，核验员审核中"),
    Review.CONFIRMED: Phrase(
        "A verifier confirmed the report: the item is flagged", "核验员确认了举报：该商品已被标记"
    ),
    Review.DISMISSED: Phrase("A verifier dismissed the report", "核验员驳回了举报"),
}
_TITLE = Phrase("Report a problem", "报告问题")
_WHAT = Phrase("What is wrong?", "有什么问题？")
_DETAILS = Phrase("Tell us more (optional)", "详细说明（选填）")
_DETAILS_HINT = Phrase(
    f"Up to {MAX_DETAILS_CHARS:,} characters. Verifiers read it.",
    f"最多 {MAX_DETAILS_CHARS:,} 个字符，供核验员阅读。",
)
_PHOTO = Phrase("Photo (optional)", "照片（选填）")
_CONTACT = Phrase("How to reach you (optional)", "联系方式（选填）")
_CONTACT_HINT = Phrase(
    "An e-mail address or phone number. Only verifiers see it; it never goes on chain.",
    "电子邮箱或电话号码。仅核验员可见，不会上链。",
)
_SEND = Phrase("Send report", "提交举报")
_NO_WALLET = Phrase("No wallet needed.", "无需钱包。")
_FIELD_STYLE = "width:100%;font:inherit;padding:.5rem;margin:.25rem 0"


@dataclass(frozen=True)
class FormError:
    """A refusal shown above the form: its words and the field it is about, if one."""

    message: str
    field: str | None = None


def photo_hint(max_bytes: int) -> Phrase:
    size = f"{max_bytes / 1_000_000:g} MB"
    return Phrase(
        f"JPEG or PNG, up to {size}. Location, time and camera data are removed from it.",
        f"JPEG 或 PNG，最大 {size}。照片中的位置、时间和相机信息会被删除。",
    )


def form_action(item_id: str, lang: Lang) -> str:
    return f"/verify/{item_id}/problem-reports?{LANG_PARAMETER}={lang.value}"


def problem_report_section(
    item_id: str,
    lang: Lang,
    review: Review | None,
    *,
    values: FormValues | None = None,
    error: FormError | None = None,
    photo_max_bytes: int = 4_000_000,
) -> str:
    """The section of an item's page: what verifiers made of shoppers' reports of it (``review``,
    None while none is open on chain), and the form."""
    fields = (
        _blank_fields(lang, photo_max_bytes)
        if values is None and error is None
        else _fields(lang, values or FormValues(), error, photo_max_bytes)
    )
    status = (
        f'<p id="problem-report-review"><strong>{e(REVIEWS[review].say(lang))}</strong></p>'
        if review is not None
        else ""
    )
    alert = (
        f'<p id="problem-report-error" role="alert"><strong>{e(error.message)}</strong></p>'
        if error is not None
        else ""
    )
    return (
        '<section id="problem-report" aria-labelledby="problem-report-title">'
        f'<h2 id="problem-report-title">{e(_TITLE.say(lang))}</h2>{status}{alert}'
        f"<p><small>{e(_NO_WALLET.say(lang))}</small></p>"
        f'<form method="post" action="{e(form_action(item_id, lang))}" '
        f'enctype="multipart/form-data">{fields}</form></section>'
    )


@cache
def _blank_fields(lang: Lang, photo_max_bytes: int) -> str:
    """The form's fields as every item page shows them: the same for every item, made once."""
    return _fields(lang, FormValues(), None, photo_max_bytes)


def _fields(lang: Lang, values: FormValues, error: FormError | None, photo_max_bytes: int) -> str:
    return (
        f"{_reasons(lang, values.reason, error)}"
        f"{_text_field('details', _DETAILS, _DETAILS_HINT, values.details, lang, error)}"
        f"{_photo_field(lang, photo_max_bytes, error)}"
        f"{_text_field('contact', _CONTACT, _CONTACT_HINT, values.contact, lang, error)}"
        f'<button type="submit" style="{_FIELD_STYLE};width:auto">{e(_SEND.say(lang))}</button>'
    )


def _invalid(name: str, error: FormError | None) -> str:
    if error is None or error.field != name:
        return ""
    return ' aria-invalid="true" aria-errormessage="problem-report-error"'


def _reasons(lang: Lang, chosen: str, error: FormError | None) -> str:
    options = "".join(
        f'<div><input type="radio" id="reason-{reason.value}" name="reason" '
        f'value="{reason.value}" required{" checked" if chosen == reason.value else ""}'
        f"{_invalid('reason', error)}> "
        f'<label for="reason-{reason.value}">{e(words.say(lang))}</label></div>'
        for reason, words in REASONS.items()
    )
    return f"<fieldset><legend>{e(_WHAT.say(lang))}</legend>{options}</fieldset>"


def _text_field(
    name: str, label: Phrase, hint: Phrase, value: str, lang: Lang, error: FormError | None
) -> str:
    field_id, hint_id = f"problem-{name}", f"problem-{name}-hint"
    common = (
        f'id="{field_id}" name="{name}" aria-describedby="{hint_id}" '
        f'style="{_FIELD_STYLE}"{_invalid(name, error)}'
    )
    if name == "details":
        field = f'<textarea {common} rows="4" maxlength="{MAX_DETAILS_CHARS}">{e(value)}</textarea>'
    else:
        field = (
            f'<input type="text" {common} maxlength="{MAX_CONTACT_CHARS}" autocomplete="email" '
            f'value="{e(value)}">'
        )
    return (
        f'<p><label for="{field_id}">{e(label.say(lang))}</label>{field}'
        f'<small id="{hint_id}">{e(hint.say(lang))}</small></p>'
    )


def _photo_field(lang: Lang, max_bytes: int, error: FormError | None) -> str:
    return (
        f'<p><label for="problem-photo">{e(_PHOTO.say(lang))}</label>'
        '<input type="file" id="problem-photo" name="photo" accept="image/jpeg,image/png" '
        f'aria-describedby="problem-photo-hint" style="{_FIELD_STYLE}"{_invalid("photo", error)}>'
        f'<small id="problem-photo-hint">{e(photo_hint(max_bytes).say(lang))}</small></p>'
    )


_NOT_SENT = Phrase("Your report was not sent", "举报未提交")
_BACK = Phrase("Back to the item's page", "返回商品页面")


def form_page(
    item_id: str, lang: Lang, values: FormValues, error: FormError, photo_max_bytes: int
) -> str:
    """The form again, as the shopper filled it in, beneath why it was refused."""
    body = (
        f'<div class="verdict bad"><h1 id="verdict">{e(_NOT_SENT.say(lang))}</h1>'
        f'<p id="error">{e(error.message)}</p></div>'
        + problem_report_section(
            item_id, lang, None, values=values, error=error, photo_max_bytes=photo_max_bytes
        )
        + f'<p><a href="/verify/{e(item_id)}?{LANG_PARAMETER}={lang.value}">'
        f"{e(_BACK.say(lang))}</a></p>"
    )
    return html_document(_NOT_SENT.say(lang), body, lang.value)


_RECEIPT = Phrase("Report received", "举报已收到")
_KEEP = Phrase(
    "Keep this page's address: it is your receipt, and shows what verifiers decide.",
    "请保存本页地址：这是您的回执，核验结果也会显示在这里。",
)
_LABELS = {
    "receipt": Phrase("Receipt", "回执编号"),
    "item": Phrase("Item", "商品"),
    "reason": Phrase("What is wrong", "问题"),
    "details": Phrase("Details", "详细说明"),
    "photo": Phrase("Photo", "照片"),
    "status": Phrase("Status", "状态"),
    "onchain": Phrase("Report on chain", "链上举报"),
    "evidence": Phrase("Evidence hash", "证据哈希"),
}
_YES_NO = {True: Phrase("attached", "已附上"), False: Phrase("none", "无")}


def receipt_page(state: ReportState, lang: Lang, switch: str) -> str:
    """The receipt: the report as sent (never the contact) and its review, from the chain."""
    row = state.row
    label = {key: e(words.say(lang)) for key, words in _LABELS.items()}
    onchain = (
        f'<dt>{label["onchain"]}</dt><dd id="onchain-report">#{state.onchain_report_id}</dd>'
        if state.onchain_report_id is not None
        else ""
    )
    body = (
        f'{switch}<div class="verdict unsure"><h1 id="verdict">{e(_RECEIPT.say(lang))}</h1>'
        f'<p id="review">{e(REVIEWS[state.review].say(lang))}</p></div>'
        f"<section><dl>"
        f'<dt>{label["receipt"]}</dt><dd class="hash" id="receipt-id">{e(row.receipt_id)}</dd>'
        f'<dt>{label["item"]}</dt><dd><a class="hash" '
        f'href="/verify/{e(row.item_id)}?{LANG_PARAMETER}={lang.value}">{e(row.item_id)}</a></dd>'
        f"<dt>{label['reason']}</dt><dd>{e(REASONS[ProblemReason(row.reason)].say(lang))}</dd>"
        f'<dt>{label["details"]}</dt><dd id="details">{e(row.details)}</dd>'
        f"<dt>{label['photo']}</dt><dd>{e(_YES_NO[row.photo_type is not None].say(lang))}</dd>"
        f"{onchain}"
        f'<dt>{label["evidence"]}</dt><dd class="hash">{e(row.evidence_hash)}</dd>'
        f"</dl><p><small>{e(_KEEP.say(lang))}</small></p></section>"
    )
    return html_document(_RECEIPT.say(lang), body, lang.value)
