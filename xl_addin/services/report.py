"""`credit-control report`: the monthly credit meeting's pack, one PDF in the workbook's
language, with the figures `close` writes into the workbook:

1. a summary per currency (receivables, overdue, DSO, provision, cash expected, risk);
2. the aging by bucket per currency (账龄分析);
3. the bad-debt provision by age band (坏账准备);
4. the KPIs of the last twelve month-ends (the Dashboard's table) and their trend as a
   stacked bar chart per currency (not yet due and overdue receivables, with the DSO);
5. the collections expected in each of the next 13 weeks (预计回款);
6. the risk worklist (风险客户清单), worst first, with the reasons and the review suggested.

`--period YYYY-MM` reports as of that month's last day (a past month-end is the ledger aged
as of that day, as the Dashboard does). The pack is built as a .docx in a private temporary
folder, converted by LibreOffice (documents/pdf.py), and only then takes its name in the
output folder, never over an existing file: a second pack for the same month is
`... (2).pdf`, and the first is kept.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xl_addin.core import kpis
from xl_addin.core.labels import translator
from xl_addin.core.money import to_decimal
from xl_addin.core.problems import Problem, Source
from xl_addin.core.risk import REVIEWS, Assessment, reason_text
from xl_addin.core.statements import Period
from xl_addin.documents.fields import date_text
from xl_addin.documents.files import safe_file_name, write_new
from xl_addin.documents.meeting_pack import Bars, PackDocument, Table
from xl_addin.documents.pdf import to_pdf
from xl_addin.journal.store import Journal, journal_url
from xl_addin.services import cockpit, month_end
from xl_addin.services.book import output_folder
from xl_addin.services.refresh import AGING_HEADERS, RefreshResult, compute, totals_by_currency
from xl_addin.services.risk import HEADERS as RISK_HEADERS
from xl_addin.services.risk import NONE as NO_RISK
from xl_addin.services.risk import assessments

MONTHS = 12
CURRENT_COLOUR, OVERDUE_COLOUR = "4F81BD", "C0504D"
MAX_NAMES = 99  # packs of one month kept side by side: name, name (2) ... name (99)

TEXT = {
    "en": {
        "file": "credit meeting", "title": "Monthly credit meeting",
        "subtitle": "Branch {branch} · as of {date} · figures from the workbook {book}",
        "footer": "{branch} credit meeting {date}",
        "summary": "Summary",
        "summary_line": "{currency}: receivables {receivables}, of which overdue {overdue} "
                        "({share}); DSO {dso} days (best possible {best}); bad-debt provision "
                        "{provision}; expected in the next 13 weeks {expected}.",
        "risk_line": "{count} customer(s) on the risk worklist, {hold} of them to hold new "
                     "orders (page: Risk worklist).",
        "aging": "Aged receivables by currency",
        "aging_note": "Open items by days past their due date; Unapplied is cash received "
                      "and not yet set against an invoice.",
        "customers": "Customers", "share": "share",
        "provision": "Bad-debt provision by age",
        "provision_note": "Percentage-by-age method: each open item's age from its document "
                          "date, at the rate of the Policy's Provision table.",
        "band": "Age (from document date)", "rate": "Rate",
        "kpis": "Key figures of the last twelve month-ends",
        "kpis_note": "Definitions: docs/kpis.md. A month-end recorded in the journal is given "
                     "as recorded, any other from the ledger as it stands (Source); the last "
                     "row is the as-of date. Overdue % is of the open invoices, before "
                     "unapplied cash.",
        "trend": "Trend of receivables: {currency}", "trend_note": "Receivables · DSO",
        "days": "days",
        "forecast": "Expected collections, next 13 weeks",
        "forecast_note": "Each open invoice at its due date plus its customer's usual lateness "
                         "(its own history, else its segment's, else the branch's), moved to "
                         "a pending promise's date; items long past their habit are 'later'.",
        "risk": "Risk worklist",
        "risk_note": "Customers whose paying is getting worse, the worst first: lateness trend, "
                     "broken promises, credit-limit use and overdue share over the last 3 "
                     "months (rules: docs/kpis.md; thresholds: the Policy's Rules table).",
        "none": "none",
    },
    "zh": {
        "file": "信用管理月度会议", "title": "信用管理月度会议资料",
        "subtitle": "分支机构 {branch} · 截至 {date} · 数据来自工作簿 {book}",
        "footer": "{branch} 信用管理月度会议 {date}",
        "summary": "概要",
        "summary_line": "{currency}：应收余额{receivables}，其中逾期{overdue}（{share}）；"
                        "应收账款周转天数{dso}天（最佳{best}天）；坏账准备{provision}；"
                        "未来13周预计回款{expected}。",
        "risk_line": "风险客户清单共{count}家客户，其中建议暂停接单{hold}家（见风险客户清单页）。",
        "aging": "账龄分析（按币种）",
        "aging_note": "未结单据按逾期天数（自到期日起）分段；"
                      "未核销为已收到但尚未核销到发票的款项。",
        "customers": "客户数", "share": "占比",
        "provision": "坏账准备（账龄分析法）",
        "provision_note": "账龄分析法：每笔未结单据自单据日期起计算账龄，"
                          "按政策表中的坏账准备比例计提。",
        "band": "账龄（自单据日期）", "rate": "计提比例",
        "kpis": "近12个月末关键指标",
        "kpis_note": "定义见 docs/kpis.md。已记录的月末按记录列示，"
                     "其余按现有台账计算（见“来源”列）；最后一行为截止日。逾期占比以未结发票（未扣未核销款项）为分母。",
        "trend": "应收余额趋势：{currency}", "trend_note": "应收余额 · DSO",
        "days": "天",
        "forecast": "未来13周预计回款",
        "forecast_note": "每笔未结发票按到期日加该客户通常的逾期天数（客户自身记录，"
                         "不足时取客户类别或全分支机构的记录）估计回款日，有未到期付款承诺的按承诺日期；"
                         "远超其付款习惯的单据列入“以后”。",
        "risk": "风险客户清单",
        "risk_note": "付款表现变差的客户，按风险分从高到低：近3个月的逾期趋势、付款承诺兑现、"
                     "信用额度使用及逾期占比（规则见 docs/kpis.md，阈值见政策表的规则表）。",
        "none": "无",
    },
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReportResult:
    pdf: Path
    as_of: dt.date
    language: str
    at_risk: int  # customers on the worklist
    earlier: Path | None  # an earlier pack of the same name, kept


def meeting_pack(path: Path, period: str | None = None, out: Path | None = None,
                 step: Callable[[str], None] = lambda _: None,
                 as_of: dt.date | None = None) -> ReportResult | tuple[Problem, ...]:  # fmt: skip
    """Write the meeting pack of the workbook at `path` as of `period`'s last day (else
    `as_of`, as close takes it, else Settings.AsOfDate); return it, or the problems that
    stop it (nothing written)."""
    path = Path(path)
    month = None
    if period is not None:
        try:
            month = Period.parse(period)
        except ValueError as error:
            return (Problem(Source("--period"), str(error)),)
    result = compute(path, month.last_day if month else as_of, step=step)
    if not isinstance(result, RefreshResult):
        return result
    settings = result.loaded.book.settings
    if month is not None:
        latest = max(dt.date.today(), settings.as_of or dt.date.today())
        if month.last_day > latest:
            return (Problem(Source("--period"), (
                f"{month} has not ended: it ends on {month.last_day}, after the workbook's "
                f"as-of date and today ({latest})")),)  # fmt: skip
    folder = output_folder(path, settings, out, "")
    lang = "zh" if settings.language == "zh" else "en"
    step("Computing the provision, the KPIs, the forecast and the risk worklist")
    found = assessments(result)
    branch = month_end.branch_key(settings, path)
    with Journal.open(journal_url(path, settings.journal, dry_run=True)) as journal:
        recorded = month_end.recorded_kpis(month_end.MonthEnds.read(journal, branch))  # as close
    document = build_pack(result, found, path.stem, recorded)
    stamp = f"{result.as_of:%Y-%m}" if result.as_of == Period.of(result.as_of).last_day else (
        f"{result.as_of:%Y-%m-%d}")  # fmt: skip
    stem = safe_file_name(f"{settings.branch or path.stem} {TEXT[lang]['file']} {stamp}")
    step("Converting the pack to PDF (LibreOffice)")
    with tempfile.TemporaryDirectory(prefix="xl-addin-report-") as work:
        docx = document.save(Path(work) / f"{stem}.docx")
        (pdf,) = to_pdf([docx], Path(work), workers=1)
        data = pdf.read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    target, earlier = _place(folder, stem, data)
    return ReportResult(target, result.as_of, lang, len(found), earlier)


def _place(folder: Path, stem: str, data: bytes) -> tuple[Path, Path | None]:
    """Write the PDF under the first free name: stem.pdf, stem (2).pdf ...; never over one."""
    first = folder / f"{stem}.pdf"
    for n in range(1, MAX_NAMES + 1):
        target = first if n == 1 else folder / f"{stem} ({n}).pdf"
        if target.exists():
            continue
        try:
            return write_new(target, data), (first if n > 1 else None)
        except Exception:  # taken in the meantime by another run: try the next name
            if not target.exists():
                raise
    raise FileExistsError(f"{first} and {MAX_NAMES - 1} more packs of that name exist in {folder}")


def build_pack(result: RefreshResult, found: list[Assessment], book: str,
               recorded: dict | None = None) -> PackDocument:  # fmt: skip
    """The pack's document: summary, aging, provision, KPIs and trend, forecast, risk;
    `recorded`: the month-ends' figures as recorded in the journal (kpis.recorded_months)."""
    settings = result.loaded.book.settings
    lang = "zh" if settings.language == "zh" else "en"
    t = TEXT[lang]
    date = date_text(result.as_of, lang)
    branch = settings.branch or book
    loaded = result.loaded
    months = kpis.history(loaded.ledger, loaded.customers, result.as_of, loaded.book.policy,
                          MONTHS, recorded)  # fmt: skip
    broken = cockpit.broken_promise_rates(result, [m.end for m in months])
    provision = cockpit.provision_frame(result)
    collections = cockpit.expected_collections(result)

    document = PackDocument(lang, t["footer"].format(branch=branch, date=date))
    document.title(t["title"], t["subtitle"].format(branch=branch, date=date, book=book))
    document.heading(t["summary"])
    latest = {m.currency: m for m in months if m.end == result.as_of}
    provided = provision.filter(like="provision:").sum(axis=1).groupby(provision["currency"]).sum()
    expected = collections[collections["week"].notna()].groupby("currency")["cents"].sum()
    for currency, m in sorted(latest.items()):
        document.paragraph(t["summary_line"].format(
            currency=currency, receivables=_money(m.receivables), overdue=_money(m.overdue),
            share=_pct(m.overdue_share), dso=_number(m.dso), best=_number(m.best_dso),
            provision=_money(int(provided.get(currency, 0))),
            expected=_money(int(expected.get(currency, 0)))))  # fmt: skip
    hold = sum(a.review == "hold_orders" for a in found)
    document.paragraph(t["risk_line"].format(count=len(found), hold=hold))

    document.heading(t["aging"])
    document.paragraph(t["aging_note"], small=True)
    document.table(_aging_table(result, lang))
    document.heading(t["provision"])
    document.paragraph(t["provision_note"], small=True)
    document.table(_provision_table(result, provision, lang))

    document.heading(t["kpis"], new_page=True)
    document.paragraph(t["kpis_note"], small=True)
    document.table(_kpi_table(months, broken, lang))
    for currency in sorted({m.currency for m in months}):
        mine = [m for m in months if m.currency == currency]
        document.heading(t["trend"].format(currency=currency))
        h = cockpit.HEADERS[lang]
        document.bars(Bars(
            labels=[f"{m.end:%Y-%m-%d}" for m in mine],
            series=[(h["current"], CURRENT_COLOUR, [max(m.current, 0) for m in mine]),
                    (h["overdue"], OVERDUE_COLOUR, [max(m.overdue, 0) for m in mine])],
            notes=[f"{_money(m.receivables)} · {_number(m.dso)} {t['days']}" for m in mine],
            note_header=t["trend_note"], label_header=h["month"]))  # fmt: skip

    document.heading(t["forecast"], new_page=True)
    document.paragraph(t["forecast_note"], small=True)
    document.table(_forecast_table(collections, result.as_of, lang))

    document.heading(t["risk"], new_page=True)
    document.paragraph(t["risk_note"], small=True)
    if found:
        document.table(_risk_table(result, found, lang))
    else:
        document.paragraph(NO_RISK[lang])
    return document


def _aging_table(result: RefreshResult, lang: str) -> Table:
    words = translator(result.loaded.book.policy, lang)
    h, t = AGING_HEADERS[lang], TEXT[lang]
    labels = list(result.aging.labels)
    header = [h[2], t["customers"], *(str(words(label)) for label in labels), h[3], h[4], h[5],
              h[6]]  # fmt: skip
    rows = []
    for totals in totals_by_currency(result):
        # shares of the open invoices, before unapplied credit (docs/kpis.md: Overdue %)
        owed = totals.balance - totals.unapplied
        rows.append([totals.currency, str(totals.customers),
                     *(_money(totals.buckets[label]) for label in labels),
                     _money(totals.unapplied), _money(totals.balance), _money(totals.overdue),
                     _pct(_share(totals.overdue, owed))])  # fmt: skip
        rows.append([f"{totals.currency} {t['share']}", "",
                     *(_pct(_share(totals.buckets[label], owed)) for label in labels),
                     "", "", "", ""])  # fmt: skip
    widths = [1.6, 1.3, *([1.5] * len(labels)), 1.5, 1.7, 1.7, 1.1]
    return Table(header, rows, numeric=frozenset(range(1, len(header))), widths=widths)


def _provision_table(result: RefreshResult, frame, lang: str) -> Table:
    h, t = cockpit.HEADERS[lang], TEXT[lang]
    bands = sorted(result.loaded.book.policy.provision)
    labels = cockpit.band_labels(bands, lang)
    header = [h["currency"], t["band"], t["rate"], h["open"], h["provision"]]
    rows, totals = [], []
    for currency, part in frame.groupby("currency", sort=True):
        for i, (label, (_, rate)) in enumerate(zip(labels, bands, strict=True)):
            if not part[f"open:{i}"].any():
                continue  # nothing that old
            rows.append([currency, label, f"{float(rate):.0%}",
                         _money(int(part[f"open:{i}"].sum())),
                         _money(int(part[f"provision:{i}"].sum()))])  # fmt: skip
        opened = sum(int(part[f"open:{i}"].sum()) for i in range(len(bands)))
        provided = sum(int(part[f"provision:{i}"].sum()) for i in range(len(bands)))
        totals.append([f"{h['total']} {currency}", "", "", _money(opened), _money(provided)])
    return Table(header, rows, totals, numeric=frozenset({2, 3, 4}), widths=[1, 2, 1, 2, 2],
                 size=8.5)  # fmt: skip


def _kpi_table(months: list[kpis.Month], broken: dict, lang: str) -> Table:
    h = cockpit.HEADERS[lang]
    header = [h["month"], h["currency"], h["current"], h["overdue"], h["receivables"],
              h["share"], h["sales"], h["dso"], h["best"], h["add"], h["cei"], h["top10"],
              h["broken"], h["source"]]
    rows = [[f"{m.end:%Y-%m-%d}", m.currency, _money(m.current), _money(m.overdue),
             _money(m.receivables), _pct(m.overdue_share), _money(m.sales), _number(m.dso),
             _number(m.best_dso), _number(m.add), _number(m.cei), _pct(m.top10),
             _pct(broken.get((m.end, m.currency))), cockpit.SOURCES[lang][m.source]]
            for m in sorted(months, key=lambda m: (m.currency, m.end))]  # fmt: skip
    widths = [1.5, 0.9, 1.7, 1.7, 1.7, 1.0, 1.6, 1.3, 1.1, 1.2, 1.3, 1.0, 1.1, 1.5]
    return Table(header, rows, numeric=frozenset(range(2, len(header) - 1)), widths=widths,
                 size=7.5)  # fmt: skip


def _forecast_table(collections, as_of: dt.date, lang: str) -> Table:
    sheet = cockpit.forecast_sheet(collections, as_of, lang)
    header = list(sheet.header)

    def text(value: object) -> str:
        if isinstance(value, dt.date):
            return f"{value:%Y-%m-%d}"
        if value is None:
            return ""
        return f"{value:,}" if not isinstance(value, str | int) else str(value)

    rows = [[text(v) for v in row] for row in sheet.rows]
    totals = [[text(v) for v in row] for row in sheet.totals]
    widths = [1.0, 1.6, *([2.0] * (len(header) - 2))]
    return Table(header, rows, totals, numeric=frozenset(range(2, len(header))), widths=widths,
                 size=8.5)  # fmt: skip


def _risk_table(result: RefreshResult, found: list[Assessment], lang: str) -> Table:
    names = result.loaded.customers.set_index("customer_id")["name"]
    header = list(RISK_HEADERS[lang])
    rows = []
    for rank, a in enumerate(found, start=1):
        reasons = "\n".join(reason_text(r, lang, a.currency) for r in a.reasons)
        rows.append([str(rank), a.customer_id, str(names.get(a.customer_id, "")), a.currency,
                     _money(a.balance), _money(a.overdue),
                     _money(a.limit) if a.limit > 0 else "", str(a.score),
                     REVIEWS[lang][a.review], reasons])  # fmt: skip
    widths = [0.7, 1.2, 3.2, 0.8, 1.6, 1.6, 1.6, 0.9, 3.0, 6.3]
    return Table(header, rows, numeric=frozenset({0, 4, 5, 6, 7}), widths=widths, size=7.5)


def _money(cents: int) -> str:
    return f"{to_decimal(int(cents)):,}"


def _pct(share: float | None) -> str:
    return "-" if share is None or np.isnan(share) else f"{share:.1%}"


def _number(value: float | None) -> str:
    return "-" if value is None or np.isnan(value) else f"{value:,.1f}"


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole
