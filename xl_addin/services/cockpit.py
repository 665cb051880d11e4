"""The controller's month-end (`credit-control close`): the Provision and Dashboard sheets.

- **Provision** (坏账准备, the percentage-by-age method of Chinese standards): every open
  item's age from its document date (账龄) falls in a band of the Policy's Provision
  table (within 1 year 5%, 1-2 years 10% ...); the sheet gives each customer's open amount
  and provision per band, and the totals per currency.
- **Dashboard**: per currency, twelve month-ends of receivables, current and overdue,
  sales, DSO (countback), best possible DSO, days delinquent, collection effectiveness
  and the top-ten concentration (core/kpis.py, defined in docs/kpis.md), with a chart of
  current and overdue receivables per month.

- **Month-end snapshots** (services/month_end.py): close records a month-end's aging in the
  journal, and the Provision sheet gains the roll-rate expected-credit-loss matrix under the
  provision by age, the Dashboard its month-ends as recorded and the aging per bucket.

Both are computed from the ledger as it stands (a past month-end is the ledger aged as of
that day) and written like refresh's sheets: into a temporary copy, swapped in
atomically, the old workbook kept as a backup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xl_addin.core import forecast, kpis, risk, roll_rates
from xl_addin.core.contacts import promise_payments, promise_states
from xl_addin.core.labels import date_text
from xl_addin.core.money import to_decimal
from xl_addin.core.problems import Problem
from xl_addin.core.recovery import provision_band, provision_cents
from xl_addin.journal.store import Journal, journal_url
from xl_addin.services import month_end
from xl_addin.services.issuing import check_history_first
from xl_addin.services.refresh import (
    MONEY_FORMAT,
    RefreshResult,
    compute,
    expected_pay_dates,
    open_rows,
)
from xl_addin.services.risk import assessments, risk_sheet
from xl_addin.services.run_lock import workbook_lock
from xl_addin.workbook.safe_save import refuse_unwritable
from xl_addin.workbook.updates import SheetTable

HEADERS = {
    "en": {"month": "Month-end", "currency": "Currency", "receivables": "Receivables",
           "current": "Not yet due", "overdue": "Overdue", "share": "Overdue %",
           "sales": "Sales in month", "dso": "DSO (days)", "best": "Best possible DSO",
           "add": "Days delinquent", "cei": "Collection effectiveness %",
           "top10": "Top-10 share", "broken": "Broken promises %", "customer": "Customer",
           "name": "Name",
           "open": "Open amount", "provision": "Provision", "total": "Total",
           "unapplied": "Unapplied credit", "source": "Source"},
    "zh": {"month": "月末", "currency": "币种", "receivables": "应收余额",
           "current": "未到期", "overdue": "逾期金额", "share": "逾期占比",
           "sales": "本月销售", "dso": "应收账款周转天数（DSO）", "best": "最佳DSO",
           "add": "平均逾期天数", "cei": "回款有效率（CEI）%", "top10": "前十大客户占比",
           "broken": "承诺违约率", "customer": "客户编号", "name": "客户名称", "open": "未结金额",
           "provision": "坏账准备", "total": "合计", "unapplied": "未核销款项", "source": "来源"},
}  # fmt: skip
# Where a Dashboard row's figures come from (kpis.Month.source)
SOURCES = {"en": {"recorded": "recorded", "reconstructed": "reconstructed",
                  "ledger": "from the ledger"},
           "zh": {"recorded": "月末记录", "reconstructed": "按台账补建", "ledger": "按台账计算"}}


@dataclass(frozen=True, slots=True)
class CloseResult:
    refresh: RefreshResult
    months: list[kpis.Month]
    provision: pd.DataFrame  # per customer: currency, open and provision cents per band
    backup: Path | None
    collections: pd.DataFrame | None = None  # per week and currency: expected cents
    month_ends: month_end.Recorded | None = None  # what was recorded in the journal
    ecl: month_end.EclView | None = None
    risk: tuple[risk.Assessment, ...] = ()  # the Risk worklist, worst first


def close(path: Path, as_of: dt.date | None = None, months: int = 12,
          write: bool = True, period: str | None = None,
          backfill: int = 0) -> CloseResult | tuple[Problem, ...]:  # fmt: skip
    """Compute the month-end figures, record the month-end `period` (default: the last month
    ended by the as-of date) and `backfill` missing ones before it in the journal, and write
    the Provision, Dashboard and Forecast sheets (holding the workbook, as letters and
    statements do: one run at a time). With write=False nothing is recorded or written."""
    if write:
        with workbook_lock(Path(path), "close"):
            refuse_unwritable(Path(path), "nothing was recorded or written")
            return _close(path, as_of, months, write, period, backfill)
    return _close(path, as_of, months, write, period, backfill)


def _close(path, as_of, months, write, period, backfill) -> CloseResult | tuple[Problem, ...]:
    # A History the journal does not know (the journal missing, or another one): refused as
    # letters refuses it, rather than month-ends recorded into a new, empty journal.
    first = check_history_first(Path(path))
    if first is not None and first.problems:
        return first.problems
    result = compute(path, as_of)
    if not isinstance(result, RefreshResult):
        return result
    chosen = month_end.close_period(period, result.as_of)
    if isinstance(chosen, Problem):
        return (chosen,)
    loaded = result.loaded
    settings = loaded.book.settings
    branch = month_end.branch_key(settings, Path(path))
    with Journal.open(journal_url(Path(path), settings.journal, dry_run=not write)) as journal:
        recorded = (month_end.record_close(journal, loaded, Path(path), chosen, backfill)
                    if write else None)  # fmt: skip
        month_ends = month_end.MonthEnds.read(journal, branch)
    ecl = month_end.ecl_view(month_ends, result.aging, loaded)
    trend = month_end.aging_trend(month_ends, result.aging.labels)
    recorded_kpis = month_end.recorded_kpis(month_ends)
    history = kpis.history(loaded.ledger, loaded.customers, result.as_of, loaded.book.policy,
                           months, recorded_kpis)  # fmt: skip
    provision = provision_frame(result)
    collections = expected_collections(result)
    worklist = assessments(result)
    backup = None
    if write:
        from xl_addin.workbook.writer import write_refresh

        language = loaded.book.settings.language
        broken = broken_promise_rates(result, [m.end for m in history])
        sheets = [provision_sheet(result, provision, language, ecl),
                  dashboard_sheet(history, result.as_of, language, broken,
                                  (result.aging.labels, trend)),
                  forecast_sheet(collections, result.as_of, language)]  # fmt: skip
        sheets.append(risk_sheet(result, language, worklist))  # services/risk.py
        backup = write_refresh(Path(path), [], sheets)
    return CloseResult(result, history, provision, backup, collections, recorded, ecl,
                       tuple(worklist))  # fmt: skip


def close_json(result: CloseResult) -> dict:
    """`close --format json`: the month-ends recorded, the KPIs per month-end, the two
    provisions per currency (by age; by roll rates with each bucket's rates) and the Risk
    worklist, with its texts in the workbook's language. Money in units, rates as fractions,
    null where there is no figure."""
    recorded = result.month_ends
    lang = "zh" if result.refresh.loaded.book.settings.language == "zh" else "en"
    customers = result.refresh.loaded.customers
    names = dict(zip(customers["customer_id"], customers["name"], strict=True))
    return {
        "as_of": result.refresh.as_of.isoformat(), "language": lang,
        "period": None if recorded is None else str(recorded.period),
        "reconstructed": [] if recorded is None else list(recorded.reconstructed),
        "month_ends": {} if recorded is None else recorded.recorded,
        "months": [_month_json(m) for m in result.months],
        "provision": _provision_json(result),
        "risk": [_risk_json(a, names, lang) for a in result.risk],
    }  # fmt: skip


def _money(cents: int | float) -> float:
    return float(to_decimal(int(cents)))


def _rate(value: float | None) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def _month_json(m: kpis.Month) -> dict:
    return {"end": m.end.isoformat(), "currency": m.currency, "source": m.source,
            "receivables": _money(m.receivables), "current": _money(m.current),
            "overdue": _money(m.overdue), "unapplied": _money(m.unapplied),
            "open_invoices": _money(m.open_invoices), "overdue_share": m.overdue_share,
            "sales": _money(m.sales), "dso": m.dso, "best_dso": m.best_dso,
            "days_delinquent": m.add, "cei": m.cei, "top10_share": m.top10}  # fmt: skip


def _provision_json(result: CloseResult) -> dict:
    """Per currency: the provision by age and, once twelve month-ends are recorded, the
    expected credit loss by roll rates, bucket by bucket."""
    frame, view = result.provision, result.ecl
    matrices = {} if view is None else {m.currency: m for m in view.matrices}
    currencies = []
    for currency in sorted(set(frame["currency"]) | set(matrices)):
        part = frame[frame["currency"] == currency]
        entry = {"currency": currency, "by_age": {
            "open": _money(part.filter(like="open:").to_numpy().sum()),
            "provision": _money(part.filter(like="provision:").to_numpy().sum())},
            "roll_rates": None}  # fmt: skip
        if currency in matrices:
            m = matrices[currency]
            entry["roll_rates"] = {
                "open": _money(m.open.sum()), "ecl": _money(m.ecl.sum()),
                "buckets": [{"bucket": label,
                             "roll_rate": _rate(m.rolls[i]) if i < len(m.rolls) else None,
                             "loss_rate": _rate(m.loss[i]), "open": _money(m.open[i]),
                             "ecl": _money(m.ecl[i])} for i, label in enumerate(m.labels)]}
        currencies.append(entry)
    return {"roll_rates_ready": bool(view is not None and view.ready),
            "month_ends_needed": roll_rates.MATRIX_MONTHS,
            "month_ends_recorded": 0 if view is None else view.recorded,
            "window": [] if view is None else list(view.window),
            "currencies": currencies}  # fmt: skip


def _risk_json(a: risk.Assessment, names: dict[str, object], lang: str) -> dict:
    """One customer of the Risk worklist; `names` is customer -> name (made once per run:
    indexing the customer list again for each of thousands of customers cost minutes)."""
    return {"customer_id": a.customer_id, "name": str(names.get(a.customer_id, "")),
            "currency": a.currency, "score": a.score, "balance": _money(a.balance),
            "overdue": _money(a.overdue), "credit_limit": _money(a.limit) if a.limit > 0 else None,
            "review": a.review, "suggested_review": risk.REVIEWS[lang][a.review],
            "reasons": [{"key": r.key, "points": r.points,
                         "text": risk.reason_text(r, lang, a.currency)}
                        for r in a.reasons]}  # fmt: skip


def expected_collections(result: RefreshResult, weeks: int = 13) -> pd.DataFrame:
    """The open items' expected payment dates (the Ledger's ExpectedPayDate: each
    customer's own habit or settlement cycle, its pending promise) added up per week and
    currency: week, from, currency, cents. An item not expected within any forecast counts
    in the last row (later)."""
    loaded, as_of = result.loaded, result.as_of
    rows = open_rows(result.state)
    open_cents = result.aging.items["open_cents"].to_numpy(dtype=np.int64)
    expected = expected_pay_dates(loaded, result.state)[rows]
    expected[np.isnat(expected)] = np.datetime64(as_of, "D") + forecast.FAR
    currency = loaded.customers.set_index("customer_id")["currency"]
    currencies = pd.Series(loaded.ledger["customer_id"].to_numpy(dtype=object)[rows]).map(
        currency).to_numpy(dtype=object)  # fmt: skip
    frames = []
    for code in sorted(set(currencies)):
        mine = currencies == code
        week = forecast.weekly(expected[mine], open_cents[rows][mine], as_of, weeks)
        frames.append(week.assign(currency=code))
    columns = ["week", "from", "cents", "currency"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def forecast_sheet(collections: pd.DataFrame, as_of: dt.date, lang: str) -> SheetTable:
    """The thirteen weeks of expected collections, a column per currency."""
    zh = lang == "zh"
    currencies = sorted(collections["currency"].unique()) if len(collections) else []
    header = ["周" if zh else "Week", "起始日" if zh else "From", *currencies]
    rows = []
    for week, part in collections.groupby("week", sort=True, dropna=False):
        by_currency = dict(zip(part["currency"], part["cents"], strict=True))
        label = (("以后" if zh else "later") if pd.isna(week) else int(week))
        rows.append([label, part["from"].iloc[0],
                     *(to_decimal(int(by_currency.get(c, 0))) for c in currencies)])  # fmt: skip
    rows.sort(key=lambda r: (isinstance(r[0], str), r[0] if not isinstance(r[0], str) else 0))
    totals = [["合计" if zh else "Total", None,
               *(to_decimal(int(collections.loc[collections["currency"] == c, "cents"].sum()))
                 for c in currencies)]]  # fmt: skip
    shown = date_text(as_of, lang)
    title = (f"预计回款 截至 {shown}：按客户以往付款习惯及付款承诺，未来13周（见 "
             "docs/kpis.md）" if zh else
             f"Expected collections from {shown}: the next 13 weeks, from each "
             "customer's own payment habit and pending promises (docs/kpis.md)")  # fmt: skip
    formats = {c: MONEY_FORMAT for c in currencies} | {header[1]: "yyyy-mm-dd"}
    return SheetTable("Forecast", title, header, rows, totals, formats, chart=bool(rows),
                      chart_columns=tuple(currencies))


def band_labels(bands: Sequence[tuple[int, object]], lang: str) -> list[str]:
    """A Provision band by its days from the document date: 0-365 days, 366-730 ... (zh:
    1年以内, 1-2年 ... where the bands are whole years)."""
    labels = []
    for i, (start, _) in enumerate(bands):
        end = bands[i + 1][0] - 1 if i + 1 < len(bands) else None
        if lang == "zh" and start % 365 in (0, 1) and (end is None or (end + 1) % 365 in (0, 1)):
            low, high = start // 365, None if end is None else (end + 1) // 365
            labels.append("1年以内" if low == 0 and high == 1 else
                          f"{low}年以上" if high is None else f"{low}-{high}年")  # fmt: skip
        else:
            labels.append(f"{start}-{end} days" if end is not None else f"{start}+ days")
    return labels


def provision_frame(result: RefreshResult) -> pd.DataFrame:
    """Per customer with anything open: each band's open amount and provision (cents)."""
    items = result.aging.items
    ledger = result.loaded.ledger
    policy = result.loaded.book.policy
    open_cents = items["open_cents"].to_numpy(dtype=np.int64)
    rows = np.flatnonzero(items["in_scope"].to_numpy() & (open_cents > 0))
    doc_date = ledger["doc_date"].to_numpy(dtype="datetime64[D]")[rows]
    age = (np.datetime64(result.as_of, "D") - doc_date).astype(np.int64).astype(np.float64)
    bands = sorted(policy.provision)
    band = provision_band(age, policy)
    cents = open_cents[rows]
    provided = provision_cents(cents, age, policy)
    frame = pd.DataFrame({
        "customer_id": ledger["customer_id"].to_numpy(dtype=object)[rows],
        "band": band, "open": cents, "provision": provided,
    })  # fmt: skip
    table = frame.pivot_table(index="customer_id", columns="band", values=["open", "provision"],
                              aggfunc="sum", fill_value=0)  # fmt: skip
    customers = result.loaded.customers.set_index("customer_id")
    out = pd.DataFrame(index=table.index)
    out["name"] = customers["name"].reindex(out.index).fillna("")
    out["currency"] = customers["currency"].reindex(out.index)
    for i in range(len(bands)):
        for kind in ("open", "provision"):
            out[f"{kind}:{i}"] = table[(kind, i)] if (kind, i) in table.columns else 0
    return out.reset_index()


def provision_sheet(result: RefreshResult, frame: pd.DataFrame, lang: str,
                    ecl: month_end.EclView | None = None) -> SheetTable:  # fmt: skip
    h = HEADERS[lang]
    bands = sorted(result.loaded.book.policy.provision)
    labels = band_labels(bands, lang)
    rate_text = [f"{float(rate):.0%}" for _, rate in bands]
    header = [h["customer"], h["name"], h["currency"],
              *(f"{label} {h['open']}" for label in labels),
              *(f"{label} {h['provision']} {rate}" for label, rate in
                zip(labels, rate_text, strict=True)),
              h["open"], h["provision"]]  # fmt: skip
    rows, totals = [], []
    for _, r in frame.iterrows():
        opened = [int(r[f"open:{i}"]) for i in range(len(bands))]
        provided = [int(r[f"provision:{i}"]) for i in range(len(bands))]
        rows.append([r["customer_id"], r["name"], r["currency"], *map(to_decimal, opened),
                     *map(to_decimal, provided), to_decimal(sum(opened)),
                     to_decimal(sum(provided))])  # fmt: skip
    for currency, part in frame.groupby("currency", sort=True):
        opened = [int(part[f"open:{i}"].sum()) for i in range(len(bands))]
        provided = [int(part[f"provision:{i}"].sum()) for i in range(len(bands))]
        totals.append([f"{h['total']} {currency}", "", currency, *map(to_decimal, opened),
                       *map(to_decimal, provided), to_decimal(sum(opened)),
                       to_decimal(sum(provided))])  # fmt: skip
    shown = date_text(result.as_of, lang)
    title = (f"坏账准备（账龄分析法） 截至 {shown}" if lang == "zh" else
             f"Bad-debt provision by age as of {shown} (age from the document "
             "date; rates from the Policy's Provision table)")  # fmt: skip
    formats = {name: MONEY_FORMAT for name in header[3:]}
    if ecl is None:
        return SheetTable("Provision", title, header, rows, totals, formats)
    by_age = {str(currency): (int(part.filter(like="open:").to_numpy().sum()),
                              int(part.filter(like="provision:").to_numpy().sum()))
              for currency, part in frame.groupby("currency", sort=True)}  # fmt: skip
    below, below_formats = month_end.provision_below(ecl, by_age, lang)
    return SheetTable("Provision", title, header, rows, totals, formats, below=below,
                      below_formats=below_formats)


def broken_promise_rates(result: RefreshResult, ends: list[dt.date]) -> dict:
    """(month-end, currency) -> the share of the promises falling due in that month that
    were broken (not paid by their date), of those kept or broken; absent: no promise."""
    contacts = result.state.contacts
    ledger = promise_payments(contacts, result.state.ledger)  # once, not per month-end
    currency = result.loaded.customers.set_index("customer_id")["currency"]
    out = {}
    starts = {end: end.replace(day=1) for end in ends}
    for end in sorted(set(ends)):
        states = promise_states(contacts, ledger, np.datetime64(end, "D"))
        if states.empty:
            continue
        due = states["promise_date"].to_numpy(dtype="datetime64[D]")
        month = (due >= np.datetime64(starts[end], "D")) & (due <= np.datetime64(end, "D"))
        decided = states[month & states["state"].isin(("kept", "broken")).to_numpy()]
        codes = decided["customer_id"].map(currency).to_numpy(dtype=object)
        for code in set(codes):
            mine = decided[codes == code]
            out[(end, code)] = float((mine["state"] == "broken").mean())
    return out


def dashboard_sheet(months: list[kpis.Month], as_of: dt.date, lang: str,
                    broken: dict | None = None,
                    trend: tuple[tuple[str, ...], dict] | None = None) -> SheetTable:  # fmt: skip
    """The KPIs per month-end and currency, where each month's figures come from; under them
    `trend` (bucket labels, (end, currency) -> cents per bucket): the month-ends' recorded
    aging per bucket; then the chart."""
    h = HEADERS[lang]
    broken = broken or {}
    header = [h["month"], h["currency"], h["current"], h["overdue"], h["unapplied"],
              h["receivables"], h["share"], h["sales"], h["dso"], h["best"], h["add"], h["cei"],
              h["top10"], h["broken"], h["source"]]
    rows = []
    for m in months:
        rows.append([f"{m.end:%Y-%m-%d} {m.currency}", m.currency,
                     to_decimal(m.current), to_decimal(m.overdue), to_decimal(m.unapplied),
                     to_decimal(m.receivables),
                     _round(m.overdue_share, 4), to_decimal(m.sales), _round(m.dso, 1),
                     _round(m.best_dso, 1), _round(m.add, 1),
                     _round(m.cei, 1), _round(m.top10, 4),
                     _round(broken.get((m.end, m.currency)), 4), SOURCES[lang][m.source]])
    formats = {
               h["current"]: MONEY_FORMAT, h["overdue"]: MONEY_FORMAT,
               h["unapplied"]: MONEY_FORMAT,
               h["receivables"]: MONEY_FORMAT, h["sales"]: MONEY_FORMAT, h["share"]: "0.0%",
               h["top10"]: "0.0%", h["broken"]: "0.0%", h["dso"]: "0.0", h["best"]: "0.0",
               h["add"]: "0.0", h["cei"]: "0.0"}  # fmt: skip
    shown = date_text(as_of, lang)
    title = (f"回款驾驶舱 截至 {shown}（近12个月，按币种；定义见 docs/kpis.md）"
             if lang == "zh" else
             f"Receivables dashboard as of {shown}: twelve month-ends per currency "
             "(definitions: docs/kpis.md)")  # fmt: skip
    below, below_formats = month_end.trend_below(months, trend, lang)
    return SheetTable("Dashboard", title, header, rows, (), formats, chart=True,
                      chart_columns=(h["current"], h["overdue"]), chart_by=h["currency"],
                      below=below,
                      below_formats=below_formats)


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)
