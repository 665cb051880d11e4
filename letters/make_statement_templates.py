"""Write letters/en/statement.docx and letters/zh/statement.docx: run by hand, output committed.

    python letters/make_statement_templates.py

The templates are ordinary Word documents with Jinja placeholders in docxtpl's
style, so head office can restyle them in Word; this script is how the shipped
ones were made, and makes the same files again. A statement: letterhead,
customer block, opening balance, the month's documents with debit, credit and
running balance, closing balance in figures and in words, the aging of the
closing balance, payment instructions, and a tear-off reply slip to confirm the
balance or list the differences (the confirmation style of Chinese practice and
of audit confirmations).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import NamedTuple

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from xl_addin.documents.faces import add_run, set_faces

HERE = Path(__file__).resolve().parent
GREY = RGBColor(0x55, 0x55, 0x55)
BODY_LINE = {"en": 11.5, "zh": 12.5}  # points, for the 9.5 pt body text
AGING_PER_ROW = 4
MARK = RGBColor(0xA0, 0x10, 0x10)  # the "Disputed" marker: dark red, bold, still clear in grey


class Layout(NamedTuple):
    """How tightly a kind of document is set. A statement is packed to fit one A4 page with
    its reply slip; a letter, a page of prose, keeps the looser setting it shipped with
    (make_letter_templates.py passes LETTER)."""

    margin: float  # top and bottom, cm
    after: float  # Normal's space after a paragraph, pt
    body_line: dict[str, float] | None  # Normal's exact line per language; None: single
    sized_line: float | None  # a paragraph given a size: an exact line that much taller
    cell_line: float  # a table cell: an exact line that much taller than its size
    head: tuple[float, float] | None  # the letterhead's name: exact line, space after (pt)


STATEMENT = Layout(margin=1.0, after=3, body_line=BODY_LINE, sized_line=3, cell_line=2,
                   head=(17, 2))  # fmt: skip
LETTER = Layout(margin=1.3, after=4, body_line=None, sized_line=None, cell_line=2.5, head=None)

TEXT = {
    "en": {
        "title": "Statement of account",
        "to": "To",
        "ref": ("Reference: {{ reference }}", "Date: {{ date }}", "Period: {{ period_text }}",
                "Customer No.: {{ customer.id }}"),
        "opening": "Opening balance at {{ opening_date }}",
        "headers": ("Date", "Type", "Document", "Description", "Debit", "Credit", "Balance"),
        "widths": (2.9, 1.9, 2.9, 2.8, 2.3, 2.3, 2.3),  # cm, 17.4 between the margins
        "disputed": "Disputed",
        "closing": "Closing balance at {{ closing_date }}",
        "words": "{% if in_credit %}Amount we owe you, in words{% else %}Closing balance in "
                 "words{% endif %}: {{ total_in_words }}",
        "aging_title": "Age of the closing balance ({{ currency }})",
        "overdue": "Of which overdue: {{ currency }} {{ total_overdue }}{% if total_disputed_value "
                   "%}, not counting disputed items{% endif %}",
        "disputed_total": "Of which disputed, under review: {{ currency }} {{ total_disputed }}",
        "unapplied": "Unapplied payments and credits: {{ currency }} {{ unapplied }}",
        "items_title": "Items overdue or disputed at {{ closing_date }}",
        "item_headers": ("Document", "Date", "Due date", "Days overdue", "Open amount", "Status"),
        "item_widths": (3.1, 3.2, 3.2, 2.5, 3.0, 2.4),
        "overdue_mark": "Overdue",
        "credit": "The balance is in your favour: at {{ closing_date }} we owe you {{ currency }} "
                  "{{ closing_abs }}, and no payment is due from you. Please let us know whether "
                  "you would like it refunded or set against your next invoices.",
        "nil": "The balance of your account at {{ closing_date }} is nil: no payment is due.",
        "pay": "Please pay the overdue amount of {{ currency }} {{ total_overdue }} to "
               "{{ branch.bank }}, quoting your customer number {{ customer.id }}. If you have "
               "already paid, thank you, and please disregard this request."
               "{% if total_disputed_overdue_value %} The items marked Disputed are under review "
               "and are not included in this amount.{% endif %}",
        "all_disputed": "No payment is requested with this statement: the overdue items, "
                        "{{ currency }} {{ total_disputed_overdue }}, are disputed and under "
                        "review. We will write to you when they are resolved.",
        "not_due": "Nothing is overdue. Please pay the open items by their due dates to "
                   "{{ branch.bank }}, quoting your customer number {{ customer.id }}."
                   "{% if total_disputed_value %} The items marked Disputed are under review."
                   "{% endif %}",
        "query": "Please check this statement and return the reply slip below by "
                 "{{ reply_by }}. If anything differs from your records, list the differences "
                 "on the slip so that we can settle them before the next statement.",
        "sign": "{{ branch.signatory }}\n{{ branch.name }}",
        "cut": "- - - - - - - - - - - - - - - - - - - -  cut here  - - - - - - - - - - - - - - - - - - - -",
        "slip_title": "Reply slip: balance confirmation",
        "slip_to": "Return to: {{ branch.name }}, {{ branch.address }}  {{ branch.email }}",
        "slip_ref": "Statement {{ reference }}, {{ customer.name }} ({{ customer.id }})",
        "agree": "□ We confirm that the balance of {{ currency }} {{ closing }} owed to "
                 "{{ branch.name }} as at {{ closing_date }} is correct.",
        "agree_credit": "□ We confirm that the balance of {{ currency }} {{ closing_abs }} owed "
                        "to us by {{ branch.name }} as at {{ closing_date }} is correct.",
        "agree_nil": "□ We confirm that our account with {{ branch.name }} had a nil balance as "
                     "at {{ closing_date }}.",
        "differ": "□ The balance differs. Our records show {{ currency }} ______________ as at "
                  "{{ closing_date }}; the differences are listed below.",
        "diff_headers": ("Document", "Date", "Amount", "Explanation"),
        "boxes": ("Signature", "Company stamp", "Date"),
    },
    "zh": {
        "title": "对 账 单",
        "to": "致",
        "ref": ("编号：{{ reference }}", "日期：{{ date }}", "对账期间：{{ period_text }}",
                "客户编号：{{ customer.id }}"),
        "opening": "期初余额（{{ opening_date }}）",
        "headers": ("日期", "类型", "单据号", "摘要", "借方", "贷方", "余额"),
        "widths": (3.2, 1.2, 2.9, 3.2, 2.3, 2.3, 2.3),  # 2026年11月18日 on one line
        "disputed": "有争议",
        "closing": "期末余额（{{ closing_date }}）",
        "words": "{% if in_credit %}本公司应付金额（大写）{% else %}大写金额{% endif %}："
                 "{{ total_in_words }}",
        "aging_title": "期末余额账龄（{{ currency }}）",
        "overdue": "其中逾期：{{ currency }} {{ total_overdue }}{% if total_disputed_value %}"
                   "（不含有争议款项）{% endif %}",
        "disputed_total": "其中有争议（核实中）：{{ currency }} {{ total_disputed }}",
        "unapplied": "未核销收款及贷项：{{ currency }} {{ unapplied }}",
        "items_title": "逾期及有争议单据（截至{{ closing_date }}）",
        "item_headers": ("单据号", "单据日期", "到期日", "逾期天数", "未付金额", "状态"),
        "item_widths": (3.1, 3.4, 3.4, 2.3, 3.0, 2.2),
        "overdue_mark": "逾期",
        "credit": "截至{{ closing_date }}，贵司账户为贷方余额，本公司应付贵司{{ currency }} "
                  "{{ closing_abs }}，贵司无需付款。如需退款或抵扣今后货款，请告知本公司。",
        "nil": "截至{{ closing_date }}，贵司账户余额为零，无需付款。",
        "pay": "请将逾期款项{{ currency }} {{ total_overdue }}汇入：{{ branch.bank }}，并注明客户"
               "编号{{ customer.id }}。如已付款，谢谢，请忽略本付款请求。"
               "{% if total_disputed_overdue_value %}标注“有争议”的款项正在核实，不在本次付款"
               "金额之内。{% endif %}",
        "all_disputed": "本对账单不要求付款：逾期款项{{ currency }} {{ total_disputed_overdue }}"
                        "有争议，正在核实中，处理结果将另行函告。",
        "not_due": "目前无逾期款项。请于到期日前将款项汇入：{{ branch.bank }}，并注明客户编号"
                   "{{ customer.id }}。{% if total_disputed_value %}标注“有争议”的款项正在核实。"
                   "{% endif %}",
        "query": "请核对本对账单，并于{{ reply_by }}前将下方回执签章寄回。如与贵公司账面不符，"
                 "请在回执中列明差异，以便在下期对账前核实处理。",
        "sign": "{{ branch.signatory }}\n{{ branch.name }}",
        "cut": "- - - - - - - - - - - - - - - - - - - -  请沿此线剪下  - - - - - - - - - - - - - - - - - - - -",
        "slip_title": "回  执（余额确认）",
        "slip_to": "请寄回：{{ branch.name }}，{{ branch.address }}  {{ branch.email }}",
        "slip_ref": "对账单编号{{ reference }}，{{ customer.name }}（{{ customer.id }}）",
        "agree": "□ 经核对，截至{{ closing_date }}，本公司欠{{ branch.name }}余额{{ currency }} "
                 "{{ closing }}，数额相符。",
        "agree_credit": "□ 经核对，截至{{ closing_date }}，{{ branch.name }}应付本公司余额"
                        "{{ currency }} {{ closing_abs }}，数额相符。",
        "agree_nil": "□ 经核对，截至{{ closing_date }}，本公司与{{ branch.name }}往来余额为零，"
                     "数额相符。",
        "differ": "□ 数额不符。截至{{ closing_date }}，本公司账面余额为{{ currency }} "
                  "______________，差异明细如下。",
        "diff_headers": ("单据号", "日期", "金额", "差异说明"),
        "boxes": ("经办人签字", "单位盖章", "日期"),
    },
}  # fmt: skip


def make(lang: str) -> Path:
    t = TEXT[lang]
    doc = Document()
    _page(doc)
    _styles(doc, lang)
    _letterhead(doc)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(3)
    title.paragraph_format.line_spacing = Pt(18)
    add_run(title, t["title"], size=15, bold=True)
    _addressee(doc, t)

    table = doc.add_table(rows=6, cols=7)
    table.style = "Table Grid"
    widths = tuple(Cm(width) for width in t["widths"])
    header, opening, loop, body, end, closing = table.rows
    # docxtpl replaces a row holding a {%tr %} tag by the tag: the row between repeats.
    _cell(loop.cells[0], "{%tr for line in lines %}")
    _cell(end.cells[0], "{%tr endfor %}")
    for cell, text in zip(header.cells, t["headers"], strict=True):
        _cell(cell, text, bold=True, shade=True)
    # A long month runs onto a second page: the column headings come with it.
    header._tr.get_or_add_trPr().append(header._tr.makeelement(qn("w:tblHeader"), {}))
    _cell(opening.cells[0], t["opening"], bold=True)
    opening.cells[0].merge(opening.cells[5])
    _cell(opening.cells[6], "{{ opening }}", right=True, bold=True)
    # One Word row repeated per line of the period ({%tr %} rows are docxtpl's table loops).
    line = (
        "{{ line.date }}", "{{ line.doc_type }}", "{{ line.doc_no }}", "{{ line.description }}",
        "{{ line.debit }}", "{{ line.credit }}", "{{ line.balance }}",
    )  # fmt: skip
    for position, (cell, text) in enumerate(zip(body.cells, line, strict=True)):
        _cell(cell, text, right=position >= 4, size=9)
    # A disputed document keeps its place in the running balance and says so.
    add_run(body.cells[3].paragraphs[0],
         "{% if line.disputed %}{% if line.description %} {% endif %}" + t["disputed"]
         + "{% endif %}", size=9, bold=True, color=MARK)  # fmt: skip
    _cell(closing.cells[0], t["closing"], bold=True)
    closing.cells[0].merge(closing.cells[3])
    _cell(closing.cells[4], "{{ total_debit }}", right=True, bold=True)
    _cell(closing.cells[5], "{{ total_credit }}", right=True, bold=True)
    _cell(closing.cells[6], "{{ closing }}", right=True, bold=True)
    _grid(table, widths)

    _para(doc, "{%p if closing_value %}", space_after=0)
    _para(doc, t["words"], bold=True, space_before=4)
    _para(doc, "{%p endif %}", space_after=0)
    _para(doc, t["aging_title"], bold=True, space_before=4, space_after=2)
    # Four buckets a row, label then amount: two rows for the default seven, whatever the Policy.
    aging = doc.add_table(rows=3, cols=2 * AGING_PER_ROW)
    aging.style = "Table Grid"
    _cell(aging.rows[0].cells[0], f"{{%tr for row in aging|batch({AGING_PER_ROW}, '') %}}")
    for position in range(AGING_PER_ROW):
        label, amount = aging.rows[1].cells[2 * position:2 * position + 2]
        _cell(label, f"{{{{ row[{position}].label }}}}", bold=True, shade=True)
        _cell(amount, f"{{{{ row[{position}].amount }}}}", right=True)
    _cell(aging.rows[2].cells[0], "{%tr endfor %}")
    _grid(aging, (Cm(1.9), Cm(2.45)) * AGING_PER_ROW)
    # "Overdue: 0.00" says nothing when all that is overdue is disputed: the next line does.
    _para(doc, "{%p if closing_value > 0 and (total_overdue_value or not "
               "total_disputed_overdue_value) %}", space_after=0)  # fmt: skip
    _para(doc, t["overdue"], space_before=4, space_after=0)
    _para(doc, "{%p endif %}", space_after=0)
    _para(doc, "{%p if total_disputed_value %}", space_after=0)
    _para(doc, t["disputed_total"], space_after=0)
    _para(doc, "{%p endif %}", space_after=0)
    _para(doc, "{%p if unapplied_value %}", space_after=0)
    _para(doc, t["unapplied"], space_after=0)
    _para(doc, "{%p endif %}", space_after=0)
    _items(doc, t)
    # One request, by the side the balance is on and what of it is overdue and undisputed.
    _choice(doc, (("in_credit", t["credit"]), ("closing_value == 0", t["nil"]),
                  ("total_overdue_value", t["pay"]),
                  ("total_disputed_overdue_value", t["all_disputed"]), ("", t["not_due"])),
            space_before=4)  # fmt: skip
    _para(doc, t["query"])
    _para(doc, t["sign"], space_before=4)

    slip_start = len(doc.paragraphs)
    _para(doc, t["cut"], color=GREY, size=8, space_before=6, align=WD_ALIGN_PARAGRAPH.CENTER)
    slip = doc.add_paragraph()
    slip.alignment = WD_ALIGN_PARAGRAPH.CENTER
    slip.paragraph_format.space_after = Pt(2)
    slip.paragraph_format.line_spacing = Pt(14)
    add_run(slip, t["slip_title"], size=11, bold=True)
    _para(doc, t["slip_to"], size=8.5, color=GREY, space_after=0)
    _para(doc, t["slip_ref"], size=8.5, color=GREY)
    _choice(doc, (("in_credit", t["agree_credit"]), ("closing_value == 0", t["agree_nil"]),
                  ("", t["agree"])))  # fmt: skip
    _para(doc, t["differ"])
    differences = doc.add_table(rows=3, cols=4)
    differences.style = "Table Grid"
    for cell, text in zip(differences.rows[0].cells, t["diff_headers"], strict=True):
        _cell(cell, text, bold=True, shade=True, size=9)
    for row in differences.rows[1:]:
        row.height = Cm(0.5)
    _grid(differences, (Cm(17.4 / 4),) * 4)
    _para(doc, "", space_after=0, size=6)
    boxes = doc.add_table(rows=2, cols=3)
    boxes.style = "Table Grid"
    for cell, text in zip(boxes.rows[0].cells, t["boxes"], strict=True):
        _cell(cell, text, bold=True, size=9, shade=True)
    boxes.rows[1].height = Cm(1.5)
    _grid(boxes, (Cm(17.4 / 3),) * 3)
    _keep_together(doc.paragraphs[slip_start:], (differences, boxes))

    target = HERE / lang / "statement.docx"
    target.parent.mkdir(parents=True, exist_ok=True)
    doc.core_properties.author = "xl_addin"
    doc.core_properties.title = t["title"]
    doc.save(target)
    _fix_timestamps(target)
    return target


def _addressee(doc, t) -> None:
    """The customer on the left, the statement's reference, date and customer number on the right."""
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    _cell(left, t["to"], bold=True, size=10)
    for text in ("{{ customer.name }}", "{{ customer.contact }}", "{{ customer.address }}"):
        _cell(left, text, size=10, new=True)
    for position, text in enumerate(t["ref"]):
        _cell(right, text, right=True, size=9, new=position > 0)
    _grid(table, (Cm(10.4), Cm(7.0)))
    table.alignment = None  # no borders: its text, not its edge, lines up with the letterhead
    _para(doc, "", space_after=0, size=4)


def _grid(table, widths) -> None:
    """Fixed column widths, in the grid (which LibreOffice reads) and the cells (Word's).

    Centred: every table is the 17.4 cm between the margins, so their edges line up.
    """
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def _fix_timestamps(path: Path) -> None:
    """Rewrite the package with fixed member dates: the same script gives the same bytes."""
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)  # fmt: skip


def _keep_together(paragraphs, tables) -> None:
    """Keep the tear-off slip on one page: a slip cut across two pages cannot be returned."""
    for paragraph in paragraphs:
        paragraph.paragraph_format.keep_with_next = True
    for table in tables:
        for row in table.rows:
            row._tr.get_or_add_trPr().append(row._tr.makeelement(qn("w:cantSplit"), {}))
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True


def _items(doc, t) -> None:
    """The open items overdue or disputed at the period end, shown only when there are some."""
    _para(doc, "{%p if items %}", space_after=0)
    _para(doc, t["items_title"], bold=True, space_before=4, space_after=2)
    table = doc.add_table(rows=4, cols=6)
    table.style = "Table Grid"
    header, loop, body, end = table.rows
    _cell(loop.cells[0], "{%tr for item in items %}")
    _cell(end.cells[0], "{%tr endfor %}")
    row = (
        "{{ item.doc_no }}", "{{ item.doc_date }}", "{{ item.due_date }}",
        "{% if item.days_overdue > 0 %}{{ item.days_overdue }}{% endif %}", "{{ item.open_amount }}",
        "{% if item.disputed %}" + t["disputed"] + "{% elif item.days_overdue > 0 %}"
        + t["overdue_mark"] + "{% endif %}",
    )  # fmt: skip
    for position, (cell, title, text) in enumerate(
        zip(header.cells, t["item_headers"], row, strict=True)
    ):
        _cell(cell, title, bold=True, shade=True, right=position in (3, 4))
        _cell(body.cells[position], text, right=position in (3, 4), bold=position == 5)
    header._tr.get_or_add_trPr().append(header._tr.makeelement(qn("w:tblHeader"), {}))
    # Dates need room ("15 September 2026"); the grid is what LibreOffice lays out by.
    _grid(table, tuple(Cm(width) for width in t["item_widths"]))
    _para(doc, "{%p endif %}", space_after=0)


def _choice(doc, branches, **spacing) -> None:
    """One paragraph of several, the first whose Jinja condition holds ("" for else)."""
    for position, (condition, text) in enumerate(branches):
        if condition:
            tag = "if" if position == 0 else "elif"
            _para(doc, f"{{%p {tag} {condition} %}}", space_after=0)
        else:
            _para(doc, "{%p else %}", space_after=0)
        _para(doc, text, **spacing)
    _para(doc, "{%p endif %}", space_after=0)


def _letterhead(doc, layout: Layout = STATEMENT) -> None:
    head = doc.add_paragraph()
    if layout.head is not None:
        head.paragraph_format.line_spacing = Pt(layout.head[0])
        head.paragraph_format.space_after = Pt(layout.head[1])
    add_run(head, "{{ branch.name }}", size=14, bold=True)
    _para(doc, "{{ branch.address }}", size=9, color=GREY, space_after=0, layout=layout)
    _para(
        doc,
        "{{ branch.phone }}  {{ branch.email }}{% if branch.tax_id %}  {{ branch.tax_id }}"
        "{% endif %}",
        size=9,
        color=GREY,
        layout=layout,
    )


def _page(doc, layout: Layout = STATEMENT) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)  # A4
    section.left_margin = section.right_margin = Cm(1.8)
    section.top_margin = section.bottom_margin = Cm(layout.margin)


def _styles(doc, lang: str, layout: Layout = STATEMENT) -> None:
    """The faces and languages every generated document declares (documents.faces), then the
    layout's paragraph spacing."""
    set_faces(doc, lang)
    style = doc.styles["Normal"]
    style.paragraph_format.space_after = Pt(layout.after)
    # An exact line, as Chinese business documents set it (固定值): a CJK face's own line is
    # nearly half as tall again as its size, which cost a statement five lines of its table.
    if layout.body_line is not None:
        style.paragraph_format.line_spacing = Pt(layout.body_line[lang])


def _para(doc, text, *, size=None, bold=False, color=None, align=None, space_before=None,
          space_after=None, layout: Layout = STATEMENT):  # fmt: skip
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if space_before is not None:
        paragraph.paragraph_format.space_before = Pt(space_before)
    if space_after is not None:
        paragraph.paragraph_format.space_after = Pt(space_after)
    if size is not None and layout.sized_line is not None:
        paragraph.paragraph_format.line_spacing = Pt(size + layout.sized_line)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        run = add_run(paragraph, line, size=size, bold=bold, color=color)
        if i < len(lines) - 1:
            run.add_break()
    return paragraph


def _cell(cell, text, *, bold=False, right=False, shade=False, size=9, new=False,
          layout: Layout = STATEMENT):  # fmt: skip
    paragraph = cell.add_paragraph() if new else cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    # An exact line: a Chinese face's own line height would make every row a third taller.
    paragraph.paragraph_format.line_spacing = Pt(size + layout.cell_line)
    if right:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    add_run(paragraph, text, size=size, bold=bold)
    if shade:
        properties = cell._tc.get_or_add_tcPr()
        fill = properties.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:fill"): "E8EEF4"})
        properties.append(fill)


if __name__ == "__main__":
    for language in TEXT:
        print(make(language))
