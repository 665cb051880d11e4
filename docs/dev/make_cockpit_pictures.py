"""Make the pictures of the Dashboard, Provision, Forecast and Risk sheets in docs/images: run
by hand, output committed.

    python docs/dev/make_cockpit_pictures.py [dashboard|charts|provision|forecast|risk ...]

(no names: every one)

For each language it builds a small branch workbook from the demo's data (40 customers),
runs `credit-control close --backfill 12` on it (a year of month-ends, so the roll-rate
matrix is there), has LibreOffice print the workbook to PDF, finds the printed page of each
by its title and writes it with `pdftoppm -png -r 70 -singlefile`: docs/images/<name>-en.png
and <name>-zh.png (charts: the Dashboard's last page, its charts).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

from xl_addin.services.cockpit import close
from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.new_workbook import new_workbook

IMAGES = Path(__file__).resolve().parents[1] / "images"
AS_OF = dt.date(2026, 11, 30)
TITLES = {
    ("dashboard", "en"): "Receivables dashboard", ("dashboard", "zh"): "回款驾驶舱",
    ("provision", "en"): "Bad-debt provision by age", ("provision", "zh"): "坏账准备（账龄分析法）",
    ("risk", "en"): "Risk worklist as of", ("risk", "zh"): "风险客户清单",
    ("forecast", "en"): "Expected collections from", ("forecast", "zh"): "预计回款",
}  # fmt: skip
PAGE_BEFORE = {"charts": "forecast"}  # the Dashboard's last page: its charts


def page_with(pdf: Path, title: str) -> int:
    pages = int(next(line.split()[-1] for line in subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()
        if line.startswith("Pages:")))  # fmt: skip
    for page in range(1, pages + 1):
        found = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                               capture_output=True, text=True, check=True).stdout  # fmt: skip
        if title in found.replace(" ", "") or title in found:
            return page
    raise SystemExit(f"no page titled {title!r} in {pdf}")


def main() -> None:
    wanted = sys.argv[1:] or ["dashboard", "charts", "provision", "forecast", "risk"]
    with tempfile.TemporaryDirectory() as folder:
        for lang in ("en", "zh"):
            data = make_demo_data(AS_OF, 40)
            book = Path(folder) / f"branch-{lang}.xlsx"
            settings = {**data.settings, "Language": lang}
            new_workbook(book, language=lang, branch="SH", as_of=AS_OF, customers=data.customers,
                         ledger=data.ledger, settings=settings)  # fmt: skip
            result = close(book, backfill=12)
            if isinstance(result, tuple):
                raise SystemExit("; ".join(map(str, result)))
            subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", folder,
                            str(book)], check=True, capture_output=True)  # fmt: skip
            pdf = book.with_suffix(".pdf")
            for sheet in wanted:
                found = PAGE_BEFORE.get(sheet, sheet)
                page = page_with(pdf, TITLES[(found, lang)].replace(" ", "")) - (found != sheet)
                target = IMAGES / f"{sheet}-{lang}"
                subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-png", "-r", "70",
                                "-singlefile", str(pdf), str(target)], check=True)  # fmt: skip
                print(f"{target}.png (page {page} of {pdf.name})")


if __name__ == "__main__":
    sys.exit(main())
