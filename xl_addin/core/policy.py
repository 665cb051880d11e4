"""The credit policy: buckets, the collection ladder, segments, rules, curves and rates.

Every number is a table row. The defaults below follow DOMAIN.md; a branch edits
the same tables on its Policy sheet, and `policy_from_tables` reads them back.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

import pandas as pd

from xl_addin.core.problems import Problem, Source


@dataclass(frozen=True, slots=True)
class Stage:
    """One step of the collection ladder, entered from `from_days` days overdue.

    A step is issued once per episode (the time a customer has something overdue);
    `repeat_days` lets it be issued again that many days after the last time.
    """

    key: str
    name: str
    name_zh: str
    from_days: int | None  # None: the first step, open below
    action: str
    repeat_days: int | None = None  # None: once per episode


@dataclass(frozen=True, slots=True)
class Segment:
    """A customer class; `days_offset` is added to days overdue (Strategic -15 = 15 days later)."""

    name: str
    name_zh: str
    days_offset: int


@dataclass(frozen=True, slots=True)
class Rules:
    """Single-valued policy settings (the Rules table: Key, Value)."""

    near_limit_share: Decimal = Decimal("0.8")
    # The Risk worklist (core/risk.py): when a customer's paying counts as getting worse.
    risk_lateness_days: int = 10  # median days late, last 3 months vs the 9 before
    risk_broken_promises: int = 1  # promises broken in the last 90 days
    risk_limit_use: Decimal = Decimal("0.9")  # exposure / credit limit
    risk_limit_rise: Decimal = Decimal("0.25")  # balance / limit up by this in 3 months
    risk_overdue_rise: Decimal = Decimal("0.2")  # overdue share up by this in 3 months
    minimum_amount: Decimal = Decimal("100")
    min_contact_interval_days: int = 7
    max_steps_per_run: int = 1
    first_contact_max_stage: str = "demand_letter"
    hold_from_stage: str = "credit_hold"
    default_payment_terms_days: int = 30
    statutory_margin: Decimal = Decimal("0.08")  # a fraction, as Excel stores 8%
    interest_basis_days: int = 365
    interest_from_stage: str = "final_notice"  # letters from this step claim late interest
    interest_currencies: str = "GBP,EUR"  # where statutory interest applies (blank: nowhere)
    reply_days: int = 10  # a letter's or statement's reply-by date: as-of + these days
    # Letters from this step give the customer until their reply-by date to pay ("pay by
    # 10 December"); nothing more is issued before that date has passed (blank: never held).
    deadline_from_stage: str = "demand_letter"
    # Timing (回款时机): a friendly reminder is held until this many days before the
    # customer's next payment run (core/next_action.py); None (blank): sent any day.
    reminder_lead_days: int | None = None


DEFAULT_BOUNDS: tuple[int, ...] = (0, 30, 60, 90, 180, 365)

DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage("not_due", "Not due", "未到期", None, "none"),
    Stage("pre_due_reminder", "Pre-due reminder", "到期提醒", -7, "letter"),
    Stage("friendly_reminder", "Friendly reminder", "友好提醒", 1, "letter", 14),
    Stage("phone_call", "Phone call", "电话催收", 15, "call sheet", 7),
    Stage("demand_letter", "Demand letter", "催款函", 31, "letter"),
    Stage("final_notice", "Final notice", "最后通知", 61, "letter"),
    Stage("credit_hold", "Credit hold", "停止供货", 91, "letter and hold"),
    Stage("legal_action", "Legal action", "法律程序", 181, "hand-over pack"),
)

DEFAULT_SEGMENTS: tuple[Segment, ...] = (
    Segment("Strategic", "战略客户", -15),
    Segment("Standard", "普通客户", 0),
    Segment("Watch", "关注客户", 10),
)

# Chance of collecting by days overdue (DOMAIN.md); interpolated linearly between points.
DEFAULT_RECOVERY: tuple[tuple[int, Decimal], ...] = (
    (0, Decimal("1.00")),
    (60, Decimal("1.00")),
    (100, Decimal("0.80")),
    (180, Decimal("0.50")),
    (365, Decimal("0.266")),
    (730, Decimal("0.136")),
)

# Bad-debt provision by age (账龄分析法): (from days, rate).
DEFAULT_PROVISION: tuple[tuple[int, Decimal], ...] = (
    (0, Decimal("0.05")),
    (366, Decimal("0.10")),
    (731, Decimal("0.30")),
    (1096, Decimal("0.50")),
    (1461, Decimal("0.80")),
    (1826, Decimal("1.00")),
)

# Bank of England Bank Rate in force on 31 December / 30 June: the statutory reference
# rate for the following half-year, as a fraction (0.0375 is 3.75%). The table covers the
# UK claim window (six years, plus the running one); a half-year past the last row uses the
# last row, one before the first has no rate (an error, never a guess). Keep the table
# current on the Policy sheet: docs/interest.md says how.
DEFAULT_REFERENCE_RATES: tuple[tuple[dt.date, Decimal], ...] = (
    (dt.date(2019, 1, 1), Decimal("0.0075")),
    (dt.date(2019, 7, 1), Decimal("0.0075")),
    (dt.date(2020, 1, 1), Decimal("0.0075")),
    (dt.date(2020, 7, 1), Decimal("0.0010")),
    (dt.date(2021, 1, 1), Decimal("0.0010")),
    (dt.date(2021, 7, 1), Decimal("0.0010")),
    (dt.date(2022, 1, 1), Decimal("0.0025")),
    (dt.date(2022, 7, 1), Decimal("0.0125")),
    (dt.date(2023, 1, 1), Decimal("0.0350")),
    (dt.date(2023, 7, 1), Decimal("0.0500")),
    (dt.date(2024, 1, 1), Decimal("0.0525")),
    (dt.date(2024, 7, 1), Decimal("0.0525")),
    (dt.date(2025, 1, 1), Decimal("0.0475")),
    (dt.date(2025, 7, 1), Decimal("0.0425")),
    (dt.date(2026, 1, 1), Decimal("0.0375")),
    (dt.date(2026, 7, 1), Decimal("0.0375")),
)


@dataclass(frozen=True, slots=True)
class CompensationTier:
    """Fixed compensation per overdue invoice in `currency`, for debts from `from_amount`."""

    currency: str
    from_amount: Decimal
    amount: Decimal


# Fixed compensation per invoice by the currency's law: the UK Act's tiers for GBP
# (s.5A: 40 / 70 / 100), the EU directive's flat 40 for EUR (2011/7/EU art. 6); none for
# any other currency unless the Compensation table gives it rows.
DEFAULT_COMPENSATION: tuple[CompensationTier, ...] = (  # by currency, then amount
    CompensationTier("EUR", Decimal("0"), Decimal("40")),
    CompensationTier("GBP", Decimal("0"), Decimal("40")),
    CompensationTier("GBP", Decimal("1000"), Decimal("70")),
    CompensationTier("GBP", Decimal("10000"), Decimal("100")),
)
# A Compensation table written before it had a Currency column speaks of the UK tiers.
COMPENSATION_CURRENCY_IF_BLANK = "GBP"

ON_HOLD = Stage("on_hold", "On hold", "暂缓催收", None, "none (disputed)")


@dataclass(frozen=True, slots=True)
class Policy:
    """The whole policy a run uses."""

    bounds: tuple[int, ...] = DEFAULT_BOUNDS
    stages: tuple[Stage, ...] = DEFAULT_STAGES
    segments: tuple[Segment, ...] = DEFAULT_SEGMENTS
    rules: Rules = field(default_factory=Rules)
    recovery: tuple[tuple[int, Decimal], ...] = DEFAULT_RECOVERY
    provision: tuple[tuple[int, Decimal], ...] = DEFAULT_PROVISION
    reference_rates: tuple[tuple[dt.date, Decimal], ...] = DEFAULT_REFERENCE_RATES
    compensation: tuple[CompensationTier, ...] = DEFAULT_COMPENSATION

    def stage_index(self, name_or_key: object) -> int | None:
        """Return the ladder position of a stage given by key, English or Chinese name."""
        if not isinstance(name_or_key, str) or not name_or_key.strip():
            return None
        return _stage_positions(self.stages).get(_fold(name_or_key))

    def segment_offset(self, name: object) -> int | None:
        """Return the days offset of a segment by English or Chinese name; blank is Standard."""
        if name is None or (isinstance(name, str) and not name.strip()):
            return 0
        if not isinstance(name, str):
            return None
        wanted = _fold(name)
        for segment in self.segments:
            if wanted in (_fold(segment.name), _fold(segment.name_zh)):
                return segment.days_offset
        return None


DEFAULT_POLICY = Policy()


def _fold(text: str) -> str:
    return "".join(text.split()).replace("_", "").replace("-", "").casefold()


def _text(value: object) -> str:
    """A text cell's value; a blank cell (None, NaN) is ""."""
    return "" if value is None or (isinstance(value, float) and value != value) else str(
        value).strip()


@functools.lru_cache(maxsize=16)
def _stage_positions(stages: tuple[Stage, ...]) -> dict[str, int]:
    """Each stage's key, name and Chinese name, folded, to its ladder position (the first
    stage a name fits wins): `Policy.stage_index` is asked once per customer."""
    positions: dict[str, int] = {}
    for i, stage in enumerate(stages):
        for name in (stage.key, stage.name, stage.name_zh):
            positions.setdefault(_fold(name), i)
    return positions


def bucket_labels(bounds: tuple[int, ...]) -> tuple[str, ...]:
    """Return bucket labels for bounds: (0, 30, 60) -> Current, 1-30, 31-60, >60."""
    labels = ["Current" if bounds[0] == 0 else f"<={bounds[0]}"]
    labels += [f"{lo + 1}-{hi}" for lo, hi in itertools.pairwise(bounds)]
    labels.append(f">{bounds[-1]}")
    return tuple(labels)


# --- reading the Policy sheet's tables --------------------------------------------------

_RULE_FIELDS = {
    "nearlimitshare": ("near_limit_share", Decimal),
    "risklatenessdays": ("risk_lateness_days", int),
    "riskbrokenpromises": ("risk_broken_promises", int),
    "risklimituse": ("risk_limit_use", Decimal),
    "risklimitrise": ("risk_limit_rise", Decimal),
    "riskoverduerise": ("risk_overdue_rise", Decimal),
    "minimumamount": ("minimum_amount", Decimal),
    "mincontactintervaldays": ("min_contact_interval_days", int),
    "maxstepsperrun": ("max_steps_per_run", int),
    "firstcontactmaxstage": ("first_contact_max_stage", str),
    "holdfromstage": ("hold_from_stage", str),
    "defaultpaymenttermsdays": ("default_payment_terms_days", int),
    "statutorymargin": ("statutory_margin", Decimal),
    "interestbasisdays": ("interest_basis_days", int),
    "interestfromstage": ("interest_from_stage", str),
    "interestcurrencies": ("interest_currencies", str),
    "replydays": ("reply_days", int),
    "deadlinefromstage": ("deadline_from_stage", str),
    "reminderleaddays": ("reminder_lead_days", int),
}
_OPTIONAL_RULES = frozenset({"reminder_lead_days"})  # blank: off


_FRACTION_RULES = frozenset({"statutory_margin", "risk_limit_use", "risk_limit_rise",
                             "risk_overdue_rise"})  # rates: fractions, as Excel stores 8%


class _TableReader:
    """Read one policy table (a DataFrame with a `row` column and `attrs` for locations)."""

    def __init__(self, name: str, frame: pd.DataFrame, problems: list[Problem]):
        self.name, self.frame, self.problems = name, frame, problems
        self.sheet = frame.attrs.get("sheet", "Policy")
        self.letters: Mapping[str, str] = frame.attrs.get("letters", {})

    def require(self, *columns: str) -> bool:
        missing = [c for c in columns if c not in self.frame.columns]
        for column in missing:
            self.problems.append(
                Problem(Source(self.sheet), f"table {self.name} has no column {column}")
            )
        return not missing

    def rows(self):
        for _, record in self.frame.iterrows():
            yield record

    def where(self, record, column: str) -> Source:
        return Source(self.sheet, int(record["row"]), self.letters.get(column))

    def fraction(self, record, column: str, rate: Decimal, label: str | None = None):
        """Return `rate` if it is a fraction (8% is 0.08); else record a problem, return None."""
        if abs(rate) <= 1:
            return rate
        shown = f"{rate.normalize():f}"
        self.problems.append(
            Problem(
                self.where(record, column),
                f"{label or column} {shown} is not a fraction: write {shown}%",
            )
        )
        return None

    def number(self, record, column: str, kind=Decimal, blank_ok=False):
        value = record.get(column)
        if (
            value is None
            or (isinstance(value, str) and not value.strip())
            or (isinstance(value, float) and pd.isna(value))
        ):
            if not blank_ok:
                self.problems.append(Problem(self.where(record, column), f"{column} is blank"))
            return None
        try:
            number = Decimal(str(value).replace(",", "").strip())
            if kind is int:
                if number != number.to_integral_value():
                    raise InvalidOperation
                return int(number)
            return number
        except (InvalidOperation, ValueError):
            self.problems.append(
                Problem(self.where(record, column), f'{column} "{value}" is not a number')
            )
            return None


def _read_compensation(t: _TableReader, policy: Policy) -> Policy:
    """The Compensation table's tiers replace the defaults of the currencies it names.

    A currency the table leaves out keeps its default (the EU's flat 40 for EUR stays in a
    workbook whose table predates the Currency column); rows without a currency are GBP.
    """
    if not t.require("FromAmount", "Compensation"):
        return policy
    tiers = []
    for r in t.rows():
        start, amount = t.number(r, "FromAmount"), t.number(r, "Compensation")
        currency = str(r.get("Currency", "") or "").strip().upper()
        if start is not None and amount is not None:
            tiers.append(
                CompensationTier(currency or COMPENSATION_CURRENCY_IF_BLANK, start, amount)
            )
    if not tiers:
        return policy
    named = {tier.currency for tier in tiers}
    kept = [tier for tier in policy.compensation if tier.currency not in named]
    ordered = sorted(kept + tiers, key=lambda tier: (tier.currency, tier.from_amount))
    return replace(policy, compensation=tuple(ordered))


def policy_from_tables(
    tables: Mapping[str, pd.DataFrame], base: Policy = DEFAULT_POLICY
) -> tuple[Policy, list[Problem]]:
    """Return the policy given by the Policy sheet's tables; a table left out keeps its default."""
    problems: list[Problem] = []
    policy = base
    if "Buckets" in tables:
        t = _TableReader("Buckets", tables["Buckets"], problems)
        if t.require("UpToDays"):
            bounds = [t.number(r, "UpToDays", int) for r in t.rows()]
            bounds = [b for b in bounds if b is not None]
            if bounds and (sorted(set(bounds)) != bounds or bounds[0] < 0):
                problems.append(
                    Problem(Source(t.sheet), "Buckets.UpToDays must rise and start at 0 or more")
                )
            elif bounds:
                policy = replace(policy, bounds=tuple(bounds))
    if "Stages" in tables:
        t = _TableReader("Stages", tables["Stages"], problems)
        if t.require("Key", "Name", "FromDays"):
            stages = []
            for r in t.rows():
                first = not stages
                start = t.number(r, "FromDays", int, blank_ok=first)
                repeat = None
                if "RepeatDays" in r:
                    repeat = t.number(r, "RepeatDays", int, blank_ok=True)
                stages.append(
                    Stage(
                        str(r["Key"]).strip(),
                        str(r["Name"]).strip(),
                        str(r.get("NameZh", "") or "").strip(),
                        start,
                        str(r.get("Action", "") or "").strip(),
                        repeat,
                    )
                )
            starts = [s.from_days for s in stages[1:]]
            if None in starts or sorted(starts) != starts:
                problems.append(
                    Problem(Source(t.sheet), "Stages.FromDays must rise from one stage to the next")
                )
            elif stages:
                policy = replace(policy, stages=tuple(stages))
    if "Segments" in tables:
        t = _TableReader("Segments", tables["Segments"], problems)
        if t.require("Segment", "DaysOffset"):
            segments = tuple(
                Segment(
                    str(r["Segment"]).strip(),
                    str(r.get("SegmentZh", "") or "").strip(),
                    t.number(r, "DaysOffset", int) or 0,
                )
                for r in t.rows()
            )
            policy = replace(policy, segments=segments)
    if "Rules" in tables:
        t = _TableReader("Rules", tables["Rules"], problems)
        if t.require("Key", "Value"):
            rules = policy.rules
            for r in t.rows():
                key = _fold(str(r["Key"]))
                if key not in _RULE_FIELDS:
                    problems.append(Problem(t.where(r, "Key"), f'unknown rule "{r["Key"]}"'))
                    continue
                name, kind = _RULE_FIELDS[key]
                optional = name in _OPTIONAL_RULES
                value = (_text(r["Value"]) if kind is str else
                         t.number(r, "Value", kind, blank_ok=optional))  # fmt: skip
                if name in _FRACTION_RULES and value is not None:
                    value = t.fraction(r, "Value", value, label=str(r["Key"]).strip())
                if optional and value is not None and value < 0:
                    shown = str(r["Key"]).strip()
                    problems.append(Problem(t.where(r, "Value"), f"{shown} must be 0 or more"))
                    continue
                if value is not None or optional:
                    rules = replace(rules, **{name: value})
            policy = replace(policy, rules=rules)
    for table, attr, (a, b), kinds in (
        ("Recovery", "recovery", ("Days", "Probability"), (int, Decimal)),
        ("Provision", "provision", ("FromDays", "Rate"), (int, Decimal)),
    ):
        if table in tables:
            t = _TableReader(table, tables[table], problems)
            if t.require(a, b):
                pairs = [(t.number(r, a, kinds[0]), t.number(r, b, kinds[1])) for r in t.rows()]
                pairs = [p for p in pairs if None not in p]
                if pairs:
                    policy = replace(policy, **{attr: tuple(sorted(pairs))})
    if "Compensation" in tables:
        policy = _read_compensation(_TableReader("Compensation", tables["Compensation"], problems),
                                    policy)  # fmt: skip
    if "Interest" in tables:
        t = _TableReader("Interest", tables["Interest"], problems)
        if t.require("EffectiveFrom", "ReferenceRate"):
            rates = []
            for r in t.rows():
                when = r["EffectiveFrom"]
                if isinstance(when, dt.datetime):
                    when = when.date()
                if not isinstance(when, dt.date):
                    problems.append(Problem(t.where(r, "EffectiveFrom"), f'"{when}" is not a date'))
                    continue
                rate = t.number(r, "ReferenceRate")
                if rate is not None:
                    rate = t.fraction(r, "ReferenceRate", rate)
                if rate is not None:
                    rates.append((when, rate))
            if rates:
                policy = replace(policy, reference_rates=tuple(sorted(rates)))
    for key in (policy.rules.first_contact_max_stage, policy.rules.hold_from_stage,
                policy.rules.deadline_from_stage or policy.rules.hold_from_stage):  # fmt: skip
        if policy.stage_index(key) is None:
            problems.append(Problem(Source("Policy"), f'rule names unknown stage "{key}"'))
    return policy, problems
