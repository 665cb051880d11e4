"""A month of credit control, day by day, on a real workbook, as a credit controller lives it.

The demo data builder makes a small branch workbook as of 31 October 2026. Every day of
November the letters run issues the day's documents; between runs the collector works
the Contacts sheet with openpyxl, as in Excel: every call sheet's call is logged a day or
two later; one customer promises to pay and does not, another promises and pays (a PAY
row in the Ledger table); a third pays off its debt mid-month. The tests then hold the
month against the contract of DESIGN.md ("Stage and NextAction"): what was issued, to
whom, when, and why.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter, range_boundaries

from xl_addin.core.escalation import BLANK_CODE
from xl_addin.journal.store import Journal, journal_url
from xl_addin.services.book import LoadedBook, load_book
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.letters import LettersResult, run_letters
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.refresh import RefreshResult, compute

BUILT = dt.date(2026, 10, 31)
FIRST, LAST = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
DAYS = [FIRST + dt.timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
CUSTOMERS = 50
PROMISE_TAKEN = dt.date(2026, 11, 3)
PROMISE_DUE = dt.date(2026, 11, 8)
PROMISE_PAID = dt.date(2026, 11, 6)
CLEARED_ON = dt.date(2026, 11, 12)
OUTCOMES = ("Spoke to AP: invoice approved, in the next payment run",
            "No answer; left a voicemail",
            "客户财务称月底前付款")  # fmt: skip


@dataclass
class Logged:
    """A row the collector typed into the Contacts sheet."""

    date: dt.date
    customer_id: str
    kind: str
    reference: str = ""
    outcome: str = ""
    promise_date: dt.date | None = None
    promise_amount: Decimal | None = None


@dataclass
class Month:
    path: object
    loaded: LoadedBook  # as built, before November
    before: RefreshResult  # the state on 1 November, before any run
    runs: dict[dt.date, LettersResult] = field(default_factory=dict)
    after: dict[dt.date, RefreshResult] = field(default_factory=dict)  # read back after each run
    logged: list[Logged] = field(default_factory=list)
    call_logged: dict[str, dt.date] = field(default_factory=dict)  # call sheet -> day logged
    broken: str = ""  # the customer whose promise is broken
    kept: str = ""  # the customer whose promise is kept
    cleared: str = ""  # the customer who pays off its debt
    journal: list = field(default_factory=list)

    @property
    def policy(self):
        return self.loaded.book.policy

    def step(self, key: str) -> int:
        index = self.policy.stage_index(key)
        assert index is not None, key
        return index

    def documents(self, customer_id: str | None = None) -> list:
        """The month's dunning documents from the journal, in the order issued."""
        return [d for d in self.journal if customer_id in (None, d.customer_id)]


# --- the collector's hands: openpyxl on the workbook ------------------------------------


def _append_to_table(path, table_name: str, rows: list[dict[str, object]]) -> None:
    """Append rows inside an Excel table (by header), extending its ref, and save."""
    book = openpyxl.load_workbook(path)
    sheet = next(ws for ws in book.worksheets if table_name in ws.tables)
    table = sheet.tables[table_name]
    min_col, min_row, max_col, max_row = range_boundaries(table.ref)
    headers = [sheet.cell(min_row, c).value for c in range(min_col, max_col + 1)]
    last = max_row
    if last == min_row + 1 and all(sheet.cell(last, c).value in (None, "")
                                   for c in range(min_col, max_col + 1)):  # fmt: skip
        last = min_row  # a table with only its empty placeholder row
    for row in rows:
        last += 1
        for offset, header in enumerate(headers):
            if header not in row:
                continue
            cell = sheet.cell(last, min_col + offset, row[header])
            if isinstance(row[header], dt.date):
                cell.number_format = "yyyy-mm-dd"
    table.ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{last}"
    if table.autoFilter is not None:
        table.autoFilter.ref = table.ref
    book.save(path)


def log_contacts(path, rows: list[Logged]) -> None:
    _append_to_table(path, "Contacts", [
        {"Date": r.date, "CustomerID": r.customer_id, "Kind": r.kind, "Reference": r.reference,
         "Outcome": r.outcome, "PromiseDate": r.promise_date,
         "PromiseAmount": None if r.promise_amount is None else float(r.promise_amount)}
        for r in rows
    ])  # fmt: skip


def add_payments(path, customer_id: str, day: dt.date, paid: list[tuple[str, Decimal]],
                 currency: str) -> None:  # fmt: skip
    _append_to_table(path, "Ledger", [
        {"CustomerID": customer_id, "DocType": "PAY",
         "DocNo": f"PAY-T-{customer_id}-{day:%m%d}-{n}", "DocDate": day,
         "Amount": float(amount), "AppliesTo": doc_no, "Currency": currency,
         "Reference": "BACS", "Disputed": "N"}
        for n, (doc_no, amount) in enumerate(paid, 1)
    ])  # fmt: skip


def open_items(state: RefreshResult, customer_id: str) -> list[tuple[str, Decimal, int]]:
    """(DocNo, open amount, days overdue) of the customer's open debit items, oldest first."""
    items, ledger = state.aging.items, state.loaded.ledger
    rows = np.flatnonzero((ledger["customer_id"].to_numpy(dtype=object) == customer_id)
                          & items["is_debit"].to_numpy()
                          & (items["open_cents"].to_numpy() > 0))  # fmt: skip
    days = np.nan_to_num(items["days_overdue"].to_numpy(dtype=np.float64), nan=-(10**6))
    found = [(str(ledger["doc_no"].iat[i]), Decimal(int(items["open_cents"].iat[i])) / 100,
              int(days[i])) for i in rows]  # fmt: skip
    return sorted(found, key=lambda f: -f[2])


def plan_row(result, customer_id: str) -> dict[str, object]:
    plan = result.plan if isinstance(result, LettersResult) else result.state.plan
    rows = plan[plan["customer_id"] == customer_id]
    assert len(rows) == 1, customer_id
    return rows.iloc[0].to_dict()


# --- the month ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> Month:
    folder = tmp_path_factory.mktemp("month")
    data = make_demo_data(BUILT, CUSTOMERS)
    path = folder / "branch.xlsx"
    new_workbook(path, language="en", branch="SH", as_of=BUILT, customers=data.customers,
                 ledger=data.ledger, settings={**data.settings, "Language": "en"})  # fmt: skip
    loaded = load_book(path)
    assert isinstance(loaded, LoadedBook), loaded
    before = compute(path, FIRST)
    assert isinstance(before, RefreshResult), before
    m = Month(path, loaded, before)
    currency = dict(zip(loaded.customers["customer_id"], loaded.customers["currency"],
                        strict=True))  # fmt: skip
    calls: list[tuple[dt.date, str, str]] = []  # (day issued, customer, reference)

    for day in DAYS:
        # The collector's morning: the calls made since the last run, promises, payments.
        todo = []
        for n, (issued, customer_id, reference) in enumerate(calls):
            if reference not in m.call_logged and day == issued + dt.timedelta(days=1 + n % 2):
                todo.append(Logged(day, customer_id, "call", reference, OUTCOMES[n % 3]))
                m.call_logged[reference] = day
        if day == PROMISE_TAKEN:
            for customer_id in (m.broken, m.kept):
                owed = open_items(m.after[day - dt.timedelta(days=1)], customer_id)
                promised = (owed[0][1] / 2).quantize(Decimal("0.01"))  # half the oldest
                todo.append(Logged(day, customer_id, "call", "", "Promised part payment",
                                   PROMISE_DUE, promised))  # fmt: skip
        if todo:
            log_contacts(path, todo)
            m.logged += todo
        if day == PROMISE_PAID:
            promise = next(r for r in m.logged if r.customer_id == m.kept and r.promise_date)
            oldest = open_items(m.after[day - dt.timedelta(days=1)], m.kept)[0]
            assert oldest[1] > promise.promise_amount  # a part payment: the item stays open
            add_payments(path, m.kept, day, [(oldest[0], promise.promise_amount)],
                         currency[m.kept])  # fmt: skip
        if day == CLEARED_ON:
            owed = open_items(m.after[day - dt.timedelta(days=1)], m.cleared)
            add_payments(path, m.cleared, day, [(d, a) for d, a, _ in owed], currency[m.cleared])

        result = run_letters(path, as_of=day, out=folder / "letters" / str(day))
        assert isinstance(result, LettersResult), f"{day}: {result}"
        m.runs[day] = result
        after = compute(path, day)
        assert isinstance(after, RefreshResult), f"{day}: {after}"
        m.after[day] = after
        calls += [(day, d.planned.customer_id, d.reference) for d in result.issued.documents
                  if d.planned.kind == "call_sheet"]  # fmt: skip
        if day == FIRST:
            _choose_customers(m, result)

    settings = load_book(path).book.settings
    with Journal.open(journal_url(path, settings.journal)) as journal:
        m.journal = sorted((d for d in journal.documents()
                            if d.kind in ("letter", "call_sheet", "legal_pack")),
                           key=lambda d: (d.key, d.reference))  # fmt: skip
    return m


def _choose_customers(m: Month, result: LettersResult) -> None:
    """After the first run: two customers sent their demand letter for a demand-letter debt
    (they promise), and one with a letter and a single open item (it pays it off)."""
    demand = m.step("demand_letter")
    letters = {d.planned.customer_id: d for d in result.issued.documents
               if d.planned.kind == "letter"}  # fmt: skip
    plan = result.plan.set_index("customer_id")
    candidates = sorted(
        (int(plan.at[c, "max_days_overdue"]), c) for c in letters
        if int(plan.at[c, "stage_code"]) == demand == int(plan.at[c, "next_code"])
    )  # fmt: skip
    assert len(candidates) >= 2, "the demo book has too few demand-letter debts this morning"
    m.broken, m.kept = candidates[0][1], candidates[1][1]
    state = m.after[FIRST]
    single = sorted(c for c in letters if c not in (m.broken, m.kept)
                    and len(open_items(state, c)) == 1)  # fmt: skip
    assert single, "no customer with a single open item got a letter on the first day"
    m.cleared = single[0]


# --- what the month must show -----------------------------------------------------------------


def _legacy(m: Month) -> dict[str, tuple[int, np.datetime64]]:
    """Customers' contacts before November (LastStage, LastContactDate): step and date."""
    out = {}
    for row in m.loaded.customers.itertuples(index=False):
        step = m.policy.stage_index(row.last_stage)
        if step is not None:
            out[row.customer_id] = (step, np.datetime64(row.last_contact_date, "D"))
    return out


def _episode_start(m: Month, customer_id: str) -> np.datetime64:
    summary = m.before.aging.customers.set_index("customer_id")
    window = min(0, m.policy.stages[1].from_days)
    return np.datetime64(summary.at[customer_id, "oldest_due"], "D") + np.timedelta64(window, "D")


def _ladder(m: Month) -> dict[str, list[tuple[dt.date, int]]]:
    """Per customer, the month's ladder contacts: letters and hand-over packs when issued,
    a phone call when its outcome was logged, and the calls logged by hand."""
    call = m.step("phone_call")
    by_reference = {d.reference: d for d in m.journal}
    out: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
    for d in m.journal:
        if d.kind != "call_sheet":
            out[d.customer_id].append((dt.date.fromisoformat(d.key), m.step(d.stage)))
    for r in m.logged:
        document = by_reference.get(r.reference)
        out[r.customer_id].append((r.date, m.step(document.stage) if document else call))
    return out


def _contacts(m: Month) -> dict[str, list[dt.date]]:
    """Per customer, every day something counting as a contact happened (before and during)."""
    out: dict[str, list[dt.date]] = defaultdict(list)
    for customer_id, (_, date) in _legacy(m).items():
        if not np.isnat(date):
            out[customer_id].append(pd.Timestamp(date).date())
    for customer_id, steps in _ladder(m).items():
        out[customer_id] += [d for d, _ in steps]
    return out


def test_the_month_ran_and_issued_work(month):
    kinds = defaultdict(int)
    for d in month.documents():
        kinds[d.kind] += 1
    assert kinds["letter"] >= 10 and kinds["call_sheet"] >= 2, dict(kinds)
    issued = sum(len(r.issued.documents) for r in month.runs.values())
    assert issued == len(month.journal)


def test_no_stage_twice_in_an_episode_unless_its_policy_row_repeats_it(month):
    repeat = {s.key: s.repeat_days for s in month.policy.stages}
    assert repeat["friendly_reminder"] == 14 and repeat["phone_call"] == 7
    seen: dict[tuple[str, str], dt.date] = {}
    wrong = []
    for d in month.documents():
        day = dt.date.fromisoformat(d.key)
        before = seen.get((d.customer_id, d.stage))
        if before is not None and (repeat[d.stage] is None
                                   or (day - before).days < repeat[d.stage]):  # fmt: skip
            wrong.append(f"{d.customer_id}: {d.stage} on {before} and again on {day}")
        seen[(d.customer_id, d.stage)] = day
    assert not wrong


def test_never_within_seven_days_of_a_previous_contact(month):
    interval = month.policy.rules.min_contact_interval_days
    contacts = _contacts(month)
    wrong = []
    for d in month.documents():
        day = dt.date.fromisoformat(d.key)
        earlier = [c for c in contacts[d.customer_id] if c < day]
        # Calls logged on the morning of a run count too (the run comes after).
        earlier += [r.date for r in month.logged if r.customer_id == d.customer_id
                    and r.date == day]  # fmt: skip
        close = [c for c in earlier if (day - c).days < interval]
        if close:
            wrong.append(f"{d.customer_id}: {d.kind} {d.stage} on {day}, contacted on {close}")
    assert not wrong


def test_the_legal_step_once_then_with_collectors(month):
    legal: dict[str, list[dt.date]] = defaultdict(list)
    for d in month.documents():
        if d.kind == "legal_pack":
            legal[d.customer_id].append(dt.date.fromisoformat(d.key))
    assert all(len(days) == 1 for days in legal.values()), dict(legal)
    wrong = []
    for customer_id, (handed_over,) in legal.items():
        for day in DAYS:
            if day <= handed_over:
                continue
            row = plan_row(month.runs[day], customer_id)
            if row["action"] != "skip" or "with collectors" not in row["reason"]:
                wrong.append(f"{customer_id} on {day}: {row['action']} {row['next_key']}"
                             f" ({row['reason']})")  # fmt: skip
    assert not wrong


def test_call_outcomes_are_used_by_the_next_run(month):
    call = month.step("phone_call")
    repeat = month.policy.stages[call].repeat_days
    sheets = [d for d in month.documents() if d.kind == "call_sheet"]
    assert sheets
    wrong = []
    for sheet in sheets:
        issued = dt.date.fromisoformat(sheet.key)
        logged = month.call_logged.get(sheet.reference)
        for day in DAYS:
            if day <= issued or (logged is not None and day >= logged):
                continue
            # Waiting for the call: nothing issued, and the run says why.
            row = plan_row(month.runs[day], sheet.customer_id)
            if row["action"] != "skip" or "awaits its outcome" not in row["reason"]:
                wrong.append(f"{sheet.customer_id} on {day}, {sheet.reference} not logged: "
                             f"{row['action']} {row['next_key']} ({row['reason']})")  # fmt: skip
        if logged is None:
            continue
        following = [dt.date.fromisoformat(d.key) for d in sheets
                     if d.customer_id == sheet.customer_id and d.key > sheet.key]  # fmt: skip
        until = min(following, default=LAST)  # a later call sheet waits for its own call
        for day in DAYS:
            if day >= logged:
                row = plan_row(month.runs[day], sheet.customer_id)
                if sheet.reference in row["reason"] or (
                    day <= until and "awaits its outcome" in row["reason"]
                ):
                    wrong.append(f"{sheet.customer_id} on {day}: the call logged on {logged} "
                                 f"was not used ({row['reason']})")  # fmt: skip
        later = [d for d in month.documents(sheet.customer_id)
                 if dt.date.fromisoformat(d.key) > issued]  # fmt: skip
        if later:
            nxt = later[0]
            day = dt.date.fromisoformat(nxt.key)
            step = month.step(nxt.stage)
            if day < logged:
                wrong.append(f"{sheet.customer_id}: {nxt.stage} on {day} before the call of "
                             f"{sheet.reference} was logged ({logged})")  # fmt: skip
            elif step < call or (step == call and (day - issued).days < repeat):
                wrong.append(f"{sheet.customer_id}: after the call sheet of {issued}, "
                             f"{nxt.stage} on {day}")  # fmt: skip
    assert not wrong


def test_the_broken_promise_escalates(month):
    customer_id = month.broken
    before = [d for d in month.documents(customer_id) if d.key < str(PROMISE_TAKEN)]
    after = [d for d in month.documents(customer_id) if d.key > str(PROMISE_TAKEN)]
    assert before and after, f"{customer_id}: {[(d.key, d.stage) for d in month.journal]}"
    for day in DAYS:
        if PROMISE_TAKEN <= day <= PROMISE_DUE:
            row = plan_row(month.runs[day], customer_id)
            assert row["action"] == "skip", (day, row["reason"])
    nxt = after[0]
    row = plan_row(month.runs[dt.date.fromisoformat(nxt.key)], customer_id)
    assert nxt.key > str(PROMISE_DUE)
    assert "not kept" in row["reason"] and bool(row["promise_broken"]), row["reason"]
    assert month.step(nxt.stage) > month.step(before[-1].stage), (before[-1].stage, nxt.stage)


def test_the_kept_promise_does_not_escalate(month):
    customer_id = month.kept
    for day in DAYS:
        if day < PROMISE_TAKEN:
            continue
        row = plan_row(month.runs[day], customer_id)
        assert "not kept" not in row["reason"] and not row["promise_broken"], (day, row["reason"])
        if row["action"] == "send":
            assert row["next_code"] <= row["stage_code"], (day, row["next_key"], row["reason"])
    state = month.after[PROMISE_DUE + dt.timedelta(days=1)]
    assert "not kept" not in plan_row(state, customer_id)["reason"]


def test_the_customer_who_paid_gets_nothing_afterwards(month):
    customer_id = month.cleared
    assert not open_items(month.after[LAST], customer_id)
    wrong = []
    for day in DAYS:
        if day < CLEARED_ON:
            continue
        row = plan_row(month.runs[day], customer_id)
        if row["action"] != "skip" or not any(
            text in row["reason"] for text in ("nothing open", "nothing overdue")
        ):
            wrong.append(f"{day}: {row['action']} {row['next_key']} ({row['reason']})")
    assert not wrong
    assert all(d.key < str(CLEARED_ON) for d in month.documents(customer_id))


def test_next_action_rises_at_most_one_step_and_starts_at_most_at_the_demand_letter(month):
    demand = month.step("demand_letter")
    legacy = _legacy(month)
    ladder = _ladder(month)
    wrong = []

    def allowed(customer_id: str, day: dt.date, including_today: bool) -> int:
        steps = [s for d, s in ladder.get(customer_id, [])
                 if d < day or (d == day and including_today)]  # fmt: skip
        if customer_id in legacy:
            step, date = legacy[customer_id]
            if np.isnat(date) or date >= _episode_start(month, customer_id):
                steps.append(step)
        return max(steps) + 1 if steps else demand

    for day in DAYS:
        # What each run issued (its plan: NextAction when the run began) ...
        for row in month.runs[day].plan.itertuples(index=False):
            if row.next_code != BLANK_CODE and row.next_code > allowed(row.customer_id, day,
                                                                       False):  # fmt: skip
                wrong.append(f"{day} run: {row.customer_id} {row.next_key} ({row.reason})")
        # ... and NextAction read back from the workbook after it.
        for row in month.after[day].state.plan.itertuples(index=False):
            if row.next_code != BLANK_CODE and row.next_code > allowed(row.customer_id, day,
                                                                       True):  # fmt: skip
                wrong.append(f"{day} after: {row.customer_id} {row.next_key} ({row.reason})")
    assert not wrong


def test_first_document_of_the_month_is_at_most_a_demand_letter_without_earlier_contacts(month):
    demand = month.step("demand_letter")
    legacy = _legacy(month)
    first: dict[str, object] = {}
    for d in month.documents():
        first.setdefault(d.customer_id, d)
    wrong = [f"{c}: {d.stage} on {d.key}" for c, d in first.items()
             if c not in legacy and month.step(d.stage) > demand]  # fmt: skip
    assert not wrong


def test_credit_status_is_hold_from_the_credit_hold_stage_whatever_was_sent(month):
    hold = {"credit_hold", "legal_action"}
    wrong = []
    checked = 0
    for day in DAYS:
        state = month.after[day]
        status = dict(zip(state.aging.customers["customer_id"],
                          state.aging.customers["credit_status"], strict=True))  # fmt: skip
        for row in state.state.plan.itertuples(index=False):
            if row.stage_key in hold:
                checked += 1
                if status[row.customer_id] != "Hold":
                    wrong.append(f"{day}: {row.customer_id} {row.stage} is "
                                 f"{status[row.customer_id]}")  # fmt: skip
    assert checked and not wrong
    # And as written on the Customers sheet (values, where a run wrote values).
    sheet = openpyxl.load_workbook(month.path, data_only=True)["Customers"]
    header = [c.value for c in sheet[1]]
    stage, credit = header.index("Stage"), header.index("CreditStatus")
    for values in sheet.iter_rows(min_row=2, values_only=True):
        if values[stage] in ("Credit hold", "Legal action"):
            assert values[credit] == "Hold", values


def test_the_contact_log_built_by_column_is_the_one_built_record_by_record(month):
    """contact_log puts the journal's documents in by column (a year of a big branch's
    letters is hundreds of thousands): the same log as one record per document."""
    from xl_addin.core.contacts import contact_frame, legacy_contacts
    from xl_addin.services.contacts import DUNNING_KINDS, _logged, contact_log

    loaded = load_book(month.path)
    with Journal.open(journal_url(month.path, loaded.book.settings.journal)) as journal:
        documents = journal.documents(branch=loaded.book.settings.branch)
        read = journal.contact_documents(DUNNING_KINDS, branch=loaded.book.settings.branch)
    policy = loaded.book.policy
    issued = [d for d in documents if d.kind in DUNNING_KINDS]
    records = [{"customer_id": d.customer_id, "date": np.datetime64(d.key, "D"),
                "kind": d.kind, "step": -1 if policy.stage_index(d.stage) is None
                else policy.stage_index(d.stage), "reference": d.reference, "document": True}
               for d in issued]  # fmt: skip
    logged = _logged(loaded, {d.reference: d for d in issued}, policy)
    expected = pd.concat([contact_frame(records + logged),
                          legacy_contacts(loaded.customers, policy.stage_index)],
                         ignore_index=True)  # fmt: skip
    found = contact_log(loaded, documents, policy)
    assert len(issued) > 20 and len(logged) > 3
    pd.testing.assert_frame_equal(found, expected)
    # As every run reads them: only the fields the log needs, of the dunning kinds.
    pd.testing.assert_frame_equal(contact_log(loaded, read, policy), expected)
