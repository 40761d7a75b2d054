"""What a borrower's credit page says, each text in English and Simplified Chinese (``Phrase``).
The reasons' words are not here: they have one home, ``app.domain.credit_reasons``."""

from __future__ import annotations

from app.api.page_language import Lang, Phrase

TITLE = Phrase("Credit decision", "授信决定")
APPROVED = Phrase("Approved", "已批准")
DENIED = Phrase("Denied", "已拒绝")
DECIDED = Phrase("Decided", "决定时间")
TRANSACTION = Phrase("Transaction", "交易")
BORROWER = Phrase("Borrower", "借款人")
POLICY_VERSION = Phrase("Policy version", "政策版本")
REASONS = Phrase("Why it was denied", "拒绝原因")
REASONS_INTRO = Phrase(
    "These are the principal reasons the public policy gave, as the contract decided them.",
    "以下为公开政策给出的主要原因，由合约作出决定。",
)
REASON_CODE = Phrase("code", "代码")
LINE = Phrase("Your line now", "当前额度")
LINE_UNAVAILABLE = Phrase(
    "The line's state cannot be read from the chain right now.",
    "暂时无法从链上读取额度状态。",
)
LIMIT = Phrase("Limit", "额度上限")
PRINCIPAL = Phrase("Balance (principal)", "未还本金")
INTEREST = Phrase("Accrued interest", "应计利息")
FEES = Phrase("Late fees", "逾期费")
OWED = Phrase("Owed in all", "合计欠款")
DUE = Phrase("Due", "到期时间")
NOTHING_DUE = Phrase("nothing is owed", "无欠款")
STANDING = Phrase("Standing", "状态")
AS_OF = Phrase("As of block", "区块高度")
POLICY = Phrase("The policy in force", "适用的授信政策")
POLICY_CAPTION = Phrase("Terms by score band, policy version", "各信用分档条款，政策版本")
BAND = Phrase("Band", "分档")
APR = Phrase("APR", "年利率")
TERM = Phrase("Term", "期限")
GRACE = Phrase("Grace", "宽限期")
LATE_FEE = Phrase("Late fee", "逾期费")
NOT_APPROVED = Phrase("not approved", "不予批准")
YOURS = Phrase("yours", "您的分档")
MIN_BAND = Phrase("Lowest band approved", "最低批准分档")
REFRESH = Phrase("An attestation keeps a line drawable for", "证明有效的可用期")
DEFAULT_AFTER = Phrase("Defaulted this long after the due time", "到期后多久视为违约")
WALLET_DRAWS = Phrase("Draws to the wallet", "提现到钱包")
YES = Phrase("allowed", "允许")
NO = Phrase("not allowed", "不允许")
POLICY_MISSING = Phrase(
    "The index has not read this policy version's publication yet.",
    "索引尚未读取此政策版本的发布记录。",
)
ATTESTATION = Phrase("What the credit bureau attested", "征信机构的证明")
ATTESTATION_INTRO = Phrase(
    "Only the score band, the model and a commitment to the report are on chain; never the "
    "score or the report.",
    "链上只有信用分档、评分模型和报告承诺值，从不包含分数或报告本身。",
)
MODEL = Phrase("Scoring model", "评分模型")
COMMITMENT = Phrase("Report commitment", "报告承诺值")
NONCE = Phrase("Attestation nonce", "证明序号")
ISSUED = Phrase("Issued", "签发时间")
CHECK = Phrase("Check it yourself", "自行核验")
CHECK_INTRO = Phrase(
    "Anyone can read these from the chain, with no account:",
    "任何人无需账户即可在链上读取：",
)
VIEW = Phrase("view", "只读函数")
EVENT = Phrase("event", "事件")
IN_TX = Phrase("in transaction", "所在交易")
LOG_INDEX = Phrase("log index", "日志序号")
SHOWS = Phrase("shows", "显示")
DRAWS = Phrase("Draws", "借款记录")
REPAYMENTS = Phrase("Repayments", "还款记录")
REFUNDS = Phrase("Refunds", "退款记录")
EVENTS = Phrase("Late fees, defaults and restorations", "逾期、违约与恢复")
NONE_YET = Phrase("None yet.", "暂无。")
WHEN = Phrase("When", "时间")
AMOUNT = Phrase("Amount", "金额")
ORDER = Phrase("Order", "订单")
TO_WALLET = Phrase("to the wallet", "提现到钱包")
PRINCIPAL_AFTER = Phrase("Principal after", "借款后本金")
PAID_BY = Phrase("Paid by", "付款方")
BY_REFUND = Phrase("an order's refund", "订单退款")
TOTAL = Phrase("Total", "合计")
REFUND = Phrase("Refund", "退款")
SURPLUS = Phrase("Paid back to you", "退回给您")
REPORT = Phrase("Your credit report", "您的信用报告")
REPORT_PRIVATE = Phrase(
    "The bureau's report is never shown on this page. Its borrower reads it after signing in "
    "with the borrower's wallet (Sign-In with Ethereum): POST /v1/credit/siwe/session, then "
    "GET {report} with the session's token.",
    "此页面从不显示征信机构的报告。借款人用自己的钱包登录（以太坊登录）后方可读取："
    "POST /v1/credit/siwe/session，然后携带会话令牌请求 GET {report}。",
)
REPORT_BUREAU = Phrase("Credit bureau", "征信机构")
REPORT_SCORE = Phrase("Score", "信用分")
REPORT_ATTESTERS = Phrase("Attested by", "证明签署方")
REPORT_SERVICE_KEY = Phrase("this service's key", "本服务的密钥")
REPORT_COSIGNER = Phrase("the bureau's cosigner", "征信机构的联署密钥")
REPORT_HOLDS = Phrase(
    "The report matches the commitment on chain (keccak256 of salt and report).",
    "报告与链上承诺值一致（盐值与报告的 keccak256）。",
)
REPORT_BROKEN = Phrase(
    "The report does NOT match the commitment on chain.",
    "报告与链上承诺值不一致。",
)
REPORT_MISSING = Phrase(
    "This service does not hold the report the latest decision was made on.",
    "本服务未保存最近一次决定所依据的报告。",
)
SALT = Phrase("Salt", "盐值")
EARLIER = Phrase("Earlier decisions", "以往决定")
JSON_LINK = Phrase("The same, as JSON", "JSON 格式")
INDEXED = Phrase("Read from the index up to block", "索引已读取至区块")
NOT_FOUND = Phrase("No credit decision", "无授信决定")
NOT_FOUND_TEXT = Phrase(
    "This address never applied for credit (or the index has not reached its application).",
    "此地址从未申请授信（或索引尚未读取到其申请）。",
)
INVALID = Phrase("Invalid address", "地址无效")
INVALID_TEXT = Phrase(
    "An address is 0x followed by 40 hex digits (EIP-55 checksum if mixed case).",
    "地址为 0x 加 40 位十六进制数字（大小写混合时须符合 EIP-55 校验）。",
)
STANDINGS = {
    "none": Phrase("no line", "无额度"),
    "eligible": Phrase("in good standing: drawable", "正常：可借款"),
    "on_hold": Phrase("on hold: a newer attestation is needed", "暂停：需要更新的证明"),
    "past_due": Phrase("past due", "已逾期"),
    "defaulted": Phrase("defaulted", "已违约"),
    "written_off": Phrase("written off", "已核销"),
    "denied": Phrase(
        "held: a newer attestation was denied; only a newer approval lifts it",
        "暂停：较新的证明未获批准，须有更新的证明获批方可恢复",
    ),
}
EVENT_KINDS = {
    "late_fee_charged": Phrase("Late fee charged", "收取逾期费"),
    "defaulted": Phrase("Defaulted", "违约"),
    "restored": Phrase("Restored (repaid in full)", "恢复（已全额还款）"),
}
PRINCIPAL_PAID = Phrase("Principal", "本金")
INTEREST_PAID = Phrase("Interest", "利息")
FEES_PAID = Phrase("Fees", "费用")
WHAT = Phrase("What", "事项")
OUTCOME = Phrase("Outcome", "结果")

# What each on-chain check shows (``OnChainCheck.expect``).
EXPECT_DECISION = Phrase(
    "borrower {borrower}, policyVersion {version}, attestation.band {band}",
    "borrower 为 {borrower}，policyVersion 为 {version}，attestation.band 为 {band}",
)
EXPECT_REASONS = Phrase(
    "; reasons {reasons} (bit n set: reason n)", "；reasons 为 {reasons}（第 n 位为 1 即原因 n）"
)
EXPECT_TIER = Phrase(
    "the terms of band {band} under version {version}, as in the table",
    "版本 {version} 中分档 {band} 的条款，与上表一致",
)
EXPECT_RULES = Phrase(
    "minBand, refreshPeriod, defaultAfter, walletDraws, capPeriod, periodCap",
    "minBand、refreshPeriod、defaultAfter、walletDraws、capPeriod、periodCap",
)
EXPECT_PUBLISHED = Phrase("version {version} with every tier", "版本 {version} 及其全部分档")
EXPECT_ATTESTATION = Phrase(
    "attestation.band, attestation.modelId and attestation.reportHash as here",
    "attestation.band、attestation.modelId 与 attestation.reportHash 与此处一致",
)
EXPECT_NONCE = Phrase(
    "true: the attestation was spent by this decision", "true：该证明已被此决定使用"
)
EXPECT_LINE = Phrase(
    "status, standing, policyVersion, band, limit, aprBps, principal, interest, fees, dueAt, "
    "attestedAt, eligibleUntil, deniedAt as here, at this block",
    "status、standing、policyVersion、band、limit、aprBps、principal、interest、fees、dueAt、"
    "attestedAt、eligibleUntil、deniedAt，与此处在该区块时一致",
)
DAY_SECONDS = 86_400


def days(seconds: int, lang: Lang) -> str:
    """A period as people read it: ``30 days`` / ``30 天``; hours when not whole days."""
    if seconds % DAY_SECONDS == 0:
        count = seconds // DAY_SECONDS
        return f"{count} 天" if lang is Lang.ZH else f"{count} day{'s' if count != 1 else ''}"
    hours = seconds / 3_600
    return f"{hours:g} 小时" if lang is Lang.ZH else f"{hours:g} hours"
