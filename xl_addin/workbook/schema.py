"""The workbook contract: sheets, columns, their kinds and their accepted header texts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a contract table: its header, its kind and the other headers accepted."""

    header: str
    field: str  # the normalised column name the engine uses
    kind: str  # text | id | money | date | int | yn | doctype | number
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    sheet_aliases: tuple[str, ...]
    columns: tuple[Column, ...]
    computed: tuple[Column, ...] = ()


def fold(header: object) -> str:
    """Fold a header for matching: no spaces, underscores or case."""
    return "".join(str(header or "").split()).replace("_", "").casefold()


SETTINGS = TableSpec(
    "Settings",
    ("设置", "参数"),
    (
        Column("Key", "key", "text", True, ("项目", "参数")),
        Column("Value", "value", "raw", False, ("值", "数值")),
    ),
)

CUSTOMERS = TableSpec(
    "Customers",
    ("客户", "客户资料"),
    (
        Column("CustomerID", "customer_id", "id", True, ("客户编号", "客户代码", "客户号")),
        Column("Name", "name", "text", False, ("客户名称", "名称")),
        Column("Segment", "segment", "text", False, ("客户类别", "客户分类")),
        Column("Language", "language", "text", False, ("语言",)),
        Column("Currency", "currency", "text", False, ("币种", "货币")),
        Column("CreditLimit", "credit_limit_cents", "money", False, ("信用额度",)),
        Column("PaymentTermsDays", "payment_terms_days", "int", False, ("账期天数", "账期")),
        Column("OpenOrders", "open_orders_cents", "money", False, ("未发货订单",)),
        Column("Contact", "contact", "text", False, ("联系人",)),
        Column("Email", "email", "text", False, ("邮箱", "电子邮件")),
        Column("Phone", "phone", "text", False, ("电话", "联系电话")),
        Column("Address", "address", "text", False, ("地址",)),
        Column("DunningBlock", "dunning_block", "yn", False, ("暂停催收",)),
        Column("PromiseDate", "promise_date", "date", False, ("承诺付款日", "承诺日期")),
        Column("PromiseAmount", "promise_amount_cents", "money", False, ("承诺金额",)),
        Column("LastStage", "last_stage", "text", False, ("上次催收阶段",)),
        Column("LastContactDate", "last_contact_date", "date", False, ("上次联系日期",)),
        Column("Notes", "notes", "text", False, ("备注",)),
        # The agreed late-payment rate (replaces the statutory one): 8%, 0.05%/day, 日万分之五;
        # ContractRatePer says year or day (年 / 日), blank a year. See docs/interest.md.
        Column("ContractRate", "contract_rate", "raw", False, ("合同利率", "违约金利率")),
        Column("ContractRatePer", "contract_rate_per", "text", False, ("合同利率单位", "利率单位")),
        # The customer's tax id: the group view matches a customer across branches by it.
        Column("TaxID", "tax_id", "text", False, ("纳税人识别号", "税号", "统一社会信用代码")),
    ),
    (
        Column("Balance", "balance", "money", aliases=("余额",)),
        Column("Overdue", "overdue", "money", aliases=("逾期金额",)),
        Column("MaxDaysOverdue", "max_days_overdue", "int", aliases=("最长逾期天数",)),
        Column("Headroom", "headroom", "money", aliases=("可用额度",)),
        Column("CreditStatus", "credit_status", "text", aliases=("信用状态",)),
        Column("Stage", "stage", "text", aliases=("催收阶段",)),
        Column("NextAction", "next_action", "text", aliases=("下一步",)),
        Column("NextActionReason", "next_action_reason", "text", aliases=("下一步原因",)),
        # When its payments usually arrive ("pays around the 25th"): core.forecast.
        Column("PaymentHabit", "payment_habit", "text", aliases=("付款习惯",)),
    ),
)

LEDGER = TableSpec(
    "Ledger",
    ("台账", "应收明细", "明细账"),
    (
        Column("CustomerID", "customer_id", "id", True, ("客户编号", "客户代码", "客户号")),
        Column("DocType", "doc_type", "doctype", True, ("单据类型",)),
        Column("DocNo", "doc_no", "id", True, ("单据号", "单据编号")),
        Column("DocDate", "doc_date", "date", True, ("单据日期",)),
        Column("DueDate", "due_date", "date", False, ("到期日", "到期日期")),
        Column("Amount", "amount_cents", "money", True, ("金额",)),
        Column("AppliesTo", "applies_to", "id", False, ("核销单据",)),
        Column("Currency", "currency", "text", False, ("币种", "货币")),
        Column("Reference", "reference", "text", False, ("参考", "摘要")),
        Column("Disputed", "disputed", "yn", False, ("争议",)),
        Column("Notes", "notes", "text", False, ("备注",)),
    ),
    (
        Column("OpenAmount", "open_amount", "money", aliases=("未结金额",)),
        Column("DaysOverdue", "days_overdue", "int", aliases=("逾期天数",)),
        Column("Bucket", "bucket", "text", aliases=("账龄",)),
        Column("Stage", "stage", "text", aliases=("催收阶段",)),
        # When an open item's payment is expected (its customer's habit or settlement
        # cycle, a pending promise): core.forecast; blank when paid or long past its habit.
        Column("ExpectedPayDate", "expected_pay_date", "date", aliases=("预计付款日",)),
    ),
)

CONTACTS = TableSpec(
    "Contacts",
    ("联系记录", "催收记录"),
    (
        Column("Date", "date", "date", True, ("日期", "联系日期")),
        Column("CustomerID", "customer_id", "id", True, ("客户编号", "客户代码", "客户号")),
        Column("Kind", "kind", "text", False, ("类型", "方式")),
        Column("Stage", "stage", "text", False, ("阶段", "催收阶段")),
        Column("Reference", "reference", "text", False, ("编号", "文号", "参考")),
        Column("Outcome", "outcome", "text", False, ("结果", "联系结果")),
        Column("PromiseDate", "promise_date", "date", False, ("承诺付款日", "承诺日期")),
        Column("PromiseAmount", "promise_amount_cents", "money", False, ("承诺金额",)),
        Column("Dispute", "dispute", "text", False, ("争议",)),
        Column("Notes", "notes", "text", False, ("备注",)),
    ),
)
CONTACT_HEADERS_ZH = ("日期", "客户编号", "类型", "阶段", "编号", "结果", "承诺付款日", "承诺金额",
                      "争议", "备注")  # fmt: skip
# Kind as written in each language, and every text accepted on reading.
CONTACT_KINDS = {
    "letter": ("letter", "函件", ("letter", "函件", "信函", "书面")),
    "call": ("call", "电话", ("call", "phone", "电话", "致电")),
    "visit": ("visit", "拜访", ("visit", "拜访", "上门", "走访")),
    "email": ("e-mail", "邮件", ("email", "e-mail", "mail", "邮件", "电子邮件")),
    "legal_pack": ("hand-over", "移交", ("hand-over", "handover", "移交")),
    "cleared": ("cleared", "解除", ("cleared", "clear", "解除", "撤回")),
}

DOC_TYPE_ALIASES = {
    "INV": "INV", "INVOICE": "INV", "发票": "INV",
    "CRN": "CRN", "CREDITNOTE": "CRN", "CN": "CRN", "贷项": "CRN", "贷项通知": "CRN",
    "PAY": "PAY", "PAYMENT": "PAY", "收款": "PAY",
    "ADJ": "ADJ", "ADJUSTMENT": "ADJ", "调整": "ADJ",
}  # fmt: skip
YES = frozenset({"y", "yes", "true", "1", "是", "x"})
NO = frozenset({"", "n", "no", "false", "0", "否"})

POLICY_TABLES = (
    "Buckets", "Stages", "Segments", "Rules", "Recovery", "Provision", "Interest", "Compensation",
)  # fmt: skip
