"""Branch workbooks of exactly N ledger rows, built once and cached outside the repository.

Run by hand to build (or find) one: python -m benchmarks.workbooks [N]   (default 100,000).

The data is the demo's (services.demo_data: customers, invoices, payments, credit
notes, promises and contact history, as of 2026-11-30, statement period 2026-11),
written by the workbook builder, which streams rows through openpyxl's write-only
mode: 1,000,000 rows (near Excel's limit of 1,048,576) take a few minutes and a
few GiB once, then come from the cache.

The cache lives in $XL_ADDIN_BENCH_CACHE, else ~/.cache/xl_addin-bench/, one file per
N and builder version. The version is BUILDER_VERSION (raise it when the recipe in
this module changes) and a digest of the modules that make the data and write the
file, so an edit to either builds afresh instead of measuring a stale workbook.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import sys
import time
from pathlib import Path

from xl_addin.services import demo_data
from xl_addin.services.demo import DEFAULT_AS_OF
from xl_addin.workbook import builder

BUILDER_VERSION = 2
DOCUMENTS_PER_CUSTOMER = 17  # what the demo data gives on average
SPARE_CUSTOMERS = 1.05  # make a few more customers than needed, then cut at N rows


def cache_folder() -> Path:
    """Where built workbooks are kept between runs."""
    folder = os.environ.get("XL_ADDIN_BENCH_CACHE")
    return Path(folder) if folder else Path.home() / ".cache" / "xl_addin-bench"


def builder_version() -> str:
    """BUILDER_VERSION and a digest of the demo data and builder modules."""
    digest = hashlib.sha256()
    for module in (demo_data, builder):
        digest.update(Path(module.__file__).read_bytes())
    return f"v{BUILDER_VERSION}-{digest.hexdigest()[:10]}"


def branch_workbook(rows: int) -> Path:
    """Return the path of a demo workbook with exactly `rows` ledger rows, building it if new."""
    path = cache_folder() / f"branch-{rows}-{builder_version()}.xlsx"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        build(path, rows)  # the builder writes beside `path` and moves in: never half a file
    return path


def live_workbook(rows: int) -> Path:
    """The same data as `branch_workbook`, in the workbook `credit-control new` makes (its
    computed columns formulas reading the Live sheet's blocks), built once and cached."""
    from xl_addin.workbook import template

    digest = hashlib.sha256(Path(template.__file__).read_bytes()).hexdigest()[:10]
    path = cache_folder() / f"live-{rows}-{builder_version()}-{digest}.xlsx"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        settings, customers, ledger = _data(rows)
        template.build_template(path, language="en", branch="SH", customers=customers,
                                ledger=ledger, settings=settings)  # fmt: skip
        for backup in path.parent.glob(f"{path.stem}.bak*"):
            backup.unlink()
    return path


def refreshed_workbook(rows: int) -> Path:
    """`branch_workbook` after one `credit-control refresh`, as a branch's workbook stands on
    any later day: its computed cells hold values, each of which the next refresh reads
    and replaces. Built once and cached beside it (keyed by the writer too)."""
    from xl_addin.services.refresh import RefreshResult, refresh
    from xl_addin.workbook import cells, writer

    digest = hashlib.sha256()
    for module in (cells, writer):
        digest.update(Path(module.__file__).read_bytes())
    source = branch_workbook(rows)
    path = source.with_name(f"{source.stem}-refreshed-{digest.hexdigest()[:10]}.xlsx")
    if not path.exists():
        work = path.with_suffix(".building.xlsx")
        shutil.copy(source, work)
        result = refresh(work)
        if not isinstance(result, RefreshResult):
            raise RuntimeError(f"{work.name}: the refresh stopped: {result[:3]}")
        for backup in work.parent.glob(f"{work.stem}.bak*"):
            backup.unlink()
        work.replace(path)
    return path


def _data(rows: int):
    """Settings, customers and exactly `rows` ledger rows of the demo's data."""
    customers = max(1, math.ceil(rows / DOCUMENTS_PER_CUSTOMER * SPARE_CUSTOMERS))
    data = demo_data.make_demo_data(DEFAULT_AS_OF, customers=customers)
    while len(data.ledger) < rows:  # an unlucky draw: more customers
        customers *= 2
        data = demo_data.make_demo_data(DEFAULT_AS_OF, customers=customers)
    ledger = data.ledger.iloc[:rows]
    master = data.customers[data.customers["CustomerID"].isin(set(ledger["CustomerID"]))]
    return data.settings, master, ledger


def build(path: Path, rows: int) -> None:
    """Write the demo data for `rows` ledger rows to `path`.

    The ledger is sorted by customer and, within one, by date: the first `rows` rows
    are whole customers and the oldest documents of the last one, so every payment
    kept names an invoice that is kept too.
    """
    settings, master, ledger = _data(rows)
    builder.write_credit_workbook(path, settings, master, ledger)


if __name__ == "__main__":
    wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    start = time.perf_counter()
    found = branch_workbook(wanted)
    print(f"{found} ({found.stat().st_size / 2**20:.0f} MiB; {time.perf_counter() - start:.0f} s)")
