"""Write letters/<lang>/<stage key>.docx for the collection ladder: run by hand, output committed.

    python letters/make_letter_templates.py

Plain Word documents with docxtpl placeholders (see make_statement_templates.py for
the statement); head office may restyle them in Word. Wording: polite and clear
first, firm later; the final notice gives a deadline and the consequences, the
credit-hold letter says that deliveries stop; the phone-call step is a call
sheet for the collector.
"""

from __future__ import annotations

import functools
import zipfile
from pathlib import Path

import make_statement_templates as statement
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm
from make_statement_templates import GREY, HERE, LETTER

from xl_addin.documents.faces import add_run

# The statement script's helpers, set as letters are: looser than a one-page statement.
_para = functools.partial(statement._para, layout=LETTER)
_cell = functools.partial(statement._cell, layout=LETTER)

ITEM_HEADERS = {
    "en": ("Invoice", "Date", "Due date", "Amount", "Open", "Days overdue"),
    "zh": ("发票号", "开票日期", "到期日", "金额", "未付金额", "逾期天数"),
}
ITEM_WIDTHS = (Cm(3.2), Cm(3.5), Cm(3.5), Cm(2.5), Cm(2.5), Cm(2.2))  # 17.4 cm: the A4 text width
ITEM_CELLS = ("{{ item.doc_no }}", "{{ item.doc_date }}", "{{ item.due_date }}",
              "{{ item.amount }}", "{{ item.open_amount }}", "{{ item.days_overdue }}")  # fmt: skip
# A pre-due reminder's items are not overdue yet: its last column counts the days to go.
DUE_IN = {"en": "Due in (days)", "zh": "距到期天数"}
DUE_IN_CELL = "{{ -item.days_overdue }}"

COMMON = {
    "en": {
        "dear": "Dear {{ customer.contact or 'Sir or Madam' }},",
        "ref": "Our reference: {{ reference }}        Date: {{ date }}",
        "customer_no": "Customer number: {{ customer.id }}",
        "total": "Total: {{ currency }} {{ total_overdue }} ({{ total_in_words }})",
        "interest": "Under {{ interest_law or 'the Late Payment of Commercial Debts (Interest) "
                    "Act 1998' }} we are entitled to interest of {{ currency }} {{ interest }} to "
                    "{{ date }}{% if compensation %} and fixed compensation of {{ currency }} "
                    "{{ compensation }}{% endif %}, which we reserve the right to claim.",
        "pay": "Please pay to: {{ branch.bank }}, quoting {{ reference }}.",
        "close": "Yours sincerely,",
        "sign": "{{ branch.signatory }}\n{{ branch.name }}",
    },
    "zh": {
        "dear": "尊敬的{{ customer.name }}：",
        "ref": "编号：{{ reference }}        日期：{{ date }}",
        "customer_no": "客户编号：{{ customer.id }}",
        "total": "合计：{{ currency }} {{ total_overdue }}（大写：{{ total_in_words }}）",
        "interest": "根据{{ interest_law or '合同约定' }}，贵公司应另行支付逾期利息 {{ currency }} "
                    "{{ interest }}（截至{{ date }}）{% if compensation %}及固定补偿 {{ currency }} "
                    "{{ compensation }}{% endif %}，我司保留追索的权利。",
        "pay": "收款账户：{{ branch.bank }}。汇款时请注明编号 {{ reference }}。",
        "close": "\u3000\u3000此致\n敬礼！",
        "sign": "{{ branch.name }}\n{{ branch.signatory }}",
    },
}  # fmt: skip

LETTERS = {
    "pre_due_reminder": {
        "en": ("Payment reminder: invoices falling due",
               ["We would like to remind you that the invoices below fall due shortly. We "
                "appreciate your business and thank you for arranging payment by the due "
                "dates.",
                "If payment has already been arranged, please disregard this reminder."]),
        "zh": ("到期付款提醒",
               ["感谢贵公司一直以来的支持与合作。下列发票即将到期，烦请贵公司按约定日期安排付款。",
                "如已安排付款，请忽略本提醒。"]),
    },
    "friendly_reminder": {
        "en": ("Friendly reminder: overdue invoices",
               ["Our records show that the invoices below are now past their due date. This "
                "may simply be an oversight, and we would be grateful if you could arrange "
                "payment at your earliest convenience.",
                "If you have already paid, thank you, and please accept our apologies. If "
                "there is any question about these invoices, please let us know so that we "
                "can resolve it quickly."]),
        "zh": ("友好提醒：逾期账款",
               ["根据我司记录，下列发票已超过约定付款日期。或许是一时疏忽，恳请贵公司在方便时尽快安排付款。",
                "如款项已支付，谢谢，并请忽略本函。如对发票有任何疑问，请及时与我们联系，以便尽快解决。"]),
    },
    "demand_letter": {
        "en": ("Demand for payment",
               ["{% if first_contact %}Our records show that the invoices below remain "
                "unpaid.{% else %}Despite our earlier reminders, the invoices below remain "
                "unpaid.{% endif %} We must now ask you to pay the full amount of {{ currency }} {{ total_overdue }} by "
                "{{ reply_by }}.",
                "If there is a reason why these invoices cannot be paid, please contact us "
                "before that date. Otherwise we will have to take further steps to recover "
                "the debt."]),
        "zh": ("催 款 函",
               ["{% if first_contact %}根据我司记录，下列发票至今仍未支付。{% else %}我司此前已多次提醒，但下列发票至今仍未支付。{% endif %}现正式要求贵公司于{{ reply_by }}前付清全部欠款 "
                "{{ currency }} {{ total_overdue }}。",
                "如有特殊原因未能付款，请于上述日期前与我司联系；否则我司将不得不采取进一步措施追收欠款。"]),
    },
    "final_notice": {
        "en": ("Final notice before further action",
               ["This is our final notice. The invoices below, totalling {{ currency }} "
                "{{ total_overdue }}, are seriously overdue.",
                "Unless the full amount reaches us by {{ reply_by }}, we will, without further "
                "notice, stop all deliveries on credit and pass the debt to our collection "
                "agents or solicitors, which may add costs and interest to what you owe.",
                "We would much prefer to settle this with you directly: please pay now or "
                "call us today."]),
        "zh": ("最 后 通 知",
               ["这是我司的最后通知。下列发票合计 {{ currency }} {{ total_overdue }}，已严重逾期。",
                "如贵公司未能在{{ reply_by }}前付清全部欠款，我司将不再另行通知，立即停止一切赊销供货，"
                "并将欠款移交专业收账机构或律师处理，由此产生的费用和利息将由贵公司承担。",
                "我们更希望与贵公司直接协商解决，请立即付款或今天与我们联系。"]),
    },
    "credit_hold": {
        "en": ("Notice of credit hold: deliveries stopped",
               ["As the invoices below, totalling {{ currency }} {{ total_overdue }}, remain "
                "unpaid despite our final notice, your account has been placed on credit "
                "hold. With effect from {{ date }} we will make no further deliveries on "
                "credit.",
                "Deliveries will resume only when the overdue amount has been paid in full. "
                "Please pay by {{ reply_by }} to avoid the debt being passed to our lawyers."]),
        "zh": ("停止供货通知",
               ["下列发票合计 {{ currency }} {{ total_overdue }}，经我司发出最后通知后仍未支付。"
                "自{{ date }}起，我司已将贵公司账户列入停止供货名单，不再提供任何赊销发货。",
                "贵公司付清全部逾期款项后方可恢复供货。请于{{ reply_by }}前付款，以免欠款移交律师处理。"]),
    },
    "legal_action": {
        "en": ("Letter before action",
               ["We have written to you several times about the invoices below, totalling "
                "{{ currency }} {{ total_overdue }}, without payment or a proposal to pay.",
                "We have now instructed our collection agents and solicitors to recover the "
                "debt. Unless payment in full reaches us by {{ reply_by }}, legal proceedings "
                "may be issued against you without further notice, and you may be liable for "
                "interest and costs."]),
        "zh": ("法律程序告知函",
               ["关于下列合计 {{ currency }} {{ total_overdue }} 的欠款，我司已多次致函贵公司，但至今未收到付款或付款安排。",
                "我司现已委托专业收账机构及律师追收该笔欠款。如贵公司未能在{{ reply_by }}前全额付款，"
                "我司将不再另行通知，依法提起诉讼，并要求贵公司承担相应的利息及费用。"]),
    },
}  # fmt: skip

CALL_SHEET = {
    "en": {
        "title": "Call sheet",
        "facts": (("Customer", "{{ customer.name }} ({{ customer.id }})"),
                  ("Contact", "{{ customer.contact }}  {{ customer.phone }}  {{ customer.email }}"),
                  ("Balance / overdue", "{{ currency }} {{ total_open }} / {{ total_overdue }}"),
                  ("Oldest item", "{{ max_days_overdue }} days overdue"),
                  ("Last contact", "{{ last_stage }} {{ last_contact }}"),
                  ("Last promise", "{{ promise }}")),
        "checklist_title": "Before and during the call",
        "checklist": ("Have the figures and this sheet at hand; be polite and keep to the point.",
                      "Ask for the full overdue amount, not a part payment.",
                      "Find the reason: oversight, a dispute about the goods, a cash problem, or "
                      "bad faith. A dispute puts the item on hold: note what is disputed.",
                      "Agree a date and an amount, and confirm them in writing.",
                      "End on a good note; record the outcome below the same day."),
        "outcome": ("Spoke to", "Outcome", "Promised amount and date", "Next step", "Called by / date"),
    },
    "zh": {
        "title": "电话催收单",
        "facts": (("客户", "{{ customer.name }}（{{ customer.id }}）"),
                  ("联系人", "{{ customer.contact }}  {{ customer.phone }}  {{ customer.email }}"),
                  ("余额 / 逾期", "{{ currency }} {{ total_open }} / {{ total_overdue }}"),
                  ("最长逾期", "{{ max_days_overdue }} 天"),
                  ("上次联系", "{{ last_stage }} {{ last_contact }}"),
                  ("上次承诺", "{{ promise }}")),
        "checklist_title": "通话要点",
        "checklist": ("准备好本单据和相关数字；礼貌、专业、紧扣目标。",
                      "要求支付全部逾期金额，而不是部分付款。",
                      "了解原因：疏忽、货物争议、资金紧张或恶意拖欠。如有争议，记录争议内容，该单据暂停催收。",
                      "约定付款金额和日期，并以书面形式确认。",
                      "友好结束通话；当天在下方记录结果。"),
        "outcome": ("通话对象", "沟通结果", "承诺付款金额及日期", "下一步", "催收人 / 日期"),
    },
}  # fmt: skip


def make_letter(key: str, lang: str):
    title, paragraphs = LETTERS[key][lang]
    common = COMMON[lang]
    doc = _document(lang)
    _para(doc, common["ref"], size=9, color=GREY)
    _para(doc, "{{ customer.name }}", space_after=0)
    _para(doc, "{{ customer.contact }}", space_after=0)
    _para(doc, "{{ customer.address }}")
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_run(heading, title, size=14, bold=True)
    _para(doc, common["customer_no"], size=9, color=GREY)
    _para(doc, common["dear"])
    for text in paragraphs[:1]:
        _para(doc, text)
    _items_table(doc, lang, due_in=key == "pre_due_reminder")
    _para(doc, common["total"], bold=True, space_before=4)
    for text in paragraphs[1:]:
        _para(doc, text)
    _para(doc, "{%p if interest %}", space_after=0)
    _para(doc, common["interest"])
    _para(doc, "{%p endif %}", space_after=0)
    _para(doc, common["pay"])
    _para(doc, common["close"], space_before=8)
    _para(doc, common["sign"])
    return _save(doc, lang, key)


def make_call_sheet(lang: str):
    t = CALL_SHEET[lang]
    doc = _document(lang)
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_run(heading, t["title"], size=14, bold=True)
    _para(doc, COMMON[lang]["ref"], size=9, color=GREY)
    facts = doc.add_table(rows=len(t["facts"]), cols=2)
    facts.style = "Table Grid"
    facts.alignment = WD_TABLE_ALIGNMENT.CENTER  # on the items table's edges
    for row, (label, value) in zip(facts.rows, t["facts"], strict=True):
        _cell(row.cells[0], label, bold=True, shade=True)
        _cell(row.cells[1], value)
        row.cells[0].width, row.cells[1].width = Cm(4), Cm(13.4)
    _grid(facts, Cm(4), Cm(13.4))
    _para(doc, "", space_after=2)
    _items_table(doc, lang)
    _para(doc, COMMON[lang]["total"], bold=True, space_before=4)
    _para(doc, t["checklist_title"], bold=True, space_before=6)
    for line in t["checklist"]:
        _para(doc, "□ " + line, space_after=1)
    outcome = doc.add_table(rows=len(t["outcome"]), cols=2)
    outcome.style = "Table Grid"
    outcome.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row, label in zip(outcome.rows, t["outcome"], strict=True):
        _cell(row.cells[0], label, bold=True, shade=True)
        row.height = Cm(1.2)
        row.cells[0].width, row.cells[1].width = Cm(4.5), Cm(12.9)
    _grid(outcome, Cm(4.5), Cm(12.9))
    return _save(doc, lang, "phone_call")


def _document(lang: str):
    doc = Document()
    statement._page(doc, LETTER)
    statement._styles(doc, lang, LETTER)
    statement._letterhead(doc, LETTER)
    return doc


def _items_table(doc, lang: str, due_in: bool = False) -> None:
    table = doc.add_table(rows=4, cols=6)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header, loop, body, end = table.rows
    headers, cells = ITEM_HEADERS[lang], ITEM_CELLS
    if due_in:
        headers, cells = (*headers[:-1], DUE_IN[lang]), (*cells[:-1], DUE_IN_CELL)
    for cell, text in zip(header.cells, headers, strict=True):
        _cell(cell, text, bold=True, shade=True)
    # A long list runs onto a second page: the column headings come with it.
    header._tr.get_or_add_trPr().append(header._tr.makeelement(qn("w:tblHeader"), {}))
    _cell(loop.cells[0], "{%tr for item in items %}")
    for position, (cell, text) in enumerate(zip(body.cells, cells, strict=True)):
        _cell(cell, text, right=position >= 3)
    _cell(end.cells[0], "{%tr endfor %}")
    for column, width in zip(table.columns, ITEM_WIDTHS, strict=True):
        for cell in column.cells:
            cell.width = width
    _grid(table, *ITEM_WIDTHS)


def _grid(table, *widths) -> None:
    """Fixed column widths in the table grid, which LibreOffice reads (Word reads the cells)."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width


def _save(doc, lang: str, key: str):
    target = HERE / lang / f"{key}.docx"
    doc.core_properties.author = "xl_addin"
    doc.save(target)
    _fix_timestamps(target)
    return target


def _fix_timestamps(path: Path) -> None:
    """Rewrite the package with fixed member dates: the same script gives the same bytes."""
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)  # fmt: skip


if __name__ == "__main__":
    for language in ("en", "zh"):
        for stage in LETTERS:
            print(make_letter(stage, language))
        print(make_call_sheet(language))
