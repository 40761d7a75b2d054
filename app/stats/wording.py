"""The dashboard's words, English and Simplified Chinese side by side (``Phrase``)."""

from __future__ import annotations

from app.api.page_language import Phrase
from app.stats.series import SeriesName

TITLE = Phrase("TrustMall dashboard", "TrustMall 数据看板")
MERCHANT_TITLE = Phrase("Dashboard of {name}", "{name} 的数据看板")
AS_OF = Phrase(
    "From the chain's confirmed events up to block {block}; daily figures for the {days} days "
    "to {last} (UTC).",
    "数据来自链上已确认事件，截至区块 {block}；每日数据为截至 {last}（UTC）的 {days} 天。",
)
EMPTY_INDEX = Phrase("Nothing has been indexed yet.", "尚未索引任何数据。")
WINDOW = Phrase("Window", "时间范围")
DAYS = Phrase("{days} days", "{days} 天")
NUMBERS = Phrase("The numbers", "数据表")
DOWNLOAD = Phrase("Download", "下载")
MERCHANT_ADDRESS = Phrase("Merchant address", "商家地址")
PLATFORM_LINK = Phrase("The whole platform", "全平台")
NO_DATA = Phrase("No figures yet.", "暂无数据。")

GMV_SECTION = Phrase("Order value per day", "每日订单金额")
SECTION_TITLES = {
    SeriesName.ITEMS: Phrase("Items registered per day", "每日登记商品数"),
    SeriesName.ORDERS: Phrase("Orders per day", "每日订单数"),
    SeriesName.GMV: Phrase("Order value per day ({token})", "每日订单金额（{token}）"),
    SeriesName.DELIVERY_TIME: Phrase("Time from order to first delivery", "从下单到首次送达的时间"),
    SeriesName.DISPUTES_REFUNDS: Phrase("Disputes and refunds per day", "每日纠纷与退款"),
    SeriesName.REPORTS: Phrase("Reports on items by status", "商品举报（按状态）"),
    SeriesName.CREDIT_BANDS: Phrase("Credit decisions by score band", "按评分档的授信决定"),
    SeriesName.POOL: Phrase(
        "Credit pool size and principal lent out", "信贷资金池规模与已贷出本金"
    ),
    SeriesName.RELAY_LAG: Phrase("Relay lag", "上链中继延迟"),
}

SECTION_SUMMARIES = {
    SeriesName.ITEMS: Phrase(
        "{total} items registered in the window (single items and the items batches declared); "
        "the most in a day: {most}.",
        "时间范围内共登记 {total} 件商品（单件登记及批次声明的商品）；单日最多 {most} 件。",
    ),
    SeriesName.ORDERS: Phrase(
        "{total} orders opened in the window; the most in a day: {most}.",
        "时间范围内共 {total} 笔订单；单日最多 {most} 笔。",
    ),
    SeriesName.GMV: Phrase(
        "{total} paid into escrow in {token} in the window; the most in a day: {most}.",
        "时间范围内以 {token} 付入托管共 {total}；单日最多 {most}。",
    ),
    SeriesName.DELIVERY_TIME: Phrase(
        "{total} orders had their first delivery reported in the window.",
        "时间范围内共有 {total} 笔订单首次报告送达。",
    ),
    SeriesName.DISPUTES_REFUNDS: Phrase(
        "In the window: {disputes} disputes and {refunds} refunded orders for {orders} orders "
        "opened (dispute rate {dispute_rate}, refund rate {refund_rate}).",
        "时间范围内：{orders} 笔订单，{disputes} 起纠纷，{refunds} 笔退款（纠纷率 {dispute_rate}，"
        "退款率 {refund_rate}）。",
    ),
    SeriesName.REPORTS: Phrase(
        "All reports so far: {open} open, {confirmed} confirmed, {dismissed} dismissed.",
        "迄今全部举报：{open} 件待处理，{confirmed} 件成立，{dismissed} 件驳回。",
    ),
    SeriesName.CREDIT_BANDS: Phrase(
        "All decisions so far: {approved} approved, {denied} denied.",
        "迄今全部决定：批准 {approved} 件，拒绝 {denied} 件。",
    ),
    SeriesName.POOL: Phrase(
        "At the end of the window: pool {size}, lent out {lent} (utilisation {utilisation}).",
        "时间范围末：资金池 {size}，已贷出 {lent}（使用率 {utilisation}）。",
    ),
    SeriesName.RELAY_LAG: Phrase(
        "Now: {queued} queued, {in_flight} sent and unconfirmed, {failed} failed; the oldest "
        "unconfirmed record waits {oldest}.",
        "当前：排队 {queued} 条，已发送未确认 {in_flight} 条，失败 {failed} 条；"
        "最早未确认记录已等待 {oldest}。",
    ),
}
RELAY_UNKNOWN = Phrase("The relay's lag is not available here.", "此处无法获取中继延迟。")
NOTHING_WAITS = Phrase("nothing", "无")
SECONDS = Phrase("{seconds} s", "{seconds} 秒")
NOT_APPLICABLE = Phrase("n/a", "不适用")

COLUMNS = {
    "day": Phrase("Day", "日期"),
    "registered": Phrase("Registered", "登记总数"),
    "single": Phrase("Single items", "单件商品"),
    "batch_declared": Phrase("Declared by batches", "批次声明"),
    "batch_activated": Phrase("Batch items activated", "批次商品激活"),
    "batches": Phrase("Batches", "批次数"),
    "orders": Phrase("Orders", "订单"),
    "token": Phrase("Token", "代币"),
    "amount": Phrase("Amount (base units)", "金额（最小单位）"),
    "amount_text": Phrase("Amount", "金额"),
    "bin": Phrase("Bin", "区间编号"),
    "label": Phrase("Time to delivery", "送达用时"),
    "disputes": Phrase("Disputes", "纠纷"),
    "refunds": Phrase("Refunds", "退款"),
    "dispute_rate": Phrase("Dispute rate", "纠纷率"),
    "refund_rate": Phrase("Refund rate", "退款率"),
    "kind": Phrase("Kind", "类型"),
    "status": Phrase("Status", "状态"),
    "reports": Phrase("Reports", "举报数"),
    "band": Phrase("Score band", "评分档"),
    "approved": Phrase("Approved", "批准"),
    "denied": Phrase("Denied", "拒绝"),
    "pool_size": Phrase("Pool size (base units)", "资金池规模（最小单位）"),
    "lent_out": Phrase("Lent out (base units)", "已贷出（最小单位）"),
    "utilisation": Phrase("Utilisation", "使用率"),
    "pool_size_text": Phrase("Pool size", "资金池规模"),
    "state": Phrase("State", "状态"),
    "records": Phrase("Records", "记录数"),
    "oldest_unconfirmed_seconds": Phrase("Oldest unconfirmed (s)", "最早未确认（秒）"),
}

# Values shown in words (report statuses and kinds, relay states).
VALUES = {
    "open": Phrase("open", "待处理"),
    "confirmed": Phrase("confirmed", "成立"),
    "dismissed": Phrase("dismissed", "驳回"),
    "counterfeit": Phrase("counterfeit", "假冒"),
    "problem": Phrase("problem", "问题"),
    "queued": Phrase("queued", "排队中"),
    "in_flight": Phrase("sent, unconfirmed", "已发送未确认"),
    "failed": Phrase("failed", "失败"),
}
SERIES_NAMES = {
    "disputes": Phrase("Disputes", "纠纷"),
    "refunds": Phrase("Refunds", "退款"),
    "approved": Phrase("Approved", "批准"),
    "denied": Phrase("Denied", "拒绝"),
    "pool_size": Phrase("Pool", "资金池"),
    "lent_out": Phrase("Lent out", "已贷出"),
}
