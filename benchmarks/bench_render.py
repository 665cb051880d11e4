"""Letters: our compile-once renderer vs a naive docxtpl-per-letter script.

Run by hand: python benchmarks/bench_render.py [LETTERS]

Both sides render the same demand letter (English and Chinese alternately, eight
overdue items each) and write one .docx per letter. Ours: each template read,
cleaned and compiled once (documents.render), then rendered per letter. Naive:
`DocxTemplate(path).render(context); .save(file)` per letter.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from docxtpl import DocxTemplate

from xl_addin.documents.fields import branch_fields, date_text, money_fields, words
from xl_addin.documents.files import write_new
from xl_addin.documents.render import CompiledTemplate, environment
from xl_addin.packs.lookup import open_pack

AS_OF = dt.date(2026, 11, 30)


def letter_context(i: int, lang: str) -> dict[str, object]:
    pack = open_pack(None, "SH" if lang == "zh" else "LDN")
    items = [
        {
            "doc_no": f"INV-{i:05d}-{n}",
            "doc_date": date_text(dt.date(2026, 8, n + 1), lang),
            "due_date": date_text(dt.date(2026, 9, n + 1), lang),
            **money_fields("amount", Decimal(1000 + n * 17), lang),
            **money_fields("open_amount", Decimal(900 + n * 17), lang),
            "days_overdue": (AS_OF - dt.date(2026, 9, n + 1)).days,
        }
        for n in range(8)
    ]
    total = sum((Decimal(900 + n * 17) for n in range(8)), Decimal(0))
    return {
        "customer": {"id": f"C{i:05d}", "name": f"Customer {i} 有限公司", "contact": "Li Na",
                     "address": "88 Jiefang Avenue", "email": "ap@example.cn"},
        "branch": branch_fields(pack.branch or "", pack.branch_profile()), "currency": "CNY",
        "reference": f"SH-LTR-20261130-{i:04d}", "items": items,
        **money_fields("total_overdue", total, lang), "total_in_words": words(total, lang, "CNY"),
        "date": date_text(AS_OF, lang), "reply_by": date_text(AS_OF + dt.timedelta(10), lang),
        "interest": "", "compensation": "",
    }  # fmt: skip


def main(count: int) -> None:
    pack = open_pack(None, None)
    paths = {lang: pack.template("demand_letter", lang) for lang in ("en", "zh")}
    contexts = [(lang, letter_context(i, lang))
                for i, lang in zip(range(count), ["en", "zh"] * count, strict=False)]  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        ours_dir, naive_dir = Path(folder) / "ours", Path(folder) / "naive"
        ours_dir.mkdir()
        naive_dir.mkdir()
        start = time.perf_counter()
        compiled = {lang: CompiledTemplate.load(path) for lang, path in paths.items()}
        for i, (lang, context) in enumerate(contexts):
            write_new(ours_dir / f"{i}.docx", compiled[lang].render(context))
        ours = time.perf_counter() - start

        start = time.perf_counter()
        for i, (lang, context) in enumerate(contexts):
            document = DocxTemplate(str(paths[lang]))
            document.render(context, jinja_env=environment())
            document.save(naive_dir / f"{i}.docx")
        naive = time.perf_counter() - start
    print(f"{count:,} letters: ours {ours:.1f} s, naive docxtpl {naive:.1f} s, "
          f"ratio {naive / ours:.0f}x")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
