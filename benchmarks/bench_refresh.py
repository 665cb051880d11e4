"""`refresh` of a branch workbook of N ledger rows, end to end, and where the time goes.

Run by hand: python benchmarks/bench_refresh.py [N]   (default 100,000).

Times the whole command in a new process (`credit-control refresh WORKBOOK`: read,
check, age, write the computed columns and the Aging sheet through a temporary
file with a backup) on a copy of the workbook, then each phase separately.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.workbooks import branch_workbook
from xl_addin.services.refresh import RefreshResult, compute, refresh


def main(rows: int) -> None:
    source = branch_workbook(rows)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "branch.xlsx"
        shutil.copy(source, target)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "xl_addin.cli", "refresh", str(target)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        command = time.perf_counter() - start

        shutil.copy(source, target)
        phases: dict[str, float] = {}
        clock = [time.perf_counter(), ""]

        def step(message: str) -> None:
            now = time.perf_counter()
            if clock[1]:
                phases[clock[1]] = now - clock[0]
            clock[:] = [now, message]

        result = refresh(target, step=step)
        step("")
        assert isinstance(result, RefreshResult)
        start = time.perf_counter()
        compute(target)
        read_and_age = time.perf_counter() - start
    print(
        f"refresh of {len(result.loaded.ledger):,} ledger rows, "
        f"{len(result.loaded.customers):,} customers: command {command:.1f} s end to end"
    )
    for name, seconds in phases.items():
        print(f"  {name}: {seconds:.1f} s")
    print(f"  (read + check + age alone, no write: {read_and_age:.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
