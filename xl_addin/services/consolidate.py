"""The group view (`credit-control consolidate`): every branch workbook read and aged as
`refresh` ages it (in parallel, one process per core), then added up in one report for
head office: aging by branch in the group's base currency, per branch and currency, per
customer across branches (matched by TaxID, else CustomerID), the top overdue customers,
and stage and credit-status counts per branch.

Nothing is converted without a rate: a currency other than the base needs a line in the
rates file (`--rates`: Currency, Rate (base units for one unit), Date), and the report
says the rates' dates. A branch that cannot be read is listed on the Branches sheet with
its problems, never silently left out; the command then exits 1.

The report is written in English or Chinese (`language`; by default the language most
of the branch workbooks use, else English): sheet names, headings, titles (dates as
2026年11月30日), bucket labels, stage and credit-status names, totals. Currency codes,
branch codes and file names stay as they are.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from xl_addin.core import group
from xl_addin.core.dates import parse_dates
from xl_addin.core.labels import CREDIT_STATUS_ZH, bucket_text, translator
from xl_addin.core.money import to_decimal
from xl_addin.core.policy import DEFAULT_POLICY, ON_HOLD
from xl_addin.core.problems import Problem, Source
from xl_addin.documents.fields import date_text
from xl_addin.errors import CreditControlError
from xl_addin.workbook.report import ReportSheet, write_report

TOP = 20
STAGE_ORDER = [s.name for s in (*DEFAULT_POLICY.stages, ON_HOLD)]  # the ladder, then others
STATUS_ORDER = ["OK", "Near limit", "Over limit", "Hold"]
RATE_HEADERS = {"currency": "currency", "币种": "currency", "货币": "currency",
                "rate": "rate", "汇率": "rate", "date": "date", "日期": "date",
                "汇率日期": "date"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class BranchRead:
    """One branch workbook as read: its customer lines (None when it could not be read)."""

    path: Path
    branch: str
    base_currency: str
    as_of: dt.date | None
    labels: tuple[str, ...]
    lines: pd.DataFrame | None
    problems: tuple[str, ...] = ()
    language: str = ""  # the workbook's Settings.Language ("" when it could not be read)
    stage_names_zh: tuple[tuple[str, str], ...] = ()  # its policy's stage names in Chinese


@dataclass(frozen=True, slots=True)
class ConsolidateResult:
    out: Path
    branches: list[BranchRead]
    rates: group.Rates
    customers: pd.DataFrame  # group.group_customers, with balance_base and overdue_base
    backup: Path | None
    language: str = "en"  # the report's

    @property
    def failed(self) -> list[BranchRead]:
        return [b for b in self.branches if b.lines is None]


def read_branch(path: Path, as_of: dt.date | None = None) -> BranchRead:
    """A branch's customer lines, as refresh computes them (for a worker process)."""
    from xl_addin.services.refresh import RefreshResult, aging_frame, compute

    try:
        result = compute(path, as_of)
    except CreditControlError as error:
        return BranchRead(path, path.stem, "", None, (), None, (str(error),))
    if not isinstance(result, RefreshResult):
        return BranchRead(path, path.stem, "", None, (), None, tuple(map(str, result)))
    settings = result.loaded.book.settings
    frame = aging_frame(result)
    customers = result.loaded.customers
    tax = dict(zip(customers["customer_id"], customers["tax_id"], strict=True))
    branch = settings.branch or path.stem
    lines = frame.assign(branch=branch, tax_id=[tax.get(c) or "" for c in frame["customer_id"]])
    labels = tuple(result.aging.labels)
    zh = translator(result.loaded.book.policy, "zh")
    stage_names = tuple((name, str(zh(name))) for name in frame["stage"].dropna().unique()
                        if isinstance(name, str))  # fmt: skip
    return BranchRead(path, branch, settings.base_currency, result.as_of, labels, lines,
                      language=settings.language, stage_names_zh=stage_names)


def report_language(reads: Sequence[BranchRead]) -> str:
    """The language most of the branch workbooks read use (zh or en); en on a tie."""
    counts = Counter("zh" if r.language == "zh" else "en" for r in reads if r.language)
    return "zh" if counts["zh"] > counts["en"] else "en"


def consolidate(
    paths: Sequence[Path], out: Path, rates_file: Path | None = None,
    as_of: dt.date | None = None, base: str | None = None, workers: int | None = None,
    language: str | None = None,
) -> ConsolidateResult | tuple[Problem, ...]:  # fmt: skip
    """Read every branch, add them up and write the group report at `out`, in `language`
    (en or zh; None: the language most branches use)."""
    problems = _check_paths(paths, out)
    if problems:
        return problems
    reads = _read_all([Path(p) for p in paths], as_of, workers)
    reads = _distinct_names(reads)
    good = [r for r in reads if r.lines is not None]
    base = (base or next((r.base_currency for r in good if r.base_currency), "") or "CNY").upper()
    rates, problems = read_rates(rates_file, base) if rates_file else (group.Rates(base, {}, {}),
                                                                        [])  # fmt: skip
    lines = pd.concat([r.lines for r in good], ignore_index=True) if good else None
    if lines is not None:
        missing = rates.missing(list(lines["currency"].unique()))
        if missing:
            where = Source(rates_file.name) if rates_file else Source("--rates")
            message = (f"no rate to {base} for {', '.join(missing)}: give each currency a "
                       "line (Currency, Rate, Date)")
            problems.append(Problem(where, message))
    if problems:
        return tuple(problems)
    labels = group.bucket_order([label for r in good for label in r.labels])
    if lines is None:
        lines = pd.DataFrame(columns=["branch", "customer_id", "tax_id", "name", "currency",
                                      *labels, *group.AMOUNTS, "max_days_overdue",
                                      "credit_status", "stage"])  # fmt: skip
    lines = lines.reindex(columns=[c for c in lines.columns if c not in labels] + list(labels))
    lines[list(labels)] = lines[list(labels)].fillna(0).astype("int64")
    customers = group.group_customers(lines, labels) if len(lines) else pd.DataFrame()
    if len(customers):
        for name in ("balance", "overdue"):
            customers[f"{name}_base"] = _in_base(customers[name], customers["currency"], rates)
    language = language if language in ("en", "zh") else report_language(reads)
    sheets = report_sheets(reads, lines, customers, labels, rates, language)
    backup = write_report(Path(out), sheets, language)
    return ConsolidateResult(Path(out), reads, rates, customers, backup, language)


def _check_paths(paths: Sequence[Path], out: Path) -> tuple[Problem, ...]:
    problems = []
    if not paths:
        problems.append(Problem(Source("consolidate"), "name at least one branch workbook"))
    for path in paths:
        if not Path(path).is_file():
            problems.append(Problem(Source(str(path)), "no such file"))
    if Path(out).suffix.lower() != ".xlsx":
        problems.append(Problem(Source(str(out)), "the group report is an .xlsx file"))
    elif not Path(out).parent.is_dir():
        problems.append(Problem(Source(str(out)), f"no such folder: {Path(out).parent}"))
    return tuple(problems)


def _read_all(paths: list[Path], as_of: dt.date | None, workers: int | None) -> list[BranchRead]:
    """Each branch in a process of its own (reading and aging are CPU work), in order."""
    workers = workers or min(len(paths), os.cpu_count() or 1)
    if workers <= 1 or len(paths) == 1:
        return [read_branch(p, as_of) for p in paths]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(read_branch, paths, [as_of] * len(paths)))


def _distinct_names(reads: list[BranchRead]) -> list[BranchRead]:
    """Two files of the same branch code are told apart by their file names."""
    seen: dict[str, int] = {}
    for r in reads:
        seen[r.branch] = seen.get(r.branch, 0) + 1
    out = []
    for r in reads:
        if seen[r.branch] > 1:
            name = f"{r.branch} ({r.path.stem})"
            lines = None if r.lines is None else r.lines.assign(branch=name)
            r = BranchRead(r.path, name, r.base_currency, r.as_of, r.labels, lines, r.problems,
                           r.language, r.stage_names_zh)
        out.append(r)
    return out


def read_rates(path: Path, base: str) -> tuple[group.Rates, list[Problem]]:
    """The rates file: Currency, Rate (base units for one unit of it), Date (optional);
    English or Chinese headers, UTF-8 or GBK. Every bad cell is a located problem."""
    problems: list[Problem] = []
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        return group.Rates(base, {}, {}), [Problem(Source(str(path)), str(error))]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gbk", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    name = Path(path).name
    if not rows:
        return group.Rates(base, {}, {}), [Problem(Source(name), "the rates file is empty")]
    columns = {RATE_HEADERS.get("".join(h.split()).lower()): i for i, h in enumerate(rows[0])}
    for needed in ("currency", "rate"):
        if needed not in columns:
            problems.append(Problem(Source(name), f"no {needed.capitalize()} column "
                                                  "(headers: Currency, Rate, Date)"))  # fmt: skip
    if problems:
        return group.Rates(base, {}, {}), problems
    rates: dict[str, Decimal] = {}
    dates: dict[str, dt.date | None] = {}
    for number, row in enumerate(rows[1:], start=2):
        def cell(key: str, row: list[str] = row) -> str:
            at = columns.get(key)
            return row[at].strip() if at is not None and at < len(row) else ""

        currency = cell("currency").upper()
        if not currency:
            continue
        try:
            rate = Decimal(cell("rate").replace(",", ""))
            if not rate.is_finite() or rate <= 0:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(Problem(Source(name, number, "Rate"),
                                    f"{cell('rate')!r} is not a rate above 0"))  # fmt: skip
            continue
        rates[currency] = rate
        when = cell("date")
        if when:
            parsed, errors = parse_dates([when])
            if errors:
                problems.append(Problem(Source(name, number, "Date"), f"{when!r}: {errors[0][1]}"))
                continue
            dates[currency] = pd.Timestamp(parsed[0]).date()
        else:
            dates[currency] = None
    return group.Rates(base, rates, dates), problems


# --- the report ------------------------------------------------------------------------

TEXT = {
    "en": {
        "title": "Group aging as of {when}, in {base}{rated}",
        "rated": "; rates to {base} as of {dates}", "join": ", ", "none": "-",
        "read_count": "{read} of {total} branches read",
        "sheets": {"group": "Group ({base})", "currency": "By currency",
                   "customers": "Customers", "top": "Top {top} overdue", "stage": "Stages",
                   "credit_status": "Credit status", "branches": "Branches", "rates": "Rates"},
        "branch": "Branch", "unapplied": "Unapplied", "balance": "Balance",
        "overdue": "Overdue", "share": "Overdue %", "customers": "Customers",
        "currency": "Currency", "customer": "Customer", "name": "Name", "tax_id": "TaxID",
        "branches": "Branches", "max_days": "Max days overdue",
        "balance_in": "Balance in {base}", "overdue_in": "Overdue in {base}",
        "total": "Group total", "file": "File", "as_of": "As of",
        "base_currency": "Base currency", "with_balance": "Customers with a balance",
        "status": "Status", "read": "read", "not_included": "NOT INCLUDED: ",
        "rate": "Rate to {base}", "date": "Date", "list": ", ", "amounts": "; ",
    },
    "zh": {
        "title": "集团账龄分析，截至{when}，折合{base}{rated}",
        "rated": "；汇率日期：{dates}", "join": "、", "none": "无",
        "read_count": "共{total}家分支机构，已读取{read}家",
        "sheets": {"group": "集团（{base}）", "currency": "按币种", "customers": "客户",
                   "top": "逾期金额前{top}名", "stage": "催收阶段",
                   "credit_status": "信用状态", "branches": "分支机构", "rates": "汇率"},
        "branch": "分支机构", "unapplied": "未核销", "balance": "余额",
        "overdue": "逾期金额", "share": "逾期占比", "customers": "客户数",
        "currency": "币种", "customer": "客户编号", "name": "客户名称", "tax_id": "税号",
        "branches": "所在分支机构", "max_days": "最长逾期天数",
        "balance_in": "余额（折合{base}）", "overdue_in": "逾期金额（折合{base}）",
        "total": "集团合计", "file": "文件", "as_of": "截至日期",
        "base_currency": "本位币", "with_balance": "有余额的客户数",
        "status": "状态", "read": "已读取", "not_included": "未纳入：",
        "rate": "对{base}汇率", "date": "日期", "list": "、", "amounts": "；",
    },
}  # fmt: skip


def report_sheets(reads, lines, customers, labels, rates, language: str = "en"
                  ) -> list[ReportSheet]:  # fmt: skip
    """The group report's sheets, every word a person reads in `language` (en or zh)."""
    lang = "zh" if language == "zh" else "en"
    text = TEXT[lang]
    sheet = text["sheets"]
    shown = [bucket_text(label, lang) for label in labels]
    as_ofs = sorted({r.as_of for r in reads if r.as_of})
    when = text["join"].join(_day(d, lang) for d in as_ofs) or text["none"]
    rate_dates = sorted({d for d in rates.dates.values() if d})
    rated = (text["rated"].format(base=rates.base,
                                  dates=text["join"].join(_day(d, lang) for d in rate_dates))
             if rate_dates else "")  # fmt: skip
    title = (text["title"].format(when=when, base=rates.base, rated=rated),
             text["read_count"].format(read=len([r for r in reads if r.lines is not None]),
                                       total=len(reads)))  # fmt: skip
    sheets = [_group_sheet(lines, labels, shown, rates, title, text)]
    sheets.append(_currency_sheet(lines, labels, shown, text))
    sheets.append(_customer_sheet(customers, labels, shown, rates, text))
    sheets.append(_top_sheet(customers, rates, text))
    names = _names(reads, lang)
    for column, order in (("stage", STAGE_ORDER), ("credit_status", STATUS_ORDER)):
        counts = group.status_counts(lines, column) if len(lines) else pd.DataFrame()
        counts = counts[sorted(counts.columns, key=lambda v: (order.index(v) if v in order
                                                              else len(order), v))]  # fmt: skip
        rows = [[b, *map(int, row)] for b, row in zip(counts.index, counts.to_numpy())]
        headers = (text["branch"], *(names.get(str(c), str(c)) for c in counts.columns))
        sheets.append(ReportSheet(sheet[column], headers, rows))
    sheets.append(ReportSheet(sheet["branches"], (
        text["branch"], text["file"], text["as_of"], text["base_currency"],
        text["with_balance"], text["status"]), [
        [r.branch, r.path.name, r.as_of, r.base_currency,
         None if r.lines is None else len(r.lines),
         text["read"] if r.lines is not None
         else text["not_included"] + "; ".join(r.problems)[:500]]
        for r in reads]))  # fmt: skip
    sheets.append(ReportSheet(sheet["rates"], (
        text["currency"], text["rate"].format(base=rates.base), text["date"]), [
        [c, rates.rates[c], rates.dates.get(c)] for c in sorted(rates.rates)]))  # fmt: skip
    return sheets


def _day(day: dt.date, lang: str) -> str:
    """A date in a title: 2026-11-30 in English (as the cells show it), 2026年11月30日."""
    return date_text(day, "zh") if lang == "zh" else day.isoformat()


def _names(reads, lang: str) -> dict[str, str]:
    """Stage names and credit statuses as the report shows them (the branches' policies'
    Chinese stage names in a Chinese report)."""
    if lang != "zh":
        return {}
    names = dict(CREDIT_STATUS_ZH)
    names |= {s.name: s.name_zh for s in (*DEFAULT_POLICY.stages, ON_HOLD) if s.name_zh}
    for r in reads:
        names |= dict(r.stage_names_zh)
    return names


def _group_sheet(lines, labels, shown, rates, title, text) -> ReportSheet:
    """Per branch, every currency in the base currency: the aging and its total."""
    header = (text["branch"], *shown, text["unapplied"], text["balance"], text["overdue"],
              text["share"], text["customers"])
    rows, total = [], None
    if len(lines):
        converted = lines.copy()
        for name in (*labels, *group.AMOUNTS):
            converted[name] = _in_base(converted[name], converted["currency"], rates)
        sums = converted.groupby("branch", sort=True)[[*labels, *group.AMOUNTS]].sum()
        counts = converted.groupby("branch", sort=True)["customer_id"].count()
        for branch, row in sums.iterrows():
            rows.append(_aging_row(branch, row, labels, int(counts[branch])))
        total = sums.sum()
        rows.append(_aging_row(text["total"], total, labels, int(counts.sum())))
    return ReportSheet(text["sheets"]["group"].format(base=rates.base)[:31], header, rows,
                       title=title, chart_columns=tuple(range(1, 1 + len(labels))))  # fmt: skip


def _aging_row(name, row, labels, customers: int) -> list[object]:
    balance, overdue = int(row["balance"]), int(row["overdue"])
    share = None if balance == 0 else round(overdue / balance, 4)
    return [name, *(to_decimal(int(row[label])) for label in labels),
            to_decimal(int(row["unapplied"])), to_decimal(balance), to_decimal(overdue), share,
            customers]  # fmt: skip


def _currency_sheet(lines, labels, shown, text) -> ReportSheet:
    header = (text["branch"], text["currency"], *shown, text["unapplied"], text["balance"],
              text["overdue"], text["customers"])
    rows = []
    if len(lines):
        totals = group.branch_totals(lines, labels)
        for _, row in totals.iterrows():
            rows.append([row["branch"], row["currency"],
                         *(to_decimal(int(row[n])) for n in (*labels, *group.AMOUNTS)),
                         int(row["customers"])])  # fmt: skip
        by_currency = totals.groupby("currency", sort=True)[[*labels, *group.AMOUNTS,
                                                             "customers"]].sum()  # fmt: skip
        for currency, row in by_currency.iterrows():
            rows.append([text["total"], currency,
                         *(to_decimal(int(row[n])) for n in (*labels, *group.AMOUNTS)),
                         int(row["customers"])])  # fmt: skip
    return ReportSheet(text["sheets"]["currency"], header, rows)


def _customer_sheet(customers, labels, shown, rates, text) -> ReportSheet:
    header = (text["customer"], text["name"], text["tax_id"], text["currency"],
              text["branches"], *shown, text["unapplied"], text["balance"], text["overdue"],
              text["max_days"], text["balance_in"].format(base=rates.base))
    rows = []
    for _, c in customers.iterrows() if len(customers) else ():
        balances = zip(c["branches"], c["branch_balances"], strict=True)
        at = text["amounts"].join(f"{b} {to_decimal(v):,.2f}" for b, v in balances)
        rows.append([c["customer_id"], c["name"], c["tax_id"], c["currency"], at,
                     *(to_decimal(int(c[n])) for n in (*labels, *group.AMOUNTS)),
                     c["max_days_overdue"], _base(c["balance_base"])])  # fmt: skip
    return ReportSheet(text["sheets"]["customers"], header, rows)


def _top_sheet(customers, rates, text) -> ReportSheet:
    header = (text["customer"], text["name"], text["currency"], text["branches"],
              text["overdue"], text["overdue_in"].format(base=rates.base), text["max_days"])
    rows = []
    if len(customers):
        top = customers[customers["overdue"] > 0].sort_values("overdue_base", ascending=False)
        for _, c in top.head(TOP).iterrows():
            rows.append([c["customer_id"], c["name"], c["currency"],
                         text["list"].join(c["branches"]), to_decimal(int(c["overdue"])),
                         _base(c["overdue_base"]), c["max_days_overdue"]])  # fmt: skip
    return ReportSheet(text["sheets"]["top"].format(top=TOP), header, rows)


def _in_base(cents, currencies, rates: group.Rates) -> list[int | None]:
    return [rates.to_base(c, cur) for c, cur in zip(cents, currencies, strict=True)]


def _base(cents) -> Decimal | None:
    return None if cents is None or pd.isna(cents) else to_decimal(int(cents))
