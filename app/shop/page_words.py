"""Every word of the item page and its error pages, in English and Simplified Chinese (the
verdicts' own words are ``app.shop.wording``'s). Texts with values take them by ``format``."""

from __future__ import annotations

from app.api.page_language import Phrase
from app.shop.schemas import MetadataCheck

P = Phrase

ITEM = P("Item", "商品")
FULL_RECORD = P("Full record (JSON)", "完整记录（JSON）")
LABEL = P("Label", "标签")
VARIANT = P("Variant", "规格")
LOT = P("Lot", "批次")
SERIAL = P("Serial", "序列号")
LABEL_NOTE = P(
    "As the label's link gives them; the chain records no lot or variant.",
    "按标签链接所示；链上不记录批次或规格。",
)

PRODUCT = P("Product", "产品")
COMMA = P(", ", "，")
LIST_COMMA = P(", ", "、")
PICTURE = P("Picture of the product", "产品图片")
ORIGIN = P("Made in", "产地")
PRODUCTION_DATE = P("Production date", "生产日期")
MANUFACTURER = P("Manufacturer", "制造商")
MATERIALS = P("Materials", "材料")
CARE = P("Use, care and repair", "使用、保养与维修")
END_OF_LIFE = P("Recycling and disposal", "回收与处置")
CHECKED = P(
    "Product data checked ✓: it matches the item's on-chain hash.",
    "产品资料已核验 ✓：与商品的链上哈希一致。",
)
CHECKED_AT_URI = P(
    "Product data checked ✓: the document at its address matches the item's on-chain hash.",
    "产品资料已核验 ✓：其地址上的文件与商品的链上哈希一致。",
)
METADATA_WORDS = {
    MetadataCheck.MISMATCH: P(
        "Product data does NOT match the item's on-chain hash: do not trust it.",
        "产品资料与商品的链上哈希不一致：请勿采信。",
    ),
    MetadataCheck.UNREACHABLE: P(
        "Product data could not be fetched to check it against the item's on-chain hash.",
        "无法获取产品资料，未能与商品的链上哈希核对。",
    ),
    MetadataCheck.UNCHECKED: P(
        "No product data was published for this item, so none is shown: nothing to check "
        "against its on-chain hash.",
        "此商品尚未公布产品资料，因此不予显示：无法与其链上哈希核对。",
    ),
}
ON_CHAIN_HASH = P("on-chain metadata hash", "链上元数据哈希")

MERCHANT = P("Merchant", "商家")
NAME = P("Name", "名称")
NOT_APPROVED = P("not an approved merchant", "非已核准商家")
ADDRESS = P("Address", "地址")
STATUS = P("Status", "状态")
MERCHANT_STATUS = {
    "active": P("active", "正常"),
    "suspended": P("suspended", "已暂停"),
    "none": P("none", "无"),
}
SELLER_RECORD = P("Seller record", "交易记录")
SELLER_RECORD_TEXT = P(
    "{completed} of {total} orders completed, {lost} disputes lost",
    "{total} 笔订单中完成 {completed} 笔，争议败诉 {lost} 起",
)

TRAIL = P("Custody trail", "流转记录")
REGISTERED = P("Registered", "登记")
KINDS = {"single": P("single", "单件"), "batch": P("batch", "批次")}
ACTIONS = {
    "produced": P("Produced", "生产"),
    "shipped": P("Shipped", "发货"),
    "in_transit": P("In transit", "运输中"),
    "delivered": P("Delivered", "送达"),
    "sold": P("Sold", "售出"),
    "returned": P("Returned", "退回"),
}
PLACE = P("Place", "地点")
LABELLED = P("{label}: ", "{label}：")
REFERENCE = P("Reference", "依据")
SENT_BY = P("Sent by carrier {carrier}", "由承运方 {carrier} 发送")
TEXT_MATCHES = P("✓ matches its on-chain hash", "✓ 与链上哈希一致")
TEXT_DIFFERS = P("✗ does NOT match its on-chain hash", "✗ 与链上哈希不一致")
HASH_ONLY = P("hash only: the service never saw the text", "仅有哈希：本服务未收到原文")
FLAGGED = P("Flagged counterfeit", "被标记为假冒")
REPORT_NUMBER = P("report {number}", "举报 {number}")
RECALLED = P("Recalled", "召回")
SCOPES = {"item": P("item", "单件"), "batch": P("batch", "批次")}
REASSIGNED = P("Reassigned by a verifier", "由核验方重新指派")
MOVED_TO = P("moved to {address}", "转给 {address}")
REVOKED = P("record revoked", "记录已撤销")
TRANSACTION = P("transaction {tx}", "交易 {tx}")
IN_BLOCK = P("tx {tx} (block {block})", "交易 {tx}（区块 {block}）")

REPORTS = P("Reports", "举报")
OPEN_REPORTS = P("{count} open report(s) awaiting a verifier", "{count} 项举报待核验方处理")

SALE = P("Escrow sale", "托管交易")
ORDER = P("Order", "订单")
ORDER_STATUS = {
    "none": P("none", "无"),
    "funded": P("funded", "已付款"),
    "shipped": P("shipped", "已发货"),
    "delivered": P("delivered", "已送达"),
    "disputed": P("disputed", "争议中"),
    "released": P("released", "已放款"),
    "refunded": P("refunded", "已退款"),
    "settled": P("settled", "已和解"),
}
BUYER = P("Buyer", "买家")
AMOUNT = P("Amount", "金额")
TOKEN = P("Token", "代币")
PAID_OUT = P("Paid out to the merchant", "已付给商家")
YES = P("yes", "是")
NOT_YET = P("not yet", "尚未")
NO = P("no", "否")

BATCH = P("Batch", "批次")
MERKLE_ROOT = P("Merkle root", "默克尔根")
ITEMS = P("Items", "件数")
PROOF = P("Proof", "证明")
PROOF_WORDS = {
    True: P("verified: the proof rebuilds the root", "已验证：证明可重建默克尔根"),
    False: P("does NOT rebuild the root", "不能重建默克尔根"),
    None: P("no published proof", "无已公布的证明"),
}
BATCH_RECALLED = P("Batch recalled", "批次已召回")
AS_OF = P(
    "Checked against the chain's record as of block {block}.",
    "依据截至区块 {block} 的链上记录核验。",
)
AS_OF_NOTHING = P("Checked against the chain's record.", "依据链上记录核验。")

INVALID_ID = P("Invalid item id", "无效的商品编号")
INVALID_ID_TEXT = P(
    "An item id is 0x followed by 64 hex digits.", "商品编号为 0x 后接 64 位十六进制数字。"
)
NOT_A_LINK = P("Not a known link", "无法识别的链接")
NOT_A_LINK_TEXT = P(
    "This address is not a GS1 Digital Link this resolver knows. It resolves "
    "/01/{gtin}/21/{serial}, with /22/{variant} and /10/{lot} before the serial if given.",
    "此地址不是本解析器可识别的 GS1 数字链接。可解析的形式为 /01/{gtin}/21/{serial}，"
    "如有 /22/{variant} 与 /10/{lot}，须置于序列号之前。",
)
INVALID_LINK = P("Invalid GS1 link", "无效的 GS1 链接")
INVALID_LINK_TEXT = P("A value in this link is not valid.", "此链接中的某个值无效。")
UNKNOWN_LINK_TYPE = P("Unknown link type", "未知的链接类型")
UNKNOWN_LINK_TYPE_TEXT = P(
    "This resolver knows the link types gs1:pip and gs1:defaultLink (this page, also when no "
    "linkType is given) and gs1:verificationService (the item's record as JSON).",
    "本解析器可识别的链接类型为 gs1:pip 与 gs1:defaultLink（即本页面，未指定 linkType 时亦同）"
    "以及 gs1:verificationService（商品的 JSON 记录）。",
)
NO_SERIAL = P("No single item named", "未指明单件商品")
NO_SERIAL_TEXT = P(
    "This link names a product or a lot but no serial: this resolver verifies single items, "
    "named by GTIN and serial (/01/{gtin}/21/{serial}).",
    "此链接只指明了产品或批次，没有序列号：本解析器只核验以 GTIN 与序列号指明的单件商品"
    "（/01/{gtin}/21/{serial}）。",
)

# Countries products commonly come from, by ISO 3166-1 code; any other shows its code.
COUNTRIES = {
    "BD": P("Bangladesh", "孟加拉国"),
    "CN": P("China", "中国"),
    "DE": P("Germany", "德国"),
    "ES": P("Spain", "西班牙"),
    "FR": P("France", "法国"),
    "GB": P("United Kingdom", "英国"),
    "ID": P("Indonesia", "印度尼西亚"),
    "IN": P("India", "印度"),
    "IT": P("Italy", "意大利"),
    "JP": P("Japan", "日本"),
    "KH": P("Cambodia", "柬埔寨"),
    "KR": P("South Korea", "韩国"),
    "MX": P("Mexico", "墨西哥"),
    "NL": P("Netherlands", "荷兰"),
    "PL": P("Poland", "波兰"),
    "PT": P("Portugal", "葡萄牙"),
    "TH": P("Thailand", "泰国"),
    "TR": P("Türkiye", "土耳其"),
    "TW": P("Taiwan", "台湾"),
    "US": P("United States", "美国"),
    "VN": P("Viet Nam", "越南"),
}
