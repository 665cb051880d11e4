"""Month-end snapshots in the journal, and what is made of them.

- **Recording.** `close` records the aging of a month-end (`--period`, default the last
  month that has ended by the as-of date); `--backfill N` also reconstructs, from the
  ledger as it stands, the N month-ends before it that the journal lacks (marked
  `reconstructed`: a month recorded at the time is never replaced by a reconstruction).
  Every statements run records its period's month-end. Recording a month again replaces
  it (journal.store: one transaction). The journal keys a branch by Settings.Branch (the
  workbook's name where that is blank).
- **The ECL matrix** (core/roll_rates.py) from the last twelve month-ends recorded, beside
  the percentage-by-age provision on the Provision sheet; with fewer, the sheet says how
  many are recorded instead of inventing numbers.
- **The aging trend**: the Dashboard's month-ends gain their recorded amounts per bucket.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from xl_addin.core import kpis, roll_rates
from xl_addin.core.labels import bucket_text
from xl_addin.core.ledger import AgingResult, age_ledger
from xl_addin.core.money import to_decimal
from xl_addin.core.problems import Problem, Source
from xl_addin.core.recovery import expected_recovery
from xl_addin.core.snapshots import (
    LAST_BUCKET_DAYS,
    MONTH_LABELS,
    MONTHS_LADDER,
    POLICY_LADDER,
    last_month_end,
    month_label,
    months_before,
    snapshot_rows,
)
from xl_addin.core.statements import Period
from xl_addin.journal.store import Journal

CLOSE, STATEMENTS, RECONSTRUCTED = "close", "statements", "reconstructed"
MONEY = "#,##0.00"
TEXT = {
    "en": {"title": "Expected credit loss by roll rates (IFRS 9 / CAS 22 simplified approach)",
           "compare": "The two methods side by side", "method": "Method",
           "by_age": "By age (Provision table)", "ecl": "Roll rates (expected credit loss)",
           "bucket": "Overdue", "roll": "Roll rate to next", "loss": "Loss rate",
           "open": "Open amount", "provision": "Provision", "total": "Total",
           "missing": "roll-rate matrix needs {needed} month-ends; {recorded} recorded "
                      "(credit-control close --backfill 12 reconstructs them from the ledger)",
           "used": "month-ends {first} to {last}, of which {reconstructed} reconstructed from "
                   "the ledger; rates weighted by amount; the last bucket's loss rate is 1 - "
                   "the Recovery curve at {days} days",
           "trend_title": "Aging per bucket at the recorded month-ends (the aging trend)",
           "month": "Month-end", "currency": "Currency"},
    "zh": {"title": "迁徙率法（预期信用损失，IFRS 9 / CAS 22 简化方法）",
           "compare": "两种方法对比", "method": "方法", "by_age": "账龄分析法",
           "ecl": "迁徙率法（预期信用损失）", "bucket": "逾期月数", "roll": "迁徙率",
           "loss": "损失率", "open": "未结金额", "provision": "坏账准备", "total": "合计",
           "missing": "迁徙率矩阵需要{needed}个月末快照，已记录{recorded}个"
                      "（credit-control close --backfill 12 可按台账补建）",
           "used": "月末 {first} 至 {last}，其中{reconstructed}个按台账补建；迁徙率按金额加权；"
                   "最后一档损失率 = 1 - 回收曲线{days}天的回收率",
           "trend_title": "已记录月末的账龄分布（账龄趋势）", "month": "月末", "currency": "币种"},
}  # fmt: skip


def branch_key(settings, workbook: Path) -> str:
    """The branch a workbook's month-ends are recorded under in the journal."""
    return str(settings.branch or "").strip() or Path(workbook).stem


def close_period(text: str | None, as_of: dt.date) -> Period | Problem:
    """The month `close` records: the one asked for (ended by `as_of`), else the last month
    that has ended by `as_of`; a Problem naming --period for anything else."""
    if text is None:
        return last_month_end(as_of)
    try:
        period = Period.parse(text)
    except ValueError as error:
        return Problem(Source("--period"), str(error))
    if period.last_day > as_of:
        return Problem(Source("--period"), f"the month {period} has not ended by the as-of date "
                       f"{as_of.isoformat()}: a month-end is recorded once it has passed")
    return period


def record_aging(journal: Journal, aging: AgingResult, loaded, workbook: Path, period: Period,
                 source: str) -> int:  # fmt: skip
    """Record `aging` (the ledger aged as of the period's last day) as the month-end."""
    rows = snapshot_rows(aging, loaded.ledger, loaded.customers)
    return journal.record_month_end(branch_key(loaded.book.settings, workbook), str(period),
                                    period.last_day, rows.to_dict("records"), source,
                                    str(workbook))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a close recorded: its month-end and the month-ends it reconstructed."""

    period: Period
    reconstructed: tuple[str, ...] = ()
    recorded: dict[str, str] = field(default_factory=dict)  # every month-end: period -> source


def record_close(journal: Journal, loaded, workbook: Path, period: Period,
                 backfill: int = 0) -> Recorded:  # fmt: skip
    """Record the period's month-end, and reconstruct the `backfill` month-ends before it
    that the journal lacks, each the ledger aged as of its last day."""
    policy = loaded.book.policy
    branch = branch_key(loaded.book.settings, workbook)
    before = journal.recorded_month_ends(branch)
    aging = age_ledger(loaded.ledger, loaded.customers, period.last_day, policy)
    record_aging(journal, aging, loaded, workbook, period, CLOSE)
    filled = []
    first_document = _first_document(loaded.ledger)
    for month in months_before(period, backfill):
        if str(month) in before or first_document is None or month.last_day < first_document:
            continue
        aging = age_ledger(loaded.ledger, loaded.customers, month.last_day, policy)
        if record_aging(journal, aging, loaded, workbook, month, RECONSTRUCTED):
            filled.append(str(month))
    return Recorded(period, tuple(filled), journal.recorded_month_ends(branch))


def _first_document(ledger: pd.DataFrame) -> dt.date | None:
    dates = ledger["doc_date"].to_numpy(dtype="datetime64[D]")
    dates = dates[~np.isnat(dates)]
    return None if not len(dates) else dates.min().astype(dt.date)


@dataclass(frozen=True, slots=True)
class EclView:
    """The ECL matrices of a close, or why there are none."""

    matrices: tuple[roll_rates.RollRateMatrix, ...]
    window: tuple[str, ...]
    recorded: int  # month-ends recorded in the window
    reconstructed: int  # of those, reconstructed from the ledger
    last_days: int  # the last bucket's loss rate is 1 - recovery at these days

    @property
    def ready(self) -> bool:
        return self.recorded >= roll_rates.MATRIX_MONTHS


@dataclass(frozen=True, slots=True)
class MonthEnds:
    """A branch's recorded month-ends as close and report use them, read from the journal
    once and summed there: a year of a million-row ledger's snapshots is millions of rows."""

    sources: dict[str, str]  # period -> close, statements or reconstructed, oldest first
    totals: list[tuple[str, str, str, str, int]]  # (period, currency, ladder, bucket, cents)
    balances: dict[tuple[str, str], list[int]]  # (period, currency) -> customers' POLICY_LADDER

    @classmethod
    def read(cls, journal: Journal, branch: str) -> MonthEnds:
        return cls(journal.recorded_month_ends(branch), journal.month_end_totals(branch),
                   journal.month_end_balances(branch, POLICY_LADDER))  # fmt: skip


def ecl_view(month_ends: MonthEnds, aging: AgingResult, loaded) -> EclView:
    """The roll-rate ECL matrices per currency from the branch's recorded month-ends ended by
    the aging's date, applied to the aging's open amounts."""
    recorded = {p: s for p, s in month_ends.sources.items()
                if Period.parse(p).last_day <= aging.as_of}  # fmt: skip
    window, count = roll_rates.matrix_window(list(recorded))
    reconstructed = sum(recorded.get(p) == RECONSTRUCTED for p in window)
    last_days = LAST_BUCKET_DAYS
    if count < roll_rates.MATRIX_MONTHS:
        return EclView((), tuple(window), count, reconstructed, last_days)
    in_window = set(window)
    history = pd.DataFrame([row for row in month_ends.totals
                            if row[2] == MONTHS_LADDER and row[0] in in_window],
                           columns=["period", "currency", "ladder", "bucket", "cents"])
    now = snapshot_rows(aging, loaded.ledger, loaded.customers)
    now = now[now["ladder"] == MONTHS_LADDER]
    last_loss = 1.0 - float(expected_recovery(np.array([last_days]), loaded.book.policy)[0])
    matrices = []
    for currency in sorted(set(history["currency"]) | set(now["currency"])):
        mine = now[now["currency"] == currency].groupby("bucket")["cents"].sum()
        open_cents = np.array([int(mine.get(label, 0)) for label in MONTH_LABELS])
        matrices.append(roll_rates.roll_rate_matrix(
            currency, history[history["currency"] == currency], window, MONTH_LABELS,
            open_cents, last_loss))  # fmt: skip
    return EclView(tuple(matrices), tuple(window), count, reconstructed, last_days)


def provision_below(view: EclView, by_age: dict[str, tuple[int, int]],
                    lang: str) -> tuple[list[list[object]], dict[int, str]]:  # fmt: skip
    """The block under the Provision table: the two methods' totals per currency, then each
    currency's roll-rate matrix (or how many month-ends are still needed), and formats.

    `by_age` is currency -> (open, provision) cents by the percentage-by-age method."""
    t = TEXT[lang]
    rows: list[list[object]] = [[t["compare"]],
                                [t["method"], None, None, t["open"], t["provision"]]]
    ecl = {m.currency: m for m in view.matrices}
    for currency in sorted(set(by_age) | set(ecl)):
        opened, provided = by_age.get(currency, (0, 0))
        rows.append([f"{t['by_age']} {currency}", None, None, to_decimal(opened),
                     to_decimal(provided)])  # fmt: skip
        if currency in ecl:
            m = ecl[currency]
            rows.append([f"{t['ecl']} {currency}", None, None, to_decimal(int(m.open.sum())),
                         to_decimal(int(m.ecl.sum()))])  # fmt: skip
    rows += [[], [t["title"]]]
    if not view.ready:
        rows.append([t["missing"].format(needed=roll_rates.MATRIX_MONTHS, recorded=view.recorded)])
        return rows, _formats()
    rows.append([t["used"].format(first=view.window[0], last=view.window[-1],
                                  reconstructed=view.reconstructed, days=view.last_days)])
    months = [f"{a}→{b}" for a, b in zip(view.window, view.window[1:], strict=False)]
    for m in view.matrices:
        rows += [[], [f"{t['bucket']} {m.currency}", t["roll"], t["loss"], t["open"],
                      t["provision"], *months]]
        for i, label in enumerate(m.labels):
            roll = None if i == len(m.rolls) else _rate(m.rolls[i])
            monthly = [] if i == len(m.rolls) else [_rate(v) for v in m.monthly[:, i]]
            rows.append([month_label(label, lang), roll, _rate(m.loss[i]),
                         to_decimal(int(m.open[i])), to_decimal(int(m.ecl[i])), *monthly])
        rows.append([f"{t['total']} {m.currency}", None, None, to_decimal(int(m.open.sum())),
                     to_decimal(int(m.ecl.sum()))])  # fmt: skip
    width = max(len(r) for r in rows)
    return rows, _formats(width)


def _formats(width: int = 5) -> dict[int, str]:
    return {1: "0.0%", 2: "0.00%", 3: MONEY, 4: MONEY} | {c: "0.0%" for c in range(5, width)}


def _rate(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 6)


def aging_trend(month_ends: MonthEnds, labels: tuple[str, ...]) -> dict:
    """(month-end date, currency) -> the recorded amounts per bucket of the Policy's ladder
    (cents, in `labels` order): the aging trend from the snapshots."""
    out: dict[tuple[dt.date, str], list[int]] = {}
    position = {label: i for i, label in enumerate(labels)}
    for period, currency, ladder, bucket, cents in month_ends.totals:
        if ladder != POLICY_LADDER or bucket not in position:
            continue  # unapplied credit, or a bucket of an older Policy
        key = (Period.parse(str(period)).last_day, str(currency))
        amounts = out.setdefault(key, [0] * len(labels))
        amounts[position[bucket]] += cents
    return out


def recorded_kpis(month_ends: MonthEnds) -> dict:
    """(month-end, currency) -> the KPIs' figures as recorded (core/kpis.py RecordedMonth):
    recorded at the time (by close or statements) or reconstructed from the ledger."""
    sources = {period: RECONSTRUCTED if source == RECONSTRUCTED else "recorded"
               for period, source in month_ends.sources.items()}  # fmt: skip
    return kpis.recorded_months(month_ends.totals, month_ends.balances, sources)


def trend_below(months, trend: tuple[tuple[str, ...], dict] | None,
                lang: str) -> tuple[list[list[object]], dict[int, str]]:  # fmt: skip
    """The block under the Dashboard's table: the recorded month-ends' aging per bucket (the
    aging trend), one row per month-end and currency; nothing when none is recorded."""
    labels, recorded = trend if trend and trend[1] else ((), {})
    shown = [m for m in months if (m.end, m.currency) in recorded]
    if not shown:
        return [], {}
    t = TEXT[lang]
    rows: list[list[object]] = [[t["trend_title"]],
                                [t["month"], t["currency"],
                                 *(bucket_text(label, lang) for label in labels)]]
    for m in shown:
        rows.append([f"{m.end:%Y-%m-%d} {m.currency}", m.currency,
                     *(to_decimal(c) for c in recorded[(m.end, m.currency)])])
    return rows, {c: MONEY for c in range(2, 2 + len(labels))}
