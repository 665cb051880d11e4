"""Make the pictures of documents in docs/images from the demo: run by hand, output committed.

    python docs/dev/make_pictures.py [DEMO_FOLDER]

Without a folder it runs `credit-control demo` into a temporary one (about a minute). From
the demo's PDFs (LibreOffice) it picks a demand letter in each language, a call sheet, and a
statement in each language with an overdue and a disputed item, and writes the first page
of each with `pdftoppm -png -r 80 -singlefile`.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

IMAGES = Path(__file__).resolve().parents[1] / "images"
CJK = re.compile(r"[\u4e00-\u9fff]")


def text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip


def first(pdfs: list[Path], wanted: Callable[[str], bool]) -> Path:
    for pdf in pdfs:
        if wanted(text(pdf)):
            return pdf
    raise SystemExit("the demo has no document for one of the pictures")


def statement(lang: str) -> Callable[[str], bool]:
    disputed, overdue = ("有争议", "逾期") if lang == "zh" else ("Disputed", "Overdue")
    return lambda t: bool(CJK.search(t)) == (lang == "zh") and disputed in t and overdue in t


def named(folder: Path, steps: tuple[str, ...]) -> list[Path]:
    return sorted(pdf for step in steps for pdf in folder.glob(f"* {step}.pdf"))


def pictures(demo: Path) -> dict[str, Path]:
    # Files are named by the step in the document's language (earlier demos: by its key).
    letters = named(demo / "letters", ("Demand letter", "催款函", "demand_letter"))
    calls = named(demo / "letters", ("Phone call", "电话催收", "phone_call"))
    statements = sorted((demo / "statements").glob("*.pdf"))
    return {
        "letter-en": first(letters, lambda t: not CJK.search(t.split("Dear")[-1])),
        "letter-zh": first(letters, lambda t: "催款函" in t),
        "call-sheet-en": first(calls, lambda t: "Call sheet" in t or "call" in t.lower()),
        "statement-en": first(statements, statement("en")),
        "statement-zh": first(statements, statement("zh")),
    }


def main(argv: list[str]) -> None:
    if argv:
        demo = Path(argv[0])
    else:
        demo = Path(tempfile.mkdtemp(prefix="xl-addin-pictures-")) / "demo"
        subprocess.run([sys.executable, "-m", "xl_addin.cli", "demo", "--out", str(demo)],
                       check=True)  # fmt: skip
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name, pdf in pictures(demo).items():
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", "-f", "1", "-l", "1",
                        str(pdf), str(IMAGES / name)], check=True)  # fmt: skip
        print(f"{IMAGES / name}.png  <-  {pdf.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
