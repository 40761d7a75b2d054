"""The borrower's credit page (``/credit/{address}``): the JSON answer of
``GET /v1/credit/lines/{address}`` as HTML, in English or Simplified Chinese, no JavaScript.
Every value is escaped (``e``); the tables have headers and captions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from app.api.html_pages import escape_html as e
from app.api.page_language import Lang, Phrase
from app.credit import line_wording as w
from app.credit.line_schemas import (
    Amount,
    BorrowerReportPublic,
    CreditLinePublic,
    DecisionPublic,
    LineStatePublic,
    OnChainCheck,
    PolicyPublic,
)
from app.domain.metadata import canonical_json

CSS = """
table{width:100%;border-collapse:collapse;font-size:.9rem}caption{text-align:left;
font-weight:600;padding:0 0 .4rem}th,td{text-align:left;padding:.35rem .4rem;
border-bottom:1px solid #e0e2e6;vertical-align:top;overflow-wrap:anywhere}
thead th{border-bottom:2px solid #c4c7cc}
tr.yours{background:#e8f0fe}.scroll{overflow-x:auto}ol.reasons li{margin:0 0 .5rem}
ul.checks{padding-left:1.1rem}ul.checks li{margin:0 0 .6rem}pre{white-space:pre-wrap;
word-break:break-all;font-size:.8rem;background:#f4f5f7;padding:.5rem;border-radius:.4rem}
"""


class LinePage:
    """One page in one language."""

    def __init__(self, line: CreditLinePublic, lang: Lang, report_path: str) -> None:
        self.line = line
        self.lang = lang
        self.report_path = report_path

    def say(self, phrase: Phrase) -> str:
        return e(phrase.say(self.lang))

    def body(self, report: BorrowerReportPublic | None, report_missing: bool) -> str:
        line = self.line
        parts = [self.banner(line.decision)]
        if line.decision.outcome == "denied":
            parts.append(self.reasons(line.decision))
        if line.decision.outcome == "approved":
            parts.append(self.line_state(line.line))
        parts.append(self.policy(line.policy, line.decision.band))
        parts.append(self.attestation())
        parts.append(self.history())
        parts.append(self.report(report, report_missing))
        if line.earlier_decisions:
            parts.append(self.earlier(line.earlier_decisions))
        indexed = line.indexed_to_block
        if indexed is not None:
            parts.append(f"<p><small>{self.say(w.INDEXED)} {e(indexed)}.</small></p>")
        return "".join(parts)

    def banner(self, decision: DecisionPublic) -> str:
        approved = decision.outcome == "approved"
        tone, outcome = ("ok", w.APPROVED) if approved else ("bad", w.DENIED)
        return (
            f'<div class="verdict {tone}"><h1 id="verdict">{self.say(outcome)}</h1>'
            f"<p>{self.say(w.TITLE)}</p></div>"
            "<section><dl>"
            f"<dt>{self.say(w.BORROWER)}</dt><dd><code>{e(self.line.borrower)}</code></dd>"
            f"<dt>{self.say(w.DECIDED)}</dt><dd>{e(_time(decision.decided_at))}</dd>"
            f"<dt>{self.say(w.TRANSACTION)}</dt><dd><code>{e(decision.tx_hash)}</code></dd>"
            f"<dt>{self.say(w.POLICY_VERSION)}</dt><dd>{e(decision.policy_version)}</dd>"
            f"<dt>{self.say(w.BAND)}</dt><dd>{e(decision.band)}</dd>"
            "</dl></section>"
        )

    def reasons(self, decision: DecisionPublic) -> str:
        items = "".join(
            f'<li id="reason-{e(r.code)}">{e(r.zh if self.lang is Lang.ZH else r.en)} '
            f"<small>({self.say(w.REASON_CODE)} <code>{e(r.code)}</code>)</small></li>"
            for r in decision.reasons
        )
        return (
            f'<section aria-labelledby="reasons"><h2 id="reasons">{self.say(w.REASONS)}</h2>'
            f'<p>{self.say(w.REASONS_INTRO)}</p><ol class="reasons">{items}</ol></section>'
        )

    def line_state(self, state: LineStatePublic | None) -> str:
        head = f'<section aria-labelledby="line"><h2 id="line">{self.say(w.LINE)}</h2>'
        if state is None:
            return f"{head}<p>{self.say(w.LINE_UNAVAILABLE)}</p></section>"
        due = _time(state.due_at) if state.due_at is not None else w.NOTHING_DUE.say(self.lang)
        standing = w.STANDINGS.get(state.standing)
        rows = [
            (w.LIMIT, _amount(state.limit)),
            (w.PRINCIPAL, _amount(state.principal)),
            (w.INTEREST, _amount(state.interest)),
            (w.FEES, _amount(state.fees)),
            (w.OWED, _amount(state.owed)),
            (w.DUE, due),
            (w.STANDING, standing.say(self.lang) if standing else state.standing),
            (w.AS_OF, str(state.as_of_block)),
        ]
        listed = "".join(f"<dt>{self.say(k)}</dt><dd>{e(v)}</dd>" for k, v in rows)
        return f"{head}<dl>{listed}</dl>{self.checks([state.check])}</section>"

    def policy(self, policy: PolicyPublic | None, band: int) -> str:
        head = f'<section aria-labelledby="policy"><h2 id="policy">{self.say(w.POLICY)}</h2>'
        if policy is None:
            return f"{head}<p>{self.say(w.POLICY_MISSING)}</p></section>"
        header = (w.BAND, w.LIMIT, w.APR, w.TERM, w.GRACE, w.LATE_FEE)
        rows = []
        for tier in policy.tiers:
            yours = tier.band == band
            label = str(tier.band)
            if yours:
                label += f" ({w.YOURS.say(self.lang)})"
            if not tier.approved:
                label += f" ({w.NOT_APPROVED.say(self.lang)})"
            cells = (
                _amount(tier.limit),
                tier.apr_text,
                w.days(tier.term_seconds, self.lang),
                w.days(tier.grace_period_seconds, self.lang),
                _amount(tier.late_fee),
            )
            row_class = ' class="yours"' if yours else ""
            rows.append(
                f'<tr{row_class}><th scope="row">{e(label)}</th>'
                + "".join(f"<td>{e(cell)}</td>" for cell in cells)
                + "</tr>"
            )
        caption = f"{w.POLICY_CAPTION.say(self.lang)} {policy.version}"
        wallet = w.YES if policy.wallet_draws else w.NO
        return (
            f'{head}<div class="scroll"><table><caption>{e(caption)}</caption><thead><tr>'
            + "".join(f'<th scope="col">{self.say(h)}</th>' for h in header)
            + f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div><dl>"
            f"<dt>{self.say(w.MIN_BAND)}</dt><dd>{e(policy.min_band)}</dd>"
            f"<dt>{self.say(w.REFRESH)}</dt>"
            f"<dd>{e(w.days(policy.refresh_period_seconds, self.lang))}</dd>"
            f"<dt>{self.say(w.DEFAULT_AFTER)}</dt>"
            f"<dd>{e(w.days(policy.default_after_seconds, self.lang))}</dd>"
            f"<dt>{self.say(w.WALLET_DRAWS)}</dt><dd>{self.say(wallet)}</dd>"
            f"</dl>{self.checks(policy.checks)}</section>"
        )

    def attestation(self) -> str:
        said = self.line.attestation
        head = (
            f'<section aria-labelledby="attestation"><h2 id="attestation">'
            f"{self.say(w.ATTESTATION)}</h2><p>{self.say(w.ATTESTATION_INTRO)}</p>"
        )
        if said is None:
            return f"{head}{self.checks([self.line.decision.check])}</section>"
        model = f"{said.model} ({said.model_id})" if said.model else said.model_id
        rows = [
            (w.BAND, str(said.band)),
            (w.MODEL, model),
            (w.COMMITMENT, said.report_hash),
            (w.NONCE, str(said.nonce)),
            (w.ISSUED, _time(said.issued_at)),
        ]
        listed = "".join(f"<dt>{self.say(k)}</dt><dd><code>{e(v)}</code></dd>" for k, v in rows)
        return f"{head}<dl>{listed}</dl>{self.checks(said.checks)}</section>"

    def checks(self, checks: Iterable[OnChainCheck]) -> str:
        items = []
        for check in checks:
            kind = w.VIEW if check.kind == "view" else w.EVENT
            where = f" <code>{e(check.address)}</code>" if check.address else ""
            if check.kind == "view":
                arguments = ", ".join(f"{k} = {v}" for k, v in check.arguments.items())
                call = f"<code>{e(check.name)}</code> ({e(arguments)})"
            else:
                call = (
                    f"<code>{e(check.name)}</code> {self.say(w.IN_TX)} "
                    f"<code>{e(check.arguments['transaction'])}</code>, "
                    f"{self.say(w.LOG_INDEX)} {e(check.arguments['log_index'])}"
                )
            shows = check.expect.zh if self.lang is Lang.ZH else check.expect.en
            items.append(
                f"<li>{e(check.contract)}{where}: {self.say(kind)} {call}; "
                f"{self.say(w.SHOWS)} {e(shows)}</li>"
            )
        return (
            f"<h3>{self.say(w.CHECK)}</h3><p>{self.say(w.CHECK_INTRO)}</p>"
            f'<ul class="checks">{"".join(items)}</ul>'
        )

    def history(self) -> str:
        line, lang = self.line, self.lang
        draws = [
            (
                _time(d.at),
                d.order_id or w.TO_WALLET.say(lang),
                _amount(d.amount),
                _amount(d.principal_after),
                _time(d.due_at),
            )
            for d in line.draws
        ]
        repayments = [
            (
                _time(r.at),
                w.BY_REFUND.say(lang) if r.by_refund else r.payer,
                _amount(r.total),
                _amount(r.fees),
                _amount(r.interest),
                _amount(r.principal),
            )
            for r in line.repayments
        ]
        refunds = [
            (_time(r.at), r.order_id, _amount(r.refund), _amount(r.surplus)) for r in line.refunds
        ]
        events = [
            (_time(ev.at), w.EVENT_KINDS[ev.kind].say(lang), ev.tx_hash) for ev in line.line_events
        ]
        return "".join(
            (
                self.table(
                    "draws", w.DRAWS, (w.WHEN, w.ORDER, w.AMOUNT, w.PRINCIPAL_AFTER, w.DUE), draws
                ),
                self.table(
                    "repayments",
                    w.REPAYMENTS,
                    (w.WHEN, w.PAID_BY, w.TOTAL, w.FEES_PAID, w.INTEREST_PAID, w.PRINCIPAL_PAID),
                    repayments,
                ),
                self.table("refunds", w.REFUNDS, (w.WHEN, w.ORDER, w.REFUND, w.SURPLUS), refunds),
                self.table("events", w.EVENTS, (w.WHEN, w.WHAT, w.TRANSACTION), events),
            )
        )

    def table(
        self, anchor: str, title: Phrase, header: Sequence[Phrase], rows: Sequence[Sequence[str]]
    ) -> str:
        head = f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">{self.say(title)}</h2>'
        if not rows:
            return f"{head}<p>{self.say(w.NONE_YET)}</p></section>"
        body = "".join(
            f'<tr><th scope="row">{e(first)}</th>'
            + "".join(f"<td>{e(cell)}</td>" for cell in rest)
            + "</tr>"
            for first, *rest in rows
        )
        return (
            f'{head}<div class="scroll"><table><caption>{self.say(title)}</caption><thead><tr>'
            + "".join(f'<th scope="col">{self.say(h)}</th>' for h in header)
            + f"</tr></thead><tbody>{body}</tbody></table></div></section>"
        )

    def report(self, report: BorrowerReportPublic | None, missing: bool) -> str:
        head = f'<section aria-labelledby="report"><h2 id="report">{self.say(w.REPORT)}</h2>'
        if report is None:
            text = w.REPORT_MISSING if missing else w.REPORT_PRIVATE
            return (
                f"{head}<p>{e(text.say(self.lang).format(report=self.report_path))}</p></section>"
            )
        attesters = "".join(
            f"<li><code>{e(a.address)}</code> "
            f"({self.say(w.REPORT_SERVICE_KEY if a.by_service else w.REPORT_COSIGNER)})</li>"
            for a in report.attesters
        )
        holds = w.REPORT_HOLDS if report.commitment_holds else w.REPORT_BROKEN
        return (
            f"{head}<dl>"
            f"<dt>{self.say(w.REPORT_BUREAU)}</dt><dd>{e(report.bureau)}</dd>"
            f"<dt>{self.say(w.MODEL)}</dt><dd>{e(report.model)}</dd>"
            f"<dt>{self.say(w.REPORT_SCORE)}</dt><dd>{e(report.score)}</dd>"
            f"<dt>{self.say(w.REPORT_ATTESTERS)}</dt><dd><ul>{attesters}</ul></dd>"
            f"<dt>{self.say(w.SALT)}</dt><dd><code>{e(report.salt)}</code></dd>"
            f"</dl><p>{self.say(holds)}</p>"
            f'<pre id="report-body">{e(canonical_json(report.report).decode())}</pre></section>'
        )

    def earlier(self, decisions: list[DecisionPublic]) -> str:
        rows = []
        for d in decisions:
            outcome = (w.APPROVED if d.outcome == "approved" else w.DENIED).say(self.lang)
            reasons = "; ".join(r.zh if self.lang is Lang.ZH else r.en for r in d.reasons)
            rows.append((_time(d.decided_at), outcome, reasons, d.tx_hash))
        header = (w.WHEN, w.OUTCOME, w.REASONS, w.TRANSACTION)
        return self.table("earlier", w.EARLIER, header, rows)


def _amount(amount: Amount) -> str:
    return amount.amount_text


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
