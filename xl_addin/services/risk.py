"""The Risk sheet (`credit-control close`) and the meeting pack's risk table: the customers
whose paying is getting worse (core/risk.py), worst first, each reason on its own line in
the workbook's language, with the review suggested."""

from __future__ import annotations

from xl_addin.core import risk
from xl_addin.core.labels import date_text
from xl_addin.core.money import to_decimal
from xl_addin.services.refresh import MONEY_FORMAT, RefreshResult
from xl_addin.workbook.updates import SheetTable

HEADERS = {
    "en": ("#", "Customer", "Name", "Currency", "Balance", "Overdue", "Credit limit",
           "Risk score", "Suggested review", "Reason"),
    "zh": ("序号", "客户编号", "客户名称", "币种", "应收余额", "逾期金额", "信用额度", "风险分",
           "建议措施", "原因"),
}  # fmt: skip
NONE = {"en": "No customer's paying is getting worse by the Policy's Risk rules.",
        "zh": "按政策表中的风险规则，暂无付款表现变差的客户。"}  # fmt: skip


def assessments(result: RefreshResult) -> list[risk.Assessment]:
    """The worklist of a computed workbook: its ledger (disputes logged in Contacts marked),
    contact log, due dates as the engine fills them, and policy."""
    loaded = result.loaded
    return risk.worklist(result.state.ledger, loaded.customers, result.state.contacts,
                         result.as_of, loaded.book.policy,
                         due=result.aging.items["due_date"], aged=result.aging)  # fmt: skip


def worklist_rows(result: RefreshResult, found: list[risk.Assessment], lang: str
                  ) -> list[list[object]]:  # fmt: skip
    """One row per reason: the customer's figures and suggested review on its first row."""
    names = result.loaded.customers.set_index("customer_id")["name"]
    rows = []
    for rank, a in enumerate(found, start=1):
        name = names.get(a.customer_id, "")
        for n, reason in enumerate(a.reasons):
            text = risk.reason_text(reason, lang, a.currency)
            if n:
                rows.append([rank, a.customer_id, name, None, None, None, None, None, None, text])
                continue
            rows.append([rank, a.customer_id, name, a.currency, to_decimal(a.balance),
                         to_decimal(a.overdue), to_decimal(a.limit) if a.limit > 0 else None,
                         a.score, risk.REVIEWS[lang][a.review], text])  # fmt: skip
    return rows


def risk_sheet(result: RefreshResult, lang: str,
               found: list[risk.Assessment] | None = None) -> SheetTable:  # fmt: skip
    """The Risk sheet: the worklist, worst first."""
    lang = "zh" if lang == "zh" else "en"
    found = assessments(result) if found is None else found
    header = list(HEADERS[lang])
    rows = worklist_rows(result, found, lang)
    totals = [] if rows else [[NONE[lang], *([None] * (len(header) - 1))]]
    shown = date_text(result.as_of, lang)
    title = (f"风险客户清单 截至 {shown}：付款表现变差的客户，按风险分从高到低"
             "（规则见 docs/kpis.md）" if lang == "zh" else
             f"Risk worklist as of {shown}: customers whose paying is getting "
             "worse, the worst first (rules: docs/kpis.md)")  # fmt: skip
    formats = {h: MONEY_FORMAT for h in header[4:7]}
    return SheetTable("Risk", title, header, rows, totals, formats)
