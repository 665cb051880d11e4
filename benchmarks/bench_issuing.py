"""The journal and files part of a letters and a statements run: CPU and wall.

Run by hand: python benchmarks/bench_issuing.py [ROWS] [letters|statements|both]

On a copy of the benchmark workbook of about ROWS ledger rows (benchmarks/workbooks.py),
a fresh journal and output folder, each run is timed in three parts:
- contexts: planning the documents and building their template contexts;
- issue: `services.issuing.issue` as a whole (render, write, record);
- render and extra: the template rendering and the companion files (the legal step's
  hand-over workbook) inside it.
The journal+files part is issue - render - extra: taking references, writing and
syncing the .docx files and recording them. CPU is time.process_time, wall is
time.perf_counter; on a quiet machine wall close to CPU means no time spent waiting
for the disk.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from benchmarks.workbooks import branch_workbook
from xl_addin.documents.render import CompiledTemplate
from xl_addin.services import issuing, letters, statements


class Clock:
    def __init__(self) -> None:
        self.cpu = 0.0
        self.wall = 0.0

    @contextmanager
    def running(self):
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            self.cpu += time.process_time() - cpu
            self.wall += time.perf_counter() - wall

    def wrap(self, function):
        def timed(*args, **kwargs):
            with self.running():
                return function(*args, **kwargs)

        return timed


def measure(kind: str, book: Path, folder: Path) -> dict[str, Clock]:
    clocks = {name: Clock() for name in ("run", "contexts", "issue", "render", "extra")}
    originals = (issuing.issue, CompiledTemplate.render, letters._documents,
                 statements.statement_documents, letters._hand_over)  # fmt: skip

    def hand_over(*args, **kwargs):
        return clocks["extra"].wrap(originals[4](*args, **kwargs))

    issuing.issue = clocks["issue"].wrap(originals[0])
    CompiledTemplate.render = clocks["render"].wrap(originals[1])
    letters._documents = clocks["contexts"].wrap(originals[2])
    statements.statement_documents = clocks["contexts"].wrap(originals[3])
    letters._hand_over = hand_over
    try:
        with clocks["run"].running():
            if kind == "letters":
                result = letters.run_letters(book, out=folder / "letters")
            else:
                result = statements.run_statements(book, out=folder / "statements")
    finally:
        (issuing.issue, CompiledTemplate.render, letters._documents,
         statements.statement_documents, letters._hand_over) = originals  # fmt: skip
    count = len(result.issued.documents)
    print(f"{kind}: {count} documents")
    for name, clock in clocks.items():
        print(f"  {name:<14} cpu {clock.cpu:7.2f} s   wall {clock.wall:7.2f} s")
    cpu = clocks["issue"].cpu - clocks["render"].cpu - clocks["extra"].cpu
    wall = clocks["issue"].wall - clocks["render"].wall - clocks["extra"].wall
    print(f"  {'journal+files':<14} cpu {cpu:7.2f} s   wall {wall:7.2f} s   "
          f"wall/cpu {wall / cpu if cpu else float('nan'):.2f}")  # fmt: skip
    return clocks


def main(rows: int, kinds: list[str]) -> None:
    source = branch_workbook(rows)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        book = folder / "branch.xlsx"
        shutil.copyfile(source, book)
        for kind in kinds:
            measure(kind, book, folder)


if __name__ == "__main__":
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    which = sys.argv[2] if len(sys.argv) > 2 else "both"
    main(rows, ["letters", "statements"] if which == "both" else [which])
