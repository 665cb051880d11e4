"""The Risk worklist: customers whose paying is getting worse, with the reasons, the worst
first, and what the controller should review.

Each signal compares the customer now with the customer three months ago (the thresholds
are rows of the Policy's Rules table, `Rules.risk_*`; definitions in docs/kpis.md):

- **lateness** (付款变慢): the median days late (paid date - due date, paid dates as
  core/forecast.py finds them) of the invoices paid in the last RECENT_DAYS against those
  paid in the BEFORE_DAYS before, worse by `risk_lateness_days` or more, with at least
  MIN_PAID invoices in each window;
- **no payment** (近期无回款): nothing received in the last RECENT_DAYS while an item has
  been overdue longer than that: a customer that stopped paying has no lateness to measure;
- **broken promises** (付款承诺未兑现): `risk_broken_promises` or more promises falling due
  in the last RECENT_DAYS not kept (core/contacts.promise_states);
- **over limit** (超出信用额度) and **limit use** (额度使用率高): balance + open orders
  above the credit limit, or at `risk_limit_use` of it or more;
- **limit use rising** (额度使用率上升): balance / limit up by `risk_limit_rise` or more;
- **overdue share rising** (逾期占比上升): overdue / open invoices up by `risk_overdue_rise`
  or more.

Every reason carries POINTS; the score is their sum, and the worklist runs from the highest
score (then the largest overdue amount). Customers owing nothing, or scoring less than
MIN_SCORE (a single weak signal), are not listed. The review
suggested: hold new orders when an over-limit customer also pays worse; review the credit
limit when the limit is the concern; otherwise put the customer on the Watch segment (or,
already there, review its payment terms).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xl_addin.core.contacts import promise_states
from xl_addin.core.forecast import paid_dates
from xl_addin.core.ledger import AgingResult, age_ledger
from xl_addin.core.money import to_decimal
from xl_addin.core.policy import Policy

RECENT_DAYS = 91  # "the last 3 months"
BEFORE_DAYS = 274  # "the 9 months before"
MIN_PAID = 2  # invoices paid in each window before a lateness trend is read
POINTS = {"over_limit": 3, "lateness": 2, "no_payment": 2, "broken_promises": 2,
          "limit_use": 1, "limit_rise": 1, "overdue_share": 1}  # fmt: skip
MAX_PROMISE_POINTS = 4  # two per broken promise, up to this
MIN_SCORE = 2  # listed from this score: one strong signal, or two weak ones
BEHAVIOUR = frozenset({"lateness", "no_payment", "broken_promises", "overdue_share"})
LIMIT = frozenset({"over_limit", "limit_use", "limit_rise"})
DAY = np.timedelta64(1, "D")


@dataclass(frozen=True, slots=True)
class Reason:
    """One signal and the figures its sentence quotes (cents as int, shares as fractions)."""

    key: str
    figures: tuple[float, ...]
    points: int


@dataclass(frozen=True, slots=True)
class Assessment:
    """A customer on the worklist."""

    customer_id: str
    score: int
    reasons: tuple[Reason, ...]
    review: str  # hold_orders, review_limit, watch, review_terms
    balance: int  # cents
    overdue: int
    limit: int
    currency: str


def worklist(ledger: pd.DataFrame, customers: pd.DataFrame, contacts: pd.DataFrame,
             as_of: dt.date, policy: Policy, due: pd.Series | None = None,
             aged: AgingResult | None = None) -> list[Assessment]:  # fmt: skip
    """The customers with at least one reason, the worst first.

    `customers` as the reader gives them (customer_id, segment, currency,
    credit_limit_cents, open_orders_cents); `contacts` the contact log; `due` every ledger
    row's due date as the engine fills it (age_ledger's items), else blank due dates are
    the document date + 30 days; `aged`: these customers and ledger already aged as of
    `as_of` with this policy, if they were (the buckets' age_from does not matter here).
    """
    rules = policy.rules
    if aged is not None and (aged.as_of != as_of or len(aged.items) != len(ledger)):
        raise ValueError("the aging given is not of this ledger on this day")
    now = (aged if aged is not None else age_ledger(ledger, customers, as_of, policy)).customers
    then = age_ledger(ledger, customers, as_of - dt.timedelta(days=RECENT_DAYS), policy).customers
    ids = customers["customer_id"].to_numpy(dtype=object)
    balance = now["balance_cents"].to_numpy(dtype=np.int64)
    overdue = now["overdue_cents"].to_numpy(dtype=np.int64)
    limit = customers["credit_limit_cents"].to_numpy(dtype=np.int64)
    exposure = balance + customers["open_orders_cents"].to_numpy(dtype=np.int64)
    balance_then = then["balance_cents"].to_numpy(dtype=np.int64)
    # Overdue share of the open invoices (unapplied cash set aside: it is not yet a payment
    # of any of them, and would push the share past 100%).
    open_now = balance - now["unapplied_cents"].to_numpy(dtype=np.int64)
    open_then = balance_then - then["unapplied_cents"].to_numpy(dtype=np.int64)
    overdue_then = then["overdue_cents"].to_numpy(dtype=np.int64)
    oldest = now["max_days_overdue"].to_numpy(dtype=np.float64)
    recent, before = lateness(ledger, as_of, due)
    broken, decided = broken_promises(contacts, ledger, as_of)
    paid_lately = _paid_since(ledger, as_of - dt.timedelta(days=RECENT_DAYS), as_of)
    # On Watch: a segment dunned earlier than Standard, named as the Policy accepts it
    # (English or Chinese, any case or spacing: 关注客户 in a Chinese workbook).
    segment = customers.get("segment", pd.Series([""] * len(ids))).to_numpy(dtype=object)
    watched = [(policy.segment_offset(s) or 0) > 0 for s in segment]
    currency = customers["currency"].to_numpy(dtype=object)
    minimum = int(rules.minimum_amount * 100)
    out = []
    for i, customer_id in enumerate(ids):
        if balance[i] <= 0:
            continue
        reasons = []
        late_now, late_before = recent.get(customer_id), before.get(customer_id)
        if late_now is not None and late_before is not None:
            worse = late_now - late_before
            if worse >= rules.risk_lateness_days:
                extra = 1 if worse >= 2 * rules.risk_lateness_days else 0
                reasons.append(Reason("lateness", (late_now, late_before),
                                      POINTS["lateness"] + extra))  # fmt: skip
        if (customer_id not in paid_lately and not np.isnan(oldest[i])
                and oldest[i] > RECENT_DAYS and overdue[i] >= minimum):  # fmt: skip
            reasons.append(Reason("no_payment", (int(overdue[i]),), POINTS["no_payment"]))
        count = broken.get(customer_id, 0)
        if count >= max(rules.risk_broken_promises, 1):
            share = count / decided[customer_id]
            points = min(POINTS["broken_promises"] * count, MAX_PROMISE_POINTS)
            reasons.append(Reason("broken_promises", (count, share), points))
        if limit[i] > 0:
            use = exposure[i] / limit[i]
            if exposure[i] > limit[i]:
                reasons.append(Reason("over_limit", (int(exposure[i]), int(limit[i]), use),
                                      POINTS["over_limit"]))  # fmt: skip
            elif use >= float(rules.risk_limit_use):
                reasons.append(Reason("limit_use", (use,), POINTS["limit_use"]))
            use_now, use_then = balance[i] / limit[i], max(balance_then[i], 0) / limit[i]
            if use_now - use_then >= float(rules.risk_limit_rise):
                reasons.append(Reason("limit_rise", (use_then, use_now), POINTS["limit_rise"]))
        share_now = overdue[i] / open_now[i] if open_now[i] > 0 else 0.0
        share_then = overdue_then[i] / open_then[i] if open_then[i] > 0 else 0.0
        if share_now - share_then >= float(rules.risk_overdue_rise) and overdue[i] >= minimum:
            reasons.append(Reason("overdue_share", (share_then, share_now),
                                  POINTS["overdue_share"]))  # fmt: skip
        if sum(r.points for r in reasons) >= MIN_SCORE:
            reasons.sort(key=lambda r: -r.points)  # the weightiest reason first
            keys = {r.key for r in reasons}
            out.append(Assessment(
                str(customer_id), sum(r.points for r in reasons), tuple(reasons),
                suggested_review(keys, watched[i]), int(balance[i]), int(overdue[i]),
                int(limit[i]), str(currency[i])))  # fmt: skip
    out.sort(key=lambda a: (-a.score, -a.overdue, -a.balance, a.customer_id))
    return out


def suggested_review(keys: set[str], on_watch: bool) -> str:
    """What to review: hold_orders, review_limit, watch or review_terms."""
    if "over_limit" in keys and keys & BEHAVIOUR:
        return "hold_orders"
    if keys & LIMIT:
        return "review_limit"
    return "review_terms" if on_watch else "watch"


def lateness(ledger: pd.DataFrame, as_of: dt.date, due: pd.Series | None = None
             ) -> tuple[dict[str, float], dict[str, float]]:  # fmt: skip
    """Each customer's median days late over the invoices paid in the last RECENT_DAYS, and
    over those paid in the BEFORE_DAYS before (a customer with fewer than MIN_PAID invoices
    paid in a window is left out of it)."""
    invoices = paid_dates(ledger, as_of, due)
    paid = invoices["paid"].to_numpy(dtype="datetime64[D]")
    late = (paid - invoices["due"].to_numpy(dtype="datetime64[D]")) / DAY
    as_of64 = np.datetime64(as_of, "D")
    split = as_of64 - RECENT_DAYS * DAY
    start = split - BEFORE_DAYS * DAY
    customer = invoices["customer_id"].to_numpy(dtype=object)
    known = ~np.isnat(paid)
    windows = []
    for inside in ((paid > split) & (paid <= as_of64), (paid > start) & (paid <= split)):
        mine = known & inside
        frame = pd.Series(late[mine], index=customer[mine], dtype=np.float64)
        grouped = frame.groupby(level=0)
        medians = grouped.median()[grouped.size() >= MIN_PAID]
        windows.append({str(c): float(v) for c, v in medians.items()})
    return windows[0], windows[1]


def broken_promises(contacts: pd.DataFrame, ledger: pd.DataFrame, as_of: dt.date
                    ) -> tuple[dict[str, int], dict[str, int]]:  # fmt: skip
    """Per customer: the promises falling due in the last RECENT_DAYS that were broken, and
    those kept or broken."""
    as_of64 = np.datetime64(as_of, "D")
    states = promise_states(contacts, ledger, as_of64)
    due = states["promise_date"].to_numpy(dtype="datetime64[D]")
    inside = (due > as_of64 - RECENT_DAYS * DAY) & (due <= as_of64)
    decided = states[inside & states["state"].isin(("kept", "broken")).to_numpy()]
    counts = decided.groupby("customer_id")["state"]
    broken = counts.apply(lambda s: int((s == "broken").sum()))
    return ({str(c): int(n) for c, n in broken.items() if n},
            {str(c): int(n) for c, n in counts.size().items()})  # fmt: skip


def _paid_since(ledger: pd.DataFrame, since: dt.date, as_of: dt.date) -> set[str]:
    """Customers with a payment dated after `since`, up to `as_of`."""
    when = ledger["doc_date"].to_numpy(dtype="datetime64[D]")
    paid = ((ledger["doc_type"].to_numpy(dtype=object) == "PAY")
            & (when > np.datetime64(since, "D")) & (when <= np.datetime64(as_of, "D")))
    return {str(c) for c in ledger["customer_id"].to_numpy(dtype=object)[paid]}


# --- in the reader's words --------------------------------------------------------------

REVIEWS = {
    "en": {"hold_orders": "Hold new orders until the overdue is paid; review the credit limit",
           "review_limit": "Review the credit limit",
           "watch": "Move to the Watch segment (reminders start earlier)",
           "review_terms": "Review the payment terms (shorter terms or payment in advance)"},
    "zh": {"hold_orders": "暂停接单，待逾期款项收回后复核信用额度",
           "review_limit": "复核信用额度",
           "watch": "列为关注客户（提前催收）",
           "review_terms": "复核付款条件（缩短账期或改为预付款）"},
}  # fmt: skip
REASON_NAMES = {
    "en": {"lateness": "Paying later", "no_payment": "No recent payment",
           "broken_promises": "Broken promises", "over_limit": "Over credit limit",
           "limit_use": "High limit use", "limit_rise": "Limit use rising",
           "overdue_share": "Overdue share rising"},
    "zh": {"lateness": "付款变慢", "no_payment": "近期无回款", "broken_promises": "承诺未兑现",
           "over_limit": "超出信用额度", "limit_use": "额度使用率高",
           "limit_rise": "额度使用率上升", "overdue_share": "逾期占比上升"},
}  # fmt: skip


def reason_text(reason: Reason, lang: str, currency: str = "") -> str:
    """The reason as a sentence a controller reads, with its figures."""
    f = reason.figures
    zh = lang == "zh"

    def money(cents: float) -> str:
        return f"{currency} {to_decimal(int(cents)):,}".strip()

    def pct(share: float) -> str:
        return f"{share:.0%}"

    def days(late: float) -> str:
        n = round(late)
        if zh:
            return f"逾期{n}天" if n > 0 else f"提前{-n}天" if n < 0 else "按期"
        return f"{n} days late" if n > 0 else f"{-n} days early" if n < 0 else "on time"

    match reason.key:
        case "lateness":
            return (f"付款变慢：近3个月付款通常{days(f[0])}（中位数），此前9个月为{days(f[1])}"
                    if zh else f"Paying later: typically {days(f[0])} in the last 3 months "
                    f"(median), against {days(f[1])} in the 9 months before")  # fmt: skip
        case "no_payment":
            return (f"近3个月无回款，逾期{money(f[0])}" if zh else
                    f"No payment in the last 3 months; {money(f[0])} overdue")  # fmt: skip
        case "broken_promises":
            return (f"近90天有{f[0]:.0f}次付款承诺未兑现（占到期承诺的{pct(f[1])}）" if zh else
                    f"{f[0]:.0f} payment promise(s) broken in the last 90 days "
                    f"({pct(f[1])} of the promises due)")  # fmt: skip
        case "over_limit":
            return (f"超出信用额度：占用{money(f[0])}，额度{money(f[1])}（{pct(f[2])}）" if zh else
                    f"Over its credit limit: {money(f[0])} used of {money(f[1])} "
                    f"({pct(f[2])})")  # fmt: skip
        case "limit_use":
            return (f"已使用信用额度的{pct(f[0])}" if zh else
                    f"Uses {pct(f[0])} of its credit limit")  # fmt: skip
        case "limit_rise":
            return (f"额度使用率3个月内由{pct(f[0])}升至{pct(f[1])}" if zh else
                    f"Limit use up from {pct(f[0])} to {pct(f[1])} in 3 months")  # fmt: skip
        case "overdue_share":
            return (f"逾期占比3个月内由{pct(f[0])}升至{pct(f[1])}" if zh else
                    f"Overdue share up from {pct(f[0])} to {pct(f[1])} in 3 months")  # fmt: skip
    raise ValueError(f"unknown risk reason {reason.key!r}")
