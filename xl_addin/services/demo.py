"""The demo: a bilingual branch workbook, and the whole month run on it, in ./demo-output.

Steps: invent customers and documents; build the workbook (`new`: .xlsm with its
buttons and functions); refresh it; write the day's letters and call sheets; the
month's statements; reconcile one customer's sample reply (their own
payables ledger, with Chinese headers, a payment in transit and an invoice they
have not booked); and close the month (`close --backfill 12`: the year of month-ends
before it reconstructed from the ledger, so the roll-rate matrix shows).
PDFs are made when LibreOffice is installed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from xl_addin.core.statements import Period
from xl_addin.documents.pdf import soffice
from xl_addin.errors import InputError
from xl_addin.services.cockpit import CloseResult, close
from xl_addin.services.consolidate import ConsolidateResult, consolidate
from xl_addin.services.demo_data import DEFAULT_SEED, make_demo_data
from xl_addin.services.letters import LettersResult, run_letters
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.reconcile import ReconcileResult, reconcile
from xl_addin.services.refresh import RefreshResult, Step, refresh
from xl_addin.services.statements import StatementsResult, run_statements

DEFAULT_AS_OF = dt.date(2026, 11, 30)
WORKBOOK = "credit-control-demo.xlsm"
OUR_FILES = (WORKBOOK, "credit-control-demo.bak.xlsm", "credit-control-demo.journal.sqlite",
             "credit-control-demo.journal.sqlite-wal", "credit-control-demo.journal.sqlite-shm",
             "sample reply.xlsx", "group.xlsx", "group.bak.xlsx", "rates.csv")  # fmt: skip
OUR_FOLDERS = ("letters", "statements", "reconciliation", "london")
LONDON = ("london", "credit-control-london.xlsm", 60)  # folder, workbook, customers
# The group's rates to CNY for the demo's currencies (made up, dated the as-of date).
RATES = {"GBP": "9.1234", "USD": "7.1043", "EUR": "7.7710"}
CLOSE_BACKFILL = 12  # the month-ends before the demo's month, reconstructed from its ledger


@dataclass(frozen=True, slots=True)
class DemoResult:
    workbook: Path
    refresh: RefreshResult
    letters: LettersResult
    statements: StatementsResult
    reconciliation: ReconcileResult
    pdf: bool
    london: Path | None = None  # the second branch's workbook
    group: ConsolidateResult | None = None
    close: CloseResult | None = None  # the month-end: 13 month-ends recorded, so the
    # Provision sheet shows the roll-rate matrix


def run_demo(
    out: Path, as_of: dt.date = DEFAULT_AS_OF, customers: int = 300, step: Step = lambda _: None
) -> DemoResult:
    """Build the sample workbook in `out` and run the month on it as of `as_of`."""
    out.mkdir(parents=True, exist_ok=True)
    _clear_previous_demo(out)
    step("Inventing customers and documents")
    data = make_demo_data(as_of, customers)
    workbook = out / WORKBOOK
    step("Building the workbook (tables, functions, buttons, macros)")
    new_workbook(workbook, language="zh", branch="SH", as_of=as_of, customers=data.customers,
                 ledger=data.ledger, settings=data.settings)  # fmt: skip
    refreshed = _ok(refresh(workbook, as_of, step=step))
    pdf = soffice() is not None
    step("Writing the day's letters and call sheets" + (" (and PDFs)" if pdf else ""))
    letters = _ok(run_letters(workbook, as_of=as_of, out=out / "letters", pdf=pdf, email=True))
    step("Writing the month's statements" + (" (and PDFs)" if pdf else ""))
    period = Period.of(as_of)
    statements = _ok(run_statements(workbook, period=str(period), out=out / "statements",
                                    pdf=pdf, email=True))  # fmt: skip
    step("Reconciling a customer's reply")
    reply, customer = _sample_reply(out, statements, refreshed)
    reconciliation = _ok(reconcile(workbook, str(reply), customer, str(period),
                                   out / "reconciliation"))  # fmt: skip
    step("Closing the month: its month-end and the year before it in the journal; provision, "
         "dashboard, forecast and risk sheets")
    closed = _ok(close(workbook, as_of, backfill=CLOSE_BACKFILL))
    step("A second branch, London, from the same template pack: its month")
    london = _london(out, as_of, data, pdf)
    step("Head office: the group report of both branches")
    rates = out / "rates.csv"
    rates.write_text("Currency,Rate,Date\n" + "".join(
        f"{c},{r},{as_of.isoformat()}\n" for c, r in RATES.items()), encoding="utf-8")  # fmt: skip
    group = _ok(consolidate([workbook, london], out / "group.xlsx", rates, as_of))
    return DemoResult(workbook, refreshed, letters, statements, reconciliation, pdf, london,
                      group, closed)  # fmt: skip


def _london(out: Path, as_of: dt.date, shanghai, pdf: bool) -> Path:
    """The London branch (English): its own customers, and one of Shanghai's (the same
    company, by tax id), refreshed and run for the day and the month."""
    folder, name, count = LONDON
    (out / folder).mkdir(exist_ok=True)
    data = make_demo_data(as_of, count, seed=DEFAULT_SEED + 1)
    shared = shanghai.customers.iloc[0]
    data.customers.loc[0, ["Name", "TaxID", "Currency", "Language"]] = [
        shared["Name"], shared["TaxID"], shared["Currency"], shared["Language"]]
    data.ledger.loc[data.ledger["CustomerID"] == data.customers.loc[0, "CustomerID"],
                    "Currency"] = shared["Currency"]  # fmt: skip
    workbook = out / folder / name
    new_workbook(workbook, language="en", branch="LDN", as_of=as_of, customers=data.customers,
                 ledger=data.ledger, settings={**data.settings, "Language": "en",
                                               "Branch": "LDN"})  # fmt: skip
    _ok(refresh(workbook, as_of))
    _ok(run_letters(workbook, as_of=as_of, out=out / folder / "letters", pdf=pdf, email=True))
    _ok(run_statements(workbook, period=str(Period.of(as_of)), out=out / folder / "statements",
                       pdf=pdf, email=True))  # fmt: skip
    return workbook


def _ok(result):
    if isinstance(result, tuple):
        raise InputError(result)
    return result


def _clear_previous_demo(out: Path) -> None:
    """Remove what an earlier demo wrote here (only its own files), so the month runs afresh."""
    for name in OUR_FILES:
        (out / name).unlink(missing_ok=True)
    for name in OUR_FOLDERS:
        if (out / name).is_dir():
            shutil.rmtree(out / name)


def _sample_reply(out: Path, statements: StatementsResult, refreshed: RefreshResult):
    """A Chinese customer's own payables ledger of our documents, as it might come back."""
    ledger = refreshed.loaded.ledger
    customers = refreshed.loaded.customers
    chinese = set(customers.loc[customers["language"] == "zh", "customer_id"])
    issued = [d.planned.customer_id for d in statements.issued.documents]
    cutoff = statements.period.last_day
    candidates = [c for c in issued if c in chinese] or issued
    customer = max(candidates, key=lambda c: ((ledger["customer_id"] == c).sum(), c))
    mine = ledger[(ledger["customer_id"] == customer)
                  & (ledger["doc_date"] <= str(cutoff))].sort_values("doc_date")  # fmt: skip
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "应付账款明细"
    sheet.append([f"应付账款明细（截至{cutoff:%Y年%m月%d日}）"])
    sheet.append(["凭证号", "单据号", "日期", "借方", "贷方", "摘要"])
    rows = list(mine.itertuples(index=False))
    invoices = [r for r in rows if r.doc_type == "INV"]
    not_booked = invoices[-1].doc_no if invoices else None  # the newest invoice: not received
    for n, r in enumerate(rows, 1):
        if r.doc_no == not_booked:
            continue
        amount = abs(int(r.amount_cents)) / 100
        is_our_debit = r.doc_type == "INV" or (r.doc_type == "ADJ" and r.amount_cents >= 0)
        # Their payables ledger: our invoice is their credit, their payment their debit.
        debit, credit = (None, amount) if is_our_debit else (amount, None)
        note = "采购发票" if is_our_debit else "付款"
        sheet.append([f"记-{n:04d}", r.doc_no, r.doc_date.date(), debit, credit, note])
    sheet.append(["记-9999", "付款-1130", cutoff, 5000.00, None, "付款（银行在途）"])
    sheet.append(["合计", None, None, None, None, None])
    path = out / "sample reply.xlsx"
    book.save(path)
    return path, customer
