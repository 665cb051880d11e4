"""A credit-control command end to end in a fresh process vs openpyxl's load and save of the file.

Used by bench_refresh.py, bench_letters.py and bench_statements.py. The alternative is
what any openpyxl-based tool costs before doing any work at all:
`openpyxl.load_workbook(path, keep_vba=<.xlsm>, keep_links=True)` then `save(path)`,
run here as `python -m benchmarks.commands resave PATH`. Ours is
`python -m xl_addin.cli COMMAND PATH ... --format json`. Both run in a child process
on a fresh copy of the workbook in a folder of its own (so a fresh journal beside it,
and --out inside it); each child is reaped with os.wait4, which gives that child's own
CPU seconds (user + system) and peak RSS (ru_maxrss, KiB on Linux), and its wall time
is taken around it. The children import this checkout, whatever PYTHONPATH says.

The checkout's modules are compiled to bytecode first (`compileall`), as pip compiles a
package when it installs it and as openpyxl's modules are in site-packages: with
PYTHONDONTWRITEBYTECODE set (as on the shared machine) and no bytecode, each run of ours
would compile forty-odd modules again, about 0.2 s CPU that no installed copy pays.
"""

from __future__ import annotations

import compileall
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.workbooks import branch_workbook, live_workbook, refreshed_workbook

REPOSITORY = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class ChildRun:
    """What one child process cost, and what it printed."""

    cpu: float  # seconds, user + system
    wall: float
    peak_rss_mib: float
    stdout: str


def run_child(arguments: Sequence[str]) -> ChildRun:
    """Run `python ARGUMENTS` from this checkout; return its own rusage. Fails on exit != 0."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(REPOSITORY), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, *arguments], stdout=out, stderr=err,
                                 env=environment, cwd=REPOSITORY)  # fmt: skip
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if child.returncode != 0:
            message = err.read().decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"{' '.join(arguments)} exited {child.returncode}:\n{message}")
    return ChildRun(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024, stdout)


def resave(path: Path) -> None:
    """What any openpyxl-based tool does at the least: load the workbook and save it."""
    from openpyxl import load_workbook

    book = load_workbook(path, keep_vba=path.suffix.lower() == ".xlsm", keep_links=True)
    book.save(path)


def compare(
    command: str,
    rows: int,
    options: Sequence[str],
    documents: Callable[[dict], str],
    rounds: int = 1,
    live: bool = False,
    later: bool = False,
) -> None:
    """Measure openpyxl's load + save and `credit-control COMMAND` on N rows; print both.

    `options` follow the workbook on the command line (--out FOLDER is added where the
    command writes documents); `documents` says from the command's JSON what it issued.
    With several rounds the sides alternate and each side's best CPU run is kept.
    `live`: the workbook `credit-control new` makes (formulas in every computed cell)
    rather than the builder's plain one; `later`: the plain one as a later day finds it,
    refreshed once already (its computed cells hold values to replace).
    """
    source = (live_workbook(rows) if live else refreshed_workbook(rows) if later
              else branch_workbook(rows))  # fmt: skip
    compileall.compile_dir(REPOSITORY / "xl_addin", quiet=1)  # as installed: see the docstring
    runs: dict[str, list[ChildRun]] = {"openpyxl": [], "ours": []}
    issued = ""
    for _ in range(rounds):
        for side in runs:
            with tempfile.TemporaryDirectory(prefix="xl-addin-bench-") as folder:
                workbook = Path(folder) / f"branch{source.suffix}"
                shutil.copy(source, workbook)
                if side == "openpyxl":
                    arguments = ["-m", "benchmarks.commands", "resave", str(workbook)]
                else:
                    out = ["--out", str(Path(folder) / "out")] if command != "refresh" else []
                    arguments = ["-m", "xl_addin.cli", command, str(workbook), *options, *out,
                                 "--format", "json"]  # fmt: skip
                run = run_child(arguments)
                if side == "ours":
                    issued = documents(json.loads(run.stdout))
                runs[side].append(run)
    best = {side: min(found, key=lambda r: r.cpu) for side, found in runs.items()}
    theirs, ours = best["openpyxl"], best["ours"]
    ratio = ours.cpu / theirs.cpu
    kept = "" if rounds == 1 else f", best CPU of {rounds} alternating rounds"
    print(f"{command} of {source.name} ({rows:,} ledger rows), each in a fresh child{kept}:")
    print(f"  {'':44} {'CPU s':>8} {'wall s':>8} {'peak RSS':>10}")
    for label, run in (
        ("openpyxl load_workbook + save (alternative)", theirs),
        (f"credit-control {command} (ours)", ours),
    ):
        print(f"  {label:44} {run.cpu:8.1f} {run.wall:8.1f} {run.peak_rss_mib:6.0f} MiB")
    print(f"  ours / openpyxl CPU: {ratio:.2f}x; {issued}")
    if rounds > 1:  # every round, for the README's ranges
        for side, found in runs.items():
            cpu = sorted(r.cpu for r in found)
            rss = sorted(r.peak_rss_mib for r in found)
            print(f"  {side}: CPU {cpu[0]:.1f}-{cpu[-1]:.1f} s, peak RSS "
                  f"{rss[0]:.0f}-{rss[-1]:.0f} MiB over {len(found)} rounds")
        pairs = [o.cpu / t.cpu for o, t in zip(runs["ours"], runs["openpyxl"], strict=True)]
        print(f"  ratio per round: {min(pairs):.2f}-{max(pairs):.2f}x")
    print(
        f"SUMMARY {dt.date.today()} bench_{command} N={rows:,} ({source.stem}): "
        f"ours {ours.cpu:.1f} s CPU "
        f"({ours.wall:.1f} s wall); alternative openpyxl load+save {theirs.cpu:.1f} s CPU "
        f"({theirs.wall:.1f} s wall); ratio ours/openpyxl {ratio:.2f}x CPU; "
        f"peak RSS ours {ours.peak_rss_mib:.0f} MiB, openpyxl {theirs.peak_rss_mib:.0f} MiB; "
        f"{issued}"
    )


def arguments(argv: Sequence[str]) -> tuple[int, int]:
    """N (default 100,000) and ROUNDS (default 1) from a bench script's command line
    (a `--live` or `--later` among them is read by `live` or `later`)."""
    argv = [a for a in argv if a not in ("--live", "--later")]
    rows = int(argv[1].replace("_", "").replace(",", "")) if len(argv) > 1 else 100_000
    return rows, int(argv[2]) if len(argv) > 2 else 1


def live(argv: Sequence[str]) -> bool:
    return "--live" in argv


def later(argv: Sequence[str]) -> bool:
    return "--later" in argv


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "resave":
        sys.exit("usage: python -m benchmarks.commands resave WORKBOOK")
    resave(Path(sys.argv[2]))
