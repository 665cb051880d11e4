"""The demo: a bilingual sample workbook, refreshed, in ./demo-output."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from xl_addin.errors import InputError
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.refresh import RefreshResult, Step, refresh
from xl_addin.workbook.builder import write_credit_workbook

DEFAULT_AS_OF = dt.date(2026, 11, 30)


@dataclass(frozen=True, slots=True)
class DemoResult:
    workbook: Path
    refresh: RefreshResult


def run_demo(
    out: Path, as_of: dt.date = DEFAULT_AS_OF, customers: int = 300, step: Step = lambda _: None
) -> DemoResult:
    """Build the sample workbook in `out` and refresh it as of `as_of`."""
    out.mkdir(parents=True, exist_ok=True)
    step("Inventing customers and documents")
    data = make_demo_data(as_of, customers)
    workbook = out / "credit-control-demo.xlsx"
    step("Writing the demo workbook")
    write_credit_workbook(workbook, data.settings, data.customers, data.ledger)
    result = refresh(workbook, as_of, step=step)
    if not isinstance(result, RefreshResult):
        raise InputError(result)
    return DemoResult(workbook, result)
