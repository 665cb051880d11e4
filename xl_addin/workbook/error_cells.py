"""Error cells (#N/A, #VALUE! ...) of a workbook file's sheets.

calamine reads an error cell as blank; the reader needs to report it as the error it is,
so the sheet part is looked at here: streamed through the package module, a quick look
for `t="e"` first, and lxml only where there is one. A file's concern only: an open book
(desktop xlwings, Lite) gives error cells as text.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from lxml import etree

from xl_addin.workbook.cells import split_ref
from xl_addin.workbook.package import Package


class ErrorCells:
    """Error cells (#N/A, #VALUE! ...) per sheet, read from the sheet XML on demand
    (calamine gives an error cell as blank). The part is streamed: a quick look for
    `t="e"` first, and lxml only where there is one.

    The same look finds the cells holding serial 60: calamine gives a date cell of
    serial 60 (29 February 1900, which does not exist) as 1900-02-28, the day before;
    `serial_60` lists them so that the reader can refuse them. And it finds the sheet's
    last row (`last_row`), which tells the reader that nothing lies below a table without
    calamine reading the whole sheet a second time.

    A reader thread parsing the Ledger may ask while the main thread scans the same
    sheet: a lock makes the second wait for the first's answer instead of scanning again."""

    def __init__(self, path: Path):
        self.path = path
        self._found: dict[tuple[str, bool], tuple[dict, set, int | None]] = {}
        self._lock = threading.Lock()

    def of(self, sheet: str) -> dict[tuple[int, int], str]:
        return self._scan(sheet, sixties=False)[0]

    def last_row(self, sheet: str) -> int | None:
        """The number of the sheet's last row element: no cell below it holds anything
        (None: the sheet does not say plainly, or has no such sheet)."""
        return self._scan(sheet, sixties=False)[2]

    def serial_60(self, sheet: str) -> set[tuple[int, int]]:
        """(row, column) of every number cell holding 60 (or 60 and a time of day). Ask
        only where a date cell reads 1900-02-28: the look is for `<v>60`, which many a
        number cell holds."""
        return self._scan(sheet, sixties=True)[1]

    def written(self, sheet: str, cells: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
        """What the given (row, column) cells hold as written (their <v>). Asked only of a
        date cell calamine reads as a time of day: a serial below 1, which a negative one
        (a date before 1900) is, reads as 00:00:00 and says nothing of what is there."""
        with Package(self.path) as package:
            entry = next((s for s in package.sheets() if s.name == sheet), None)
            if entry is None or not package.exists(entry.part):
                return {}
            with package.open(entry.part) as stream:
                return _values_of(stream, cells)

    def _scan(self, sheet: str, sixties: bool):
        key = (sheet, sixties)
        with self._lock:
            if key not in self._found:
                self._found[key] = self._read(sheet, _SIXTY_MARKS if sixties else _ERROR_MARKS)
            return self._found[key]

    def _read(self, sheet: str, marks: re.Pattern[bytes]):
        with Package(self.path) as package:
            entry = next((s for s in package.sheets() if s.name == sheet), None)
            if entry is None or not package.exists(entry.part):
                return {}, set(), None
            with package.open(entry.part) as stream:
                mentioned, last = _mentions(stream, marks)
            if not mentioned:
                return {}, set(), last
            with package.open(entry.part) as stream:
                return _error_cells(stream)


_ERROR_MARKS = re.compile(rb"""t=["']e["']""")
_SIXTY_MARKS = re.compile(rb"<v>60(?:</v>|\.)")
_MARK_LENGTH = 16  # longer than any mark: what a mark across two chunks needs


def _mentions(stream, marks: re.Pattern[bytes]) -> tuple[bool, int | None]:
    """Whether the part holds one of the marks; when it does not (read to its end), also
    the number of its last row element (None: not plainly written). One search per
    chunk, and one across each chunk's border: the chunks are not joined (at a million
    rows they are half a gigabyte)."""
    end = b""  # the last 64 KiB read: the last row tag is near the part's end
    while chunk := stream.read(1 << 20):
        if marks.search(chunk) or marks.search(end[-_MARK_LENGTH:] + chunk[:_MARK_LENGTH]):
            return True, None
        end = chunk[-(1 << 16) :] if len(chunk) >= 1 << 16 else (end + chunk)[-(1 << 16) :]
    return False, _last_row_number(end)


def _last_row_number(end: bytes) -> int | None:
    """The r of the last <row> start tag in `end`, a part's last bytes (rows rise in a
    sheet part); None where there is none in it or it has no plain r attribute."""
    start = len(end)
    while (start := end.rfind(b"<row", 0, start)) >= 0:
        if end[start + 4 : start + 5] in (b" ", b">", b"/", b"\t", b"\r", b"\n"):
            break
    if start < 0:
        return None
    close = end.find(b">", start)
    found = end.find(b' r="', start, close)
    if close < 0 or found < 0:
        return None
    number = end[found + 4 : end.find(b'"', found + 4)]
    return int(number) if number.isdigit() else None


def _error_cells(stream) -> tuple[dict[tuple[int, int], str], set[tuple[int, int]], int | None]:
    found: dict[tuple[int, int], str] = {}
    sixties: set[tuple[int, int]] = set()
    last: int | None = 0
    elements = etree.iterparse(stream, events=("end",), tag=("{*}c", "{*}row"),
                               resolve_entities=False, no_network=True, huge_tree=True)  # fmt: skip
    for _, element in elements:
        if element.tag.endswith("}c"):
            if element.get("t") == "e" and element.get("r"):
                value = element.find("{*}v")
                column, row = split_ref(element.get("r"))
                found[(row, column)] = "" if value is None else value.text or ""
            elif element.get("t") in (None, "n") and element.get("r"):
                text = element.findtext("{*}v") or ""
                if text == "60" or text.startswith("60."):
                    column, row = split_ref(element.get("r"))
                    sixties.add((row, column))
            continue
        number = element.get("r")
        last = int(number) if last is not None and number and number.isdigit() else None
        element.clear(keep_tail=False)  # a row read: free it and the rows before it
        while element.getprevious() is not None:
            del element.getparent()[0]
    return found, sixties, last


def _values_of(stream, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    found: dict[tuple[int, int], str] = {}
    elements = etree.iterparse(stream, events=("end",), tag=("{*}c", "{*}row"),
                               resolve_entities=False, no_network=True, huge_tree=True)  # fmt: skip
    for _, element in elements:
        if element.tag.endswith("}c") and element.get("r"):
            column, row = split_ref(element.get("r"))
            if (row, column) in wanted:
                found[(row, column)] = element.findtext("{*}v") or ""
        elif element.tag.endswith("}row"):
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del element.getparent()[0]
    return found
