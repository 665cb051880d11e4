"""Statements for a 5,000-customer month: our renderer vs a naive docxtpl-per-statement script.

Run by hand: python -m benchmarks.bench_statement_render [CUSTOMERS] [NAIVE_SAMPLE]

(Until 2026-11-30 this was bench_statements.py, which now times the whole command.)

Both sides get the same statement contexts (built once by services.statements) and
write one .docx per customer. Ours: each template read, cleaned and compiled once
(documents.render), then rendered per customer. Naive, what a user's script does:
`DocxTemplate(path).render(context); .save(file)` per customer. NAIVE_SAMPLE limits
the naive side to that many statements (its time is then scaled to all, and the
output says so); default: all of them. Also printed: the whole
`credit-control statements` run (journal, summary, History) for the same month.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from docxtpl import DocxTemplate

from xl_addin.core.statements import Period, build_statements
from xl_addin.documents.files import write_new
from xl_addin.documents.render import CompiledTemplate, environment
from xl_addin.packs.lookup import open_pack
from xl_addin.services.book import load_book
from xl_addin.services.demo import DEFAULT_AS_OF
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.statements import _plan, run_statements, statement_documents

PERIOD = Period(2026, 11)


def main(customers: int, sample: int | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        data = make_demo_data(DEFAULT_AS_OF, customers=customers)
        book = folder / "branch.xlsx"
        new_workbook(
            book, language="zh", branch="SH", as_of=DEFAULT_AS_OF,
            customers=data.customers, ledger=data.ledger, settings=data.settings,
        )  # fmt: skip
        loaded = load_book(book)
        statements = build_statements(loaded.ledger, loaded.customers, PERIOD, loaded.book.policy)
        plan = _plan(statements, True, (), {}, False)
        pack = open_pack(None, "SH")
        planned = statement_documents(loaded, statements, plan, pack)
        contexts = [(d.lang, {**d.context, "reference": f"REF-{i}"}) for i, d in enumerate(planned)]
        paths = {lang: pack.template("statement", lang) for lang in ("en", "zh")}

        ours_dir = folder / "ours"
        ours_dir.mkdir()
        start = time.perf_counter()
        compiled = {lang: CompiledTemplate.load(path) for lang, path in paths.items()}
        for i, (lang, context) in enumerate(contexts):
            write_new(ours_dir / f"{i}.docx", compiled[lang].render(context))
        ours = time.perf_counter() - start

        naive_dir = folder / "naive"
        naive_dir.mkdir()
        chosen = contexts[: sample or len(contexts)]
        start = time.perf_counter()
        for i, (lang, context) in enumerate(chosen):
            document = DocxTemplate(str(paths[lang]))
            document.render(context, jinja_env=environment())
            document.save(naive_dir / f"{i}.docx")
        naive = (time.perf_counter() - start) * len(contexts) / len(chosen)

        start = time.perf_counter()
        run_statements(book, period=str(PERIOD), out=folder / "run", include_zero=True)
        whole = time.perf_counter() - start
    scaled = "" if len(chosen) == len(contexts) else f" (measured on {len(chosen):,}, scaled)"
    print(f"{len(contexts):,} statements ({len(loaded.ledger):,} ledger rows): "
          f"ours {ours:.1f} s, naive docxtpl {naive:.1f} s{scaled}, ratio {naive / ours:.0f}x; "
          f"whole statements run (journal, summary, History) {whole:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000,
         int(sys.argv[2]) if len(sys.argv) > 2 else None)  # fmt: skip
