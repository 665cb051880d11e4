"""The `credit-control` command: parse, call a service, print. Exit 0 ok, 1 user error, 2 usage."""

from __future__ import annotations

import datetime as dt
import gc
import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
import typer.core
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from xl_addin.core.dates import DAY_FIRST, MONTH_FIRST, parse_date_text
from xl_addin.core.money import to_decimal
from xl_addin.core.problems import Problem
from xl_addin.errors import CreditControlError
from xl_addin.services import refresh as refresh_service
from xl_addin.workbook.ledger_file import LedgerFile

FUTURE_WARNING_DAYS = 31  # an as-of date further ahead than this is most likely a typing slip

def _plain_words(params: list) -> list:
    """Help that speaks plainly: each option shows what it takes (DATE, FILE, table|json) or
    nothing for a switch, never a Python type such as <bool> or <path>."""
    for param in params:
        if isinstance(param, typer.core.TyperArgument):
            param.display_type_rich = _no_type  # the argument's name says it (WORKBOOK)
        elif param.metavar is None and getattr(param, "is_flag", False):
            param.metavar = ""  # --help and other switches take nothing
    return params


def _no_type(ctx) -> None:
    return None


class PlainHelpCommand(typer.core.TyperCommand):
    def get_params(self, ctx):
        return _plain_words(super().get_params(ctx))


class PlainHelpGroup(typer.core.TyperGroup):
    def get_params(self, ctx):
        return _plain_words(super().get_params(ctx))


app = typer.Typer(
    help="Credit control for Excel workbooks: aging, credit status and the collection ladder.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=PlainHelpGroup,
)
command = partial(app.command, cls=PlainHelpCommand)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class AgeFrom(StrEnum):
    due = "due"
    document = "document"


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    parsed = parse_date_text(value)
    if parsed is None:
        raise typer.BadParameter(f'"{value}" is not a date (use YYYY-MM-DD)')
    ahead = (parsed - dt.date.today()).days
    if ahead > FUTURE_WARNING_DAYS:
        Console(stderr=True, highlight=False).print(
            f"Warning: --as-of {parsed.isoformat()} is {ahead} days after today: every "
            "document will be aged as of that day.", style="yellow", markup=False,
        )  # fmt: skip
    return parsed


AsOf = Annotated[
    str | None,
    typer.Option("--as-of", metavar="DATE",
                 help="Age as of this date (YYYY-MM-DD); default Settings.AsOfDate."),
]  # fmt: skip
Format = Annotated[
    OutputFormat,
    typer.Option("--format", metavar="table|json", help="table for people, json for machines."),
]
WorkbookArg = Annotated[
    Path, typer.Argument(metavar="WORKBOOK", help="The credit-control workbook (.xlsx or .xlsm).")
]
LedgerCsv = Annotated[
    Path | None,
    typer.Option(
        "--ledger", metavar="FILE",
        help="Take the ledger from this ERP export instead of the Ledger sheet: .csv (UTF-8 "
        "or GBK) or .xlsx; our Ledger layout, an open-items list or a debit/credit ledger "
        "(docs/import.md).",
    ),
]  # fmt: skip
DayFirst = Annotated[
    bool,
    typer.Option("--day-first", metavar="",
                 help="Dates in the file are written day first: 05/11/2026 is 5 November."),
]  # fmt: skip
MonthFirst = Annotated[
    bool,
    typer.Option("--month-first", metavar="",
                 help="Dates in the file are written month first: 05/11/2026 is 11 May."),
]  # fmt: skip
RenderTime = Annotated[
    float | None,
    typer.Option("--render-time-limit", metavar="SECONDS",
                 help="Stop a document whose template takes longer (0.5 to 120); default "
                 "Settings.RenderTimeLimit, else the pack's [render] time_limit, else 5."),
]  # fmt: skip
RenderSize = Annotated[
    float | None,
    typer.Option("--render-size-limit", metavar="MB",
                 help="Stop a document whose template writes more XML (0.1 to 100 MB); "
                 "default Settings.RenderSizeLimit, else the pack's [render] size_limit, "
                 "else 5."),
]  # fmt: skip
AgeFromOption = Annotated[
    AgeFrom,
    typer.Option(
        "--age-from", metavar="due|document",
        help="Count the age buckets from the due date or the document date. Days overdue, "
        "Stage, NextAction and credit status always count from the due date.",
    ),
]  # fmt: skip


def _ledger_file(
    ledger: Path | None, day_first: bool, month_first: bool, shape: str = "auto"
) -> LedgerFile | None:
    """The ERP export to read, with the order of its dates (a usage error if both)."""
    if day_first and month_first:
        raise typer.BadParameter("give --day-first or --month-first, not both")
    order = DAY_FIRST if day_first else MONTH_FIRST if month_first else None
    if ledger is None:
        if order:
            raise typer.BadParameter("--day-first and --month-first describe a file: "
                                     "give the file too (--ledger FILE)")  # fmt: skip
        return None
    return LedgerFile(ledger, shape, order)


class Reporter:
    """Progress on stderr, results on stdout; quiet progress when a machine reads the output."""

    def __init__(self, output: OutputFormat):
        self.json = output is OutputFormat.json
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)

    def emit_json(self, text: str) -> None:
        """Machine output as it is: no pretty-printing or colouring (a refresh of a 100k-row
        workbook prints 20 MB of JSON, which rich would parse and highlight again)."""
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    @contextmanager
    def steps(self) -> Iterator[callable]:
        started = time.perf_counter()
        with self.err.status("Starting") as status:

            def step(message: str) -> None:
                status.update(f"{message} ...")
                if not self.json:
                    self.err.print(f"[dim]{time.perf_counter() - started:6.1f}s[/] {message}")

            yield step

    def problems(self, problems: Sequence[Problem], written: bool = True) -> None:
        if self.json:
            payload = {"problems": [p.as_dict() for p in problems]}
            self.emit_json(json.dumps(payload, ensure_ascii=False, allow_nan=False))
            return
        tail = "; nothing was written" if written else ""
        self.err.print(f"[bold red]{len(problems)} problem(s){tail}:[/]")
        for problem in problems[:200]:  # one line each: a path or reference is never cut
            self.err.print(f"  {problem}", markup=False, soft_wrap=True)
        if len(problems) > 200:
            self.err.print(f"  ... and {len(problems) - 200} more")


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[bold red]Error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(1)


@command()
def refresh(
    workbook: WorkbookArg,
    as_of: AsOf = None,
    ledger: LedgerCsv = None,
    day_first: DayFirst = False,
    month_first: MonthFirst = False,
    age_from: AgeFromOption = AgeFrom.due,
    output: Format = OutputFormat.table,
) -> None:
    """Compute open amounts, buckets, credit status and stages, and the Aging sheet."""
    report = Reporter(output)
    source = _ledger_file(ledger, day_first, month_first)
    when = _date(as_of)
    try:
        with report.steps() as step:
            result = refresh_service.refresh(workbook, when, source, age_from.value, step=step)
    except CreditControlError as error:
        _fail(str(error))
    if not isinstance(result, refresh_service.RefreshResult):
        report.problems(result)
        raise typer.Exit(1)
    if report.json:
        report.emit_json(
            json.dumps(refresh_service.as_json(result), ensure_ascii=False, allow_nan=False)
        )
        return
    print_summary(report.out, result)
    where = f" (previous version kept as {result.backup.name})" if result.backup else ""
    report.out.print(f"Updated {workbook}{where}.", markup=False)


@command()
def validate(
    workbook: WorkbookArg,
    ledger: LedgerCsv = None,
    day_first: DayFirst = False,
    month_first: MonthFirst = False,
    output: Format = OutputFormat.table,
) -> None:
    """Check a workbook; list every problem (sheet, row, column) here and in its Problems sheet."""
    from xl_addin.services import validate as validate_service

    report = Reporter(output)
    source = _ledger_file(ledger, day_first, month_first)
    try:
        result = validate_service.validate(workbook, source)
    except CreditControlError as error:
        _fail(str(error))
    if result.problems:
        report.problems(result.problems, written=False)
        report.err.print(f"The list is also in the Problems sheet of {workbook}.", markup=False)
        raise typer.Exit(1)
    if report.json:
        report.emit_json(json.dumps({"problems": []}))
    else:
        report.out.print(f"{workbook}: no problems found.", markup=False, soft_wrap=True)


class Shape(StrEnum):
    auto = "auto"
    ledger = "ledger"
    open_items = "open-items"
    debit_credit = "debit-credit"


@command("import")
def import_(
    workbook: WorkbookArg,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="The ERP export: .csv (UTF-8, UTF-8 with BOM or GBK) or .xlsx (its first "
            "sheet), with Chinese or English headers.",
        ),
    ],
    shape: Annotated[
        Shape,
        typer.Option(
            "--shape", metavar="auto|ledger|open-items|debit-credit",
            help="What the file holds: our Ledger layout, an open-items list (no DocType: "
            "positive amounts are invoices, negative ones credit notes) or a debit/credit "
            "ledger (借方/贷方, its running balance checked); auto tells them apart by the "
            "headers.",
        ),
    ] = Shape.auto,
    day_first: DayFirst = False,
    month_first: MonthFirst = False,
    as_of: AsOf = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", metavar="",
                     help="Say what would be added and replaced; write nothing."),
    ] = False,
    output: Format = OutputFormat.table,
) -> None:
    """Import an ERP export into the Ledger table (matched by DocNo: new documents added,
    changed ones replaced), then refresh the workbook. Any problem: nothing is changed."""
    from xl_addin.services import import_ledger as import_service

    report = Reporter(output)
    source = _ledger_file(file, day_first, month_first, shape.value)
    when = _date(as_of)
    try:
        with report.steps() as step:
            result = import_service.import_ledger(
                workbook, source, as_of=when, dry_run=dry_run, step=step
            )
    except CreditControlError as error:
        _fail(str(error))
    if not isinstance(result, import_service.ImportResult):
        report.problems(result)
        raise typer.Exit(1)
    if report.json:
        payload = {
            "file": str(result.file), "shape": result.shape, "documents": result.rows,
            "added": list(result.added), "replaced": list(result.replaced),
            "unchanged": list(result.unchanged), "dry_run": result.dry_run,
            "backup": str(result.backup) if result.backup else None,
            **refresh_service.as_json(result.refreshed),
        }  # fmt: skip
        report.emit_json(json.dumps(payload, ensure_ascii=False, allow_nan=False))
        return
    out = report.out
    out.print(f"{result.file.name} ({result.shape}): {result.rows} document(s); "
              f"{len(result.added)} added, {len(result.replaced)} replaced, "
              f"{len(result.unchanged)} already there as they are.", markup=False)  # fmt: skip
    for label, numbers in (("Added", result.added), ("Replaced", result.replaced)):
        if numbers:
            listed = ", ".join(numbers[:10]) + (" ..." if len(numbers) > 10 else "")
            out.print(f"  {label}: {listed}", markup=False)
    print_summary(out, result.refreshed)
    if result.dry_run:
        out.print(f"Dry run: {workbook} is unchanged.", markup=False)
        return
    where = f" (previous version kept as {result.backup.name})" if result.backup else ""
    out.print(f"Updated {workbook}: Ledger, computed columns and Aging{where}.", markup=False)


@command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", metavar="FOLDER", help="Folder for the demo files.")
    ] = Path("demo-output"),
    customers: Annotated[
        int, typer.Option("--customers", metavar="N", help="How many customers to invent.", min=1)
    ] = 300,
    as_of: AsOf = None,
) -> None:
    """Build a bilingual sample branch and run its month, add a London branch, and make
    head office's group report of both, into ./demo-output."""
    from xl_addin.services import demo as demo_service

    console = Console(highlight=False)
    when = _date(as_of) or demo_service.DEFAULT_AS_OF
    with Reporter(OutputFormat.table).steps() as step:
        result = demo_service.run_demo(out, when, customers, step=step)
    print_summary(console, result.refresh)
    letters = result.letters.issued
    statements = result.statements.issued
    r = result.reconciliation.reconciliation
    missing = [*letters.without_pdf, *statements.without_pdf]
    if not result.pdf:
        pdf = "no PDFs: LibreOffice is not installed"
    elif missing:
        pdf = f"{len(missing)} document(s) without PDF"
    else:
        pdf = "with PDFs"
    console.print(f"Demo workbook (buttons, functions, macros): {result.workbook}", markup=False)
    console.print(f"Letters and call sheets: {len(letters.documents)} in {out / 'letters'} "
                  f"({pdf}); the run's summary: {letters.summary.name}", markup=False)  # fmt: skip
    console.print(f"Statements of account: {len(statements.documents)} in "
                  f"{out / 'statements'}", markup=False)  # fmt: skip
    if missing:
        console.print(f"No PDF for: {', '.join(p.name for p in missing[:5])}"
                      + (" ..." if len(missing) > 5 else ""), markup=False)  # fmt: skip
    difference, explained, unexplained = (
        f"{to_decimal(c):,}" for c in (r.difference_cents, r.explained_cents, r.unexplained_cents)
    )
    console.print(f"Reconciliation of {result.reconciliation.customer_id}'s reply: difference "
                  f"{difference}, explained {explained}, unexplained {unexplained}; "
                  f"report {result.reconciliation.report}", markup=False)  # fmt: skip
    if result.close is not None:
        closed = result.close.month_ends
        rebuilt = len(closed.reconstructed)
        console.print(f"Month-end {closed.period} closed and recorded in the journal"
                      + (f", with the {rebuilt} month-ends before it reconstructed from the "
                         "ledger" if rebuilt else "")
                      + "; the Provision (by age and by roll rates), Dashboard, Forecast and "
                      f"Risk sheets are in the workbook; {len(result.close.risk)} customer(s) "
                      "on the risk worklist", markup=False)  # fmt: skip
    if result.group is not None:
        console.print(f"A second branch, London: {result.london}; head office's group report "
                      f"of both: {result.group.out}", markup=False)  # fmt: skip
    if missing:
        raise typer.Exit(1)


OutDir = Annotated[
    Path | None,
    typer.Option("--out", metavar="FOLDER",
                 help="Folder for the documents (default: beside the workbook)."),
]  # fmt: skip
Pdf = Annotated[
    bool,
    typer.Option(
        "--pdf", metavar="",
        help="Also convert each document to PDF (LibreOffice); exit 1 listing any left "
        "without one. Again with --pdf: the PDFs still missing are made.",
    ),
]
Email = Annotated[
    bool, typer.Option("--email", metavar="", help="Also write one .eml draft per customer.")
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", metavar="", help="Print the plan; write nothing.")
]
Force = Annotated[
    bool,
    typer.Option("--force", metavar="", help="Issue again (a new revision) where already issued."),
]
Only = Annotated[
    list[str] | None,
    typer.Option("--customer", metavar="ID",
                 help="Only this customer (give it again for more than one)."),
]  # fmt: skip


@contextmanager
def _progress(report: Reporter):
    """A progress bar on stderr for long runs (quiet when a machine reads the output)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   console=report.err, disable=report.json, transient=True)  # fmt: skip
    tasks: dict[str, int] = {}
    with bar:

        def update(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(what, total=total)
            bar.update(tasks[what], completed=done, total=total)

        yield update


def _documents_json(run: object, documents: list[dict]) -> str:
    return json.dumps(
        {"run": run, "documents": documents}, ensure_ascii=False, allow_nan=False, default=str
    )


@command()
def letters(
    workbook: WorkbookArg,
    as_of: AsOf = None,
    out: OutDir = None,
    pdf: Pdf = False,
    email: Email = False,
    dry_run: DryRun = False,
    force: Force = False,
    customer: Only = None,
    ledger: LedgerCsv = None,
    day_first: DayFirst = False,
    month_first: MonthFirst = False,
    render_time_limit: RenderTime = None,
    render_size_limit: RenderSize = None,
    output: Format = OutputFormat.table,
) -> None:
    """Write today's dunning letters and call sheets, and record them in the journal."""
    from xl_addin.services import letters as letters_service

    report = Reporter(output)
    source = _ledger_file(ledger, day_first, month_first)
    when = _date(as_of)
    try:
        with _progress(report) as progress:
            result = letters_service.run_letters(
                workbook, as_of=when, out=out, pdf=pdf, email=email, dry_run=dry_run,
                force=force, only=customer or (), progress=progress, ledger=source,
                render_seconds=render_time_limit, render_megabytes=render_size_limit,
            )  # fmt: skip
    except CreditControlError as error:
        _fail(str(error))
    if not isinstance(result, letters_service.LettersResult):
        report.problems(result)
        raise typer.Exit(1)
    _print_letters(report, result, dry_run)


def _print_letters(report: Reporter, result, dry_run: bool) -> None:
    plan = result.plan
    issued = result.issued
    for problem in result.problems:  # found while writing, e.g. an invoice with no rate
        report.err.print(f"Warning: {problem}", style="yellow", markup=False)
    if report.json:
        if issued is None:
            documents = [
                {"CustomerID": r.customer_id, "Stage": _label(r.stage),
                 "StageKey": _label(r.stage_key), "NextAction": _label(r.next_action),
                 "NextActionKey": _label(r.next_key),
                 "Action": r.action, "Amount": float(to_decimal(int(r.amount_cents))),
                 "Reason": r.reason}
                for r in plan.itertuples()
            ]  # fmt: skip
            report.emit_json(_documents_json(None, documents))
            return
        documents = [
            {"CustomerID": d.planned.customer_id, "Stage": _step_name(d.planned.stage),
             "StageKey": d.planned.stage, "Reference": d.reference, "File": str(d.file),
             "Amount": float(d.planned.amount)}
            for d in issued.documents
        ]  # fmt: skip
        report.emit_json(_documents_json(issued.run_id, documents))
        _exit_without_pdfs(report, issued)
        return
    table = Table(title=f"Collection plan as of {result.as_of}" + (" (dry run)" if dry_run else ""))
    for column in ("Customer", "Stage", "Next action", "Amount", "Action", "Reason"):
        table.add_column(column, justify="right" if column == "Amount" else "left")
    # A person reads the customers with something open; the JSON keeps every customer.
    shown = plan[(plan["balance_cents"] != 0) | (plan["action"] != "skip")]
    for r in shown.sort_values(["action", "next_code"], ascending=[True, False]).itertuples():
        amount = f"{to_decimal(int(r.amount_cents)):,}" if r.amount_cents else ""
        table.add_row(r.customer_id, _label(r.stage) or "", _label(r.next_action) or "", amount,
                      r.action, r.reason)  # fmt: skip
    report.out.print(table)
    if len(shown) < len(plan):
        report.out.print(f"{len(plan) - len(shown)} customer(s) with nothing open are not "
                         "listed.", markup=False)  # fmt: skip
    if issued is not None:
        _print_issued(report, issued, "document(s)")
        _exit_without_pdfs(report, issued)


def _label(value: object) -> str | None:
    """A stage name or key for output: text, or None (JSON null) where there is none."""
    return value if isinstance(value, str) else None


def _step_name(key: str) -> str:
    """The English name of a ladder step (or "Statement") by its key."""
    from xl_addin.core.policy import DEFAULT_POLICY

    index = DEFAULT_POLICY.stage_index(key)
    return (
        DEFAULT_POLICY.stages[index].name
        if index is not None
        else key.replace("_", " ").capitalize()
    )


def _print_issued(report: Reporter, issued, noun: str) -> None:
    """What a run issued, what it set aside, and the PDFs (asked for, made, missing)."""
    for path in issued.set_aside:
        report.err.print(f"Set aside (never recorded by an interrupted run): {path}", markup=False)
    if issued.earlier_pdfs:
        report.err.print(f"PDFs made for {len(issued.earlier_pdfs)} document(s) issued "
                         "earlier.", markup=False)  # fmt: skip
    pdfs = ", with PDFs" if issued.all_pdfs and issued.documents else ""
    report.out.print(f"{len(issued.documents)} {noun} issued (run {issued.run_id}{pdfs}); "
                     f"summary: {issued.summary}", markup=False)  # fmt: skip


def _exit_without_pdfs(report: Reporter, issued) -> None:
    """--pdf that left documents without a PDF: list them and exit 1 (they stay issued)."""
    if issued is None or not issued.pdf or not issued.without_pdf:
        return
    err = report.err
    why = f" ({issued.pdf_problem})" if issued.pdf_problem else ""
    err.print(f"[bold red]Error:[/] no PDF for {len(issued.without_pdf)} document(s)"
              f"{escape(why)}:")  # fmt: skip
    for path in issued.without_pdf[:200]:
        err.print(f"  {path}", markup=False, soft_wrap=True)
    if len(issued.without_pdf) > 200:
        err.print(f"  ... and {len(issued.without_pdf) - 200} more")
    err.print("The .docx documents are issued and recorded in the journal. To make their PDFs "
              "later, install LibreOffice (or fix what stopped it) and run the same command "
              "again with --pdf: it issues nothing twice and converts the documents of that "
              "day or month that have no PDF yet.", markup=False)  # fmt: skip
    raise typer.Exit(1)


@command()
def statements(
    workbook: WorkbookArg,
    period: Annotated[
        str | None,
        typer.Option("--period", metavar="YYYY-MM",
                     help="Month YYYY-MM; default Settings.StatementPeriod, else the last "
                     "month ended by the as-of date (the month itself on its last day)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="DATE",
            help="Issue date (YYYY-MM-DD; the reply-by date counts from "
            "it); default Settings.AsOfDate, else today.",
        ),
    ] = None,
    out: OutDir = None,
    pdf: Pdf = False,
    email: Email = False,
    dry_run: DryRun = False,
    force: Force = False,
    customer: Only = None,
    include_zero: Annotated[
        bool,
        typer.Option("--include-zero", metavar="",
                     help="Also customers with no balance or activity."),
    ] = False,
    ledger: LedgerCsv = None,
    day_first: DayFirst = False,
    month_first: MonthFirst = False,
    render_time_limit: RenderTime = None,
    render_size_limit: RenderSize = None,
    output: Format = OutputFormat.table,
) -> None:
    """Write the month's statements of account (with the reply slip) and record them."""
    from xl_addin.services import statements as statements_service

    report = Reporter(output)
    source = _ledger_file(ledger, day_first, month_first)
    when = _date(as_of)
    try:
        with _progress(report) as progress:
            result = statements_service.run_statements(
                workbook, period=period, as_of=when, out=out, pdf=pdf, email=email,
                dry_run=dry_run, force=force, only=customer or (), include_zero=include_zero,
                progress=progress, ledger=source, render_seconds=render_time_limit,
                render_megabytes=render_size_limit,
            )  # fmt: skip
    except CreditControlError as error:
        _fail(str(error))
    if not isinstance(result, statements_service.StatementsResult):
        report.problems(result)
        raise typer.Exit(1)
    plan, issued = result.plan, result.issued
    if report.json:
        if issued is None:
            documents = [
                {"CustomerID": r.customer_id, "Action": r.action, "Reason": r.reason,
                 "Opening": float(to_decimal(int(r.opening_cents))),
                 "Closing": float(to_decimal(int(r.closing_cents)))}
                for r in plan.itertuples()
            ]  # fmt: skip
            report.emit_json(_documents_json(None, documents))
            return
        documents = [
            {"CustomerID": d.planned.customer_id, "Stage": "Statement", "StageKey": "statement",
             "Reference": d.reference,
             "File": str(d.file), "Amount": float(d.planned.amount),
             "Opening": float(d.planned.opening), "Closing": float(d.planned.closing)}
            for d in issued.documents
        ]  # fmt: skip
        report.emit_json(_documents_json(issued.run_id, documents))
        _exit_without_pdfs(report, issued)
        return
    sent = plan[plan["action"] == "send"]
    report.out.print(f"Statements {result.period}: {len(sent)} customer(s) to send, "
                     f"{len(plan) - len(sent)} skipped" + (" (dry run)" if dry_run else ""),
                     markup=False)  # fmt: skip
    if issued is not None:
        _print_issued(report, issued, "statement(s)")
        _exit_without_pdfs(report, issued)


class DocumentKind(StrEnum):
    letter = "letter"
    call_sheet = "call_sheet"
    legal_pack = "legal_pack"
    statement = "statement"


@command()
def history(
    workbook: WorkbookArg,
    customer: Annotated[
        str | None, typer.Option("--customer", metavar="ID", help="Only this customer.")
    ] = None,
    kind_option: Annotated[
        DocumentKind | None,
        typer.Option("--kind", metavar="letter|call_sheet|legal_pack|statement",
                     help="Only documents of this kind."),
    ] = None,
    all_branches: Annotated[
        bool,
        typer.Option("--all-branches",
                     help="Every branch's documents in the journal the workbook uses (a "
                     "group's shared journal), not only the workbook's own branch's."),
    ] = False,
    output: Format = OutputFormat.table,
) -> None:
    """List what the journal records as issued (reference, customer, stage, amount, file) and
    the calls, promises and disputes logged in the Contacts sheet."""
    from xl_addin.services import history as history_service

    report = Reporter(output)
    kind = kind_option.value if kind_option else None
    try:
        records = history_service.history(workbook, customer, kind, all_branches)
        contacts = history_service.logged_contacts(workbook, customer) if kind is None else []
    except CreditControlError as error:
        _fail(str(error))
    if report.json:
        documents = [
            {"IssuedAt": r.issued_at.isoformat(), "Branch": r.branch, "Kind": r.kind,
             "CustomerID": r.customer_id,
             "Stage": _step_name(r.stage), "StageKey": r.stage, "Reference": r.reference,
             "Revision": r.revision,
             "File": r.file, "Amount": float(r.amount), "Currency": r.currency}
            for r in records
        ]  # fmt: skip
        report.emit_json(json.dumps({"documents": documents, "contacts": contacts},
                                         ensure_ascii=False, allow_nan=False))  # fmt: skip
        return
    scope = "every branch in its journal" if all_branches else workbook.name
    table = Table(title=f"Issued for {scope}: {len(records)} document(s)")
    columns = ("Issued", "Branch", "Reference", "Customer", "Stage", "Amount", "File")
    for column in columns if all_branches else columns[:1] + columns[2:]:
        table.add_column(column, justify="right" if column == "Amount" else "left",
                         no_wrap=column == "Reference", overflow="fold")  # fmt: skip
    for r in records:
        cells = [f"{r.issued_at:%Y-%m-%d %H:%M}", r.reference, escape(r.customer_id),
                 _step_name(r.stage), f"{r.currency} {r.amount:,.2f}",
                 escape(Path(r.file).name)]  # fmt: skip
        if all_branches:
            cells.insert(1, escape(r.branch))
        table.add_row(*cells)
    report.out.print(table)
    if contacts:
        logged = Table(title=f"Logged in Contacts: {len(contacts)} contact(s)")
        for column in ("Date", "Customer", "Kind", "Reference", "Outcome", "Promise", "Dispute"):
            logged.add_column(column)
        for c in contacts:
            promise = " ".join(str(v) for v in (c["PromiseDate"], c["PromiseAmount"]) if v)
            cells = (c["Date"] or "", c["CustomerID"], c["Kind"], c["Reference"], c["Outcome"],
                     promise, c["Dispute"])  # fmt: skip
            logged.add_row(*(escape(str(v)) for v in cells))  # customer text is not markup
        report.out.print(logged)


class Language(StrEnum):
    en = "en"
    zh = "zh"


@command()
def new(
    path: Annotated[
        Path,
        typer.Argument(metavar="WORKBOOK",
                       help="The workbook to create (.xlsm, or .xlsx without buttons)."),
    ],
    branch: Annotated[
        str, typer.Option("--branch", metavar="CODE", help="Branch code, e.g. SH.")
    ] = "",
    language: Annotated[
        Language, typer.Option("--language", metavar="en|zh", help="en or zh.")
    ] = Language.en,
    pack: Annotated[
        Path | None, typer.Option("--pack", metavar="FOLDER", help="Template pack folder.")
    ] = None,
    as_of: AsOf = None,
    force: Annotated[
        bool,
        typer.Option("--force", metavar="", help="Replace an existing file (kept as a backup)."),
    ] = False,
    interpreter: Annotated[
        list[str] | None,
        typer.Option(
            "--interpreter", metavar="PATH",
            help="The Python Excel should run, as a full Windows (C:\\...\\python.exe) or "
            "macOS (/Users/.../bin/python) path; give it twice for both. Default: the Python "
            "running this command, when that is on Windows or macOS.",
        ),
    ] = None,
    no_interpreter: Annotated[
        bool,
        typer.Option(
            "--no-interpreter", metavar="",
            help="Record no Python: xlwings then runs the python on the PATH or its own settings.",
        ),
    ] = False,
) -> None:
    """Build a new branch workbook: tables, functions, policy, buttons and macros."""
    from xl_addin.services import new_workbook as new_service
    from xl_addin.workbook.interpreter import interpreter_rows

    if interpreter and no_interpreter:
        raise typer.BadParameter("give --interpreter or --no-interpreter, not both")
    try:
        interpreters = interpreter_rows(() if no_interpreter else interpreter or None)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="'--interpreter'") from error
    console = Console(highlight=False)
    try:
        with console.status("Building the workbook ..."):
            backup = new_service.new_workbook(
                path, language=language.value, branch=branch, pack=pack, as_of=_date(as_of),
                force=force, interpreters=interpreters,
            )  # fmt: skip
    except CreditControlError as error:
        _fail(str(error))
    where = f" (the previous file is kept as {backup.name})" if backup else ""
    console.print(f"Created {path}{where}.", markup=False)
    for key, value in interpreters.items():
        console.print(f"xlwings.conf: {key} = {value}", markup=False)
    if not interpreters:
        console.print("xlwings.conf names no Python: Excel runs the python on the PATH "
                      "(see docs/excel.md, first open).", markup=False)  # fmt: skip


@command()
def upgrade(
    workbook: WorkbookArg,
    pack: Annotated[
        Path, typer.Option("--pack", metavar="FOLDER", help="The template pack to follow.")
    ],
    replace_policy: Annotated[
        bool,
        typer.Option("--replace-policy", metavar="",
                     help="Put the shipped Policy in place of the branch's edited one."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", metavar="", help="Show what would change; write nothing.")
    ] = False,
    output: Format = OutputFormat.table,
) -> None:
    """Bring a branch workbook to the pack's and this version's layout, keeping its data."""
    from xl_addin.services.upgrade import upgrade_workbook

    report = Reporter(output)
    try:
        with report.err.status("Upgrading the workbook ..."):
            result, problems = upgrade_workbook(workbook, pack, replace_policy=replace_policy,
                                                dry_run=dry_run)  # fmt: skip
    except CreditControlError as error:
        _fail(str(error))
    if result is None:
        report.problems(problems)
        raise typer.Exit(1)
    if report.json:
        report.emit_json(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    out = report.out
    before, after = result.pack_version
    lines = [
        ("Pack version", f"{before or '(none)'} -> {after}"),
        ("Rows kept", ", ".join(f"{name} {count}" for name, count in result.rows.items())),
        ("Sheets added", ", ".join(result.sheets_added)),
        ("Columns added", ", ".join(result.columns_added)),
        ("Formulas replaced", ", ".join(result.formulas_replaced)),
        ("Your columns kept", ", ".join(result.user_columns)),
        ("Your sheets copied", ", ".join(result.user_sheets)),
        ("Policy", result.policy + (f" (edited: {', '.join(result.policy_tables)})"
                                    if result.policy_tables else "")),
    ]  # fmt: skip
    for label, text in lines:
        out.print(f"{label}: {text or '-'}", markup=False, soft_wrap=True)
    if result.sheets_not_all_copied:
        out.print(f"Only the values and formulas of {', '.join(result.sheets_not_all_copied)} "
                  "are copied (tables, charts, pictures, merged cells stay in the old file).",
                  markup=False, soft_wrap=True)  # fmt: skip
    if dry_run:
        out.print(f"Dry run: {workbook} is unchanged.", markup=False, soft_wrap=True)
        return
    out.print(f"Upgraded {workbook} (the previous file is kept as {result.backup.name}); "
              "Refresh rebuilds Aging, History and the computed values.",
              markup=False, soft_wrap=True)  # fmt: skip


@command()
def reconcile(
    workbook: WorkbookArg,
    reply: Annotated[
        str,
        typer.Argument(
            metavar="REPLY",
            help="What the customer sent back: their confirmed balance (e.g. 12,345.67), or "
            "their list of our documents (.xlsx or .csv, their own headers).",
        ),
    ],
    customer: Annotated[
        str, typer.Option("--customer", metavar="ID", help="The customer's CustomerID.")
    ],
    period: Annotated[
        str | None,
        typer.Option("--period", metavar="YYYY-MM",
                     help="Statement month YYYY-MM; default Settings.StatementPeriod."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="FOLDER",
                     help="Folder for the report; default beside the workbook."),
    ] = None,
    output: Format = OutputFormat.table,
) -> None:
    """Explain the difference between a customer's reply and our ledger (an xlsx report)."""
    from xl_addin.services import reconcile as reconcile_service

    report = Reporter(output)
    try:
        result = reconcile_service.reconcile(workbook, reply, customer, period, out)
    except CreditControlError as error:
        _fail(str(error))
    if not isinstance(result, reconcile_service.ReconcileResult):
        report.problems(result)
        raise typer.Exit(1)
    r = result.reconciliation
    if report.json:
        payload = {
            "customer": result.customer_id, "period": str(result.period),
            "our_balance": str(to_decimal(r.our_balance_cents)),
            "their_balance": str(to_decimal(r.their_balance_cents)),
            "difference": str(to_decimal(r.difference_cents)),
            "explained": str(to_decimal(r.explained_cents)),
            "unexplained": str(to_decimal(r.unexplained_cents)),
            "differences": [
                {"kind": d.kind, "doc_no": d.doc_no, "their_doc_no": d.their_doc_no,
                 "effect": str(to_decimal(int(d.effect_cents))), "explanation": d.explanation}
                for d in r.differences.itertuples()
            ],
            "report": str(result.report),
        }  # fmt: skip
        report.emit_json(json.dumps(payload, ensure_ascii=False, allow_nan=False))
        return
    table = Table(title=f"{result.name} ({result.customer_id}), {result.period}, {result.currency}")
    for column in ("kind", "ours", "theirs", "effect", "explanation"):
        table.add_column(column, justify="right" if column == "effect" else "left")
    for d in r.differences.itertuples():
        table.add_row(
            d.kind, d.doc_no, d.their_doc_no, f"{to_decimal(int(d.effect_cents)):,}",
            d.explanation_zh if result.lang == "zh" else d.explanation,
        )  # fmt: skip
    report.out.print(table)
    for label, cents in (
        ("Our balance", r.our_balance_cents), ("Their balance", r.their_balance_cents),
        ("Difference", r.difference_cents), ("Explained", r.explained_cents),
        ("Unexplained", r.unexplained_cents),
    ):  # fmt: skip
        report.out.print(f"{label:>14}: {to_decimal(cents):>16,}", markup=False)
    report.out.print(f"Report: {result.report}", markup=False)


def print_summary(console: Console, result: refresh_service.RefreshResult) -> None:
    """Print the aging summary per currency and the customers at each stage."""
    all_totals = refresh_service.totals_by_currency(result)
    if not all_totals:
        console.print(f"Nothing open as of {result.as_of.isoformat()}: the ledger has no "
                      "documents yet, or every one is settled.", markup=False)  # fmt: skip
    for totals in all_totals:
        title = f"Aged receivables {totals.currency}, as of {result.as_of.isoformat()}"
        # as wide as its title, so that the title reads on one line
        table = Table(title=title, title_justify="left", min_width=len(title))
        table.add_column("Bucket")
        table.add_column("Amount", justify="right")
        table.add_column("Share", justify="right")
        for label, cents in totals.buckets.items():
            table.add_row(label, f"{to_decimal(cents):,}", _share(cents, totals.balance))
        if totals.unapplied:
            table.add_row("Unapplied", f"{to_decimal(totals.unapplied):,}", "")
        table.add_section()
        table.add_row("Balance", f"{to_decimal(totals.balance):,}", "100.0%")
        table.add_row(
            "Overdue", f"{to_decimal(totals.overdue):,}", _share(totals.overdue, totals.balance)
        )
        console.print(table)
        stages = ", ".join(f"{name} {count}" for name, count in sorted(totals.stages.items()))
        console.print(f"{totals.customers} customers with open items: {stages}", markup=False)


def _share(part: int, whole: int) -> str:
    return "" if not whole else f"{part / whole:.1%}"


# --- the controller's month-end ------------------------------------------------------------


@command("close")
def close_month(
    workbook: WorkbookArg,
    as_of: AsOf = None,
    months: Annotated[
        int, typer.Option("--months", min=1, max=60, help="How many month-ends to show.")
    ] = 12,
    period: Annotated[
        str | None,
        typer.Option("--period", metavar="YYYY-MM",
                     help="The month-end to record in the journal; default the last month "
                     "ended by the as-of date."),
    ] = None,
    backfill: Annotated[
        int,
        typer.Option("--backfill", metavar="N", min=0, max=120,
                     help="Also reconstruct from the ledger the N month-ends before it that "
                     "the journal lacks (marked reconstructed)."),
    ] = 0,
    output: Format = OutputFormat.table,
) -> None:
    """Month-end: records the month-end's aging in the journal and writes the Provision sheet
    (bad-debt provision by age, and by roll rates once twelve month-ends are recorded), the
    Dashboard sheet (DSO, days delinquent, collection effectiveness ... for twelve
    month-ends), the Forecast sheet (the collections expected in the next 13 weeks) and the
    Risk sheet (the customers whose paying is getting worse, with the reasons)."""
    from xl_addin.services import cockpit

    report = Reporter(output)
    try:
        result = cockpit.close(workbook, _date(as_of), months, period=period, backfill=backfill)
    except CreditControlError as error:
        _fail(str(error))
    if not isinstance(result, cockpit.CloseResult):
        report.problems(result)
        raise typer.Exit(1)
    latest = [m for m in result.months if m.end == result.refresh.as_of]
    recorded = result.month_ends
    if report.json:
        payload = cockpit.close_json(result)
        report.emit_json(json.dumps(payload, ensure_ascii=False, allow_nan=False))
        return
    for m in latest:
        dso = "-" if m.dso is None else f"{m.dso:.1f}"
        best = "-" if m.best_dso is None else f"{m.best_dso:.1f}"
        cei = "-" if m.cei is None else f"{m.cei:.1f}%"
        share = "" if m.overdue_share is None else f" ({m.overdue_share:.1%} of open invoices)"
        report.out.print(f"{m.currency}: receivables {to_decimal(m.receivables):,}, overdue "
                         f"{to_decimal(m.overdue):,}{share}; DSO {dso} days (best possible "
                         f"{best}); collection effectiveness {cei}", markup=False)  # fmt: skip
    frame = result.provision
    by_currency = frame.filter(like="provision:").sum(axis=1).groupby(frame["currency"]).sum()
    provided = ", ".join(f"{c} {to_decimal(int(v)):,}" for c, v in by_currency.items())
    report.out.print(f"Month-end {recorded.period} recorded in the journal"
                     + (f", {len(recorded.reconstructed)} before it reconstructed from the "
                        "ledger" if recorded.reconstructed else "")
                     + f"; {len(recorded.recorded)} month-end(s) recorded in all.",
                     markup=False)  # fmt: skip
    ecl = result.ecl
    if ecl is not None and ecl.ready:
        expected = ", ".join(f"{m.currency} {to_decimal(int(m.ecl.sum())):,}"
                             for m in ecl.matrices)  # fmt: skip
        report.out.print(f"Expected credit loss by roll rates: {expected or 'none'}.",
                         markup=False)  # fmt: skip
    elif ecl is not None:
        report.out.print(f"Roll-rate matrix needs 12 month-ends; {ecl.recorded} recorded "
                         "(--backfill 12 reconstructs them from the ledger).", markup=False)
    report.out.print(f"Provision by age: {provided or 'none'}; the Provision, Dashboard, "
                     f"Forecast and Risk sheets written to {workbook}.", markup=False)  # fmt: skip


@command()
def report(
    workbook: WorkbookArg,
    period: Annotated[
        str | None,
        typer.Option("--period", metavar="YYYY-MM",
                     help="Report as of this month's last day; default --as-of, else "
                     "Settings.AsOfDate."),
    ] = None,
    as_of: AsOf = None,
    out: OutDir = None,
    output: Format = OutputFormat.table,
) -> None:
    """The monthly credit meeting's pack as one PDF in the workbook's language: aging,
    bad-debt provision, the KPIs with their trend, the 13-week forecast and the risk worklist.
    An earlier pack of the same month is kept (the new one is named "... (2).pdf")."""
    from xl_addin.services import report as report_service

    reporter = Reporter(output)
    try:
        with reporter.steps() as step:
            result = report_service.meeting_pack(workbook, period, out, step, _date(as_of))
    except CreditControlError as error:
        _fail(str(error))
    if not isinstance(result, report_service.ReportResult):
        reporter.problems(result)
        raise typer.Exit(1)
    if reporter.json:
        reporter.emit_json(json.dumps({
            "as_of": result.as_of.isoformat(), "language": result.language,
            "file": str(result.pdf), "at_risk": result.at_risk,
            "earlier": None if result.earlier is None else str(result.earlier)},
            ensure_ascii=False))  # fmt: skip
        return
    if result.earlier is not None:
        reporter.out.print(f"{result.earlier} already exists and is kept.", markup=False)
    reporter.out.print(f"Meeting pack as of {result.as_of}: {result.pdf} ({result.at_risk} "
                       "customer(s) on the risk worklist).", markup=False, soft_wrap=True)


# --- head office ----------------------------------------------------------------------


@command()
def consolidate(
    workbooks: Annotated[
        list[Path], typer.Argument(help="The branch workbooks (.xlsx or .xlsm), any number.")
    ],
    out: Annotated[Path, typer.Option("--out", help="The group report to write (.xlsx).")],
    rates: Annotated[
        Path | None,
        typer.Option("--rates", help="Exchange rates CSV: Currency, Rate (base-currency units "
                     "for one unit), Date. Needed for every currency other than the base."),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option("--base", help="The group's currency; default the first branch's "
                     "BaseCurrency."),
    ] = None,
    as_of: AsOf = None,
    language: Annotated[
        Language | None,
        typer.Option("--language", metavar="en|zh", help="The report's language; default "
                     "the language most of the branch workbooks use, else en."),
    ] = None,
    output: Format = OutputFormat.table,
) -> None:
    """Head office's view of every branch: aging by branch and by customer, in one currency."""
    from xl_addin.services import consolidate as group_service

    report = Reporter(output)
    try:
        with report.steps() as step:
            step(f"Reading {len(workbooks)} branch workbook(s)")
            result = group_service.consolidate(workbooks, out, rates, _date(as_of), base,
                                               language=language.value if language else None)
    except CreditControlError as error:
        _fail(str(error))
    if not isinstance(result, group_service.ConsolidateResult):
        report.problems(result)
        raise typer.Exit(1)
    branches = [{"branch": b.branch, "file": str(b.path), "read": b.lines is not None,
                 "as_of": b.as_of.isoformat() if b.as_of else None,
                 "problems": list(b.problems)} for b in result.branches]  # fmt: skip
    if report.json:
        customers = result.customers
        total = 0 if customers.empty else int(sum(c or 0 for c in customers["balance_base"]))
        payload = {"report": str(result.out), "base": result.rates.base,
                   "language": result.language,
                   "balance_in_base": float(to_decimal(total)), "branches": branches}  # fmt: skip
        report.emit_json(json.dumps(payload, ensure_ascii=False, allow_nan=False))
    else:
        read = len(result.branches) - len(result.failed)
        report.out.print(f"Group report {result.out}: {read} of {len(result.branches)} "
                         f"branches, in {result.rates.base}.", markup=False)  # fmt: skip
        for failed in result.failed:
            report.err.print(f"  {failed.path.name}: NOT INCLUDED: {'; '.join(failed.problems)}",
                             markup=False, soft_wrap=True)  # fmt: skip
    if result.failed:
        raise typer.Exit(1)


# --- pack: head office's template pack (init, validate, info) --------------------------

pack_app = typer.Typer(
    help="Template packs: start one from the shipped pack, check it, describe it.",
    no_args_is_help=True,
)
app.add_typer(pack_app, name="pack")
PackDir = Annotated[Path, typer.Argument(help="The template pack folder.")]


@pack_app.command("init")
def pack_init(folder: PackDir) -> None:
    """Copy the shipped pack into FOLDER (new or empty) to customise."""
    from xl_addin.services import pack as pack_service

    try:
        made = pack_service.init_pack(folder)
    except CreditControlError as error:
        _fail(str(error))
    Console(highlight=False).print(
        f"Created the pack {made}: edit pack.toml (name, version), the templates in "
        f"letters/<lang>/ and branches/<code>/branch.toml, then run "
        f"credit-control pack validate {made}.", markup=False, soft_wrap=True)  # fmt: skip


@pack_app.command("validate")
def pack_validate(
    folder: PackDir,
    branch: Annotated[
        str | None, typer.Option("--branch", help="Check this branch only (default: all).")
    ] = None,
    output: Format = OutputFormat.table,
) -> None:
    """Check every template, field, branch file and logo of a pack; list every problem."""
    from xl_addin.services import pack as pack_service

    report = Reporter(output)
    _, problems = pack_service.validate_pack(folder, branch)
    if problems:
        report.problems(problems, written=False)
        raise typer.Exit(1)
    if report.json:
        report.emit_json(json.dumps({"problems": []}))
    else:
        report.out.print(f"{folder}: no problems found.", markup=False, soft_wrap=True)


@pack_app.command("info")
def pack_info(folder: PackDir, output: Format = OutputFormat.table) -> None:
    """Show a pack's name, version, the tool version it needs, templates and branches."""
    from xl_addin.services import pack as pack_service

    report = Reporter(output)
    try:
        info = pack_service.pack_info(folder)
    except CreditControlError as error:
        _fail(str(error))
    if report.json:
        report.emit_json(json.dumps(info.as_dict(), ensure_ascii=False))
        return
    out = report.out
    out.print(f"{info.name or '(no name)'}  version {info.version}"
              + (f"  (needs credit-control {info.requires} or newer)" if info.requires else ""),
              markup=False)  # fmt: skip
    out.print(f"Templates: {', '.join(info.templates) or 'none'}", markup=False, soft_wrap=True)
    table = Table("Branch", "Name", "Language", "Own templates")
    for branch in info.branches:
        table.add_row(escape(branch.code), escape(branch.name), escape(branch.language),
                      escape(", ".join(branch.overrides) or "-"))  # fmt: skip
    out.print(table)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line (entry point of `credit-control`)."""
    # A command is one run over big tables: by default the cycle collector makes a pass
    # every 700 new objects, and each pass walks the young lists a ledger's columns
    # become (100,000 values each) until they are old. Passes every 50,000 objects cost
    # nothing in memory and about a tenth of a second less at 100,000 ledger rows.
    gc.set_threshold(50_000, 10, 10)
    app(args=list(argv) if argv is not None else None, prog_name="credit-control")


if __name__ == "__main__":
    main(sys.argv[1:])
