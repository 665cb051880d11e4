"""Error cells (#N/A, #VALUE! ...) of a workbook file's sheets.

calamine reads an error cell as blank; the reader needs to report it as the error it is,
so the sheet part is looked at here: streamed through the package module, a quick look
for `t="e"` first, and lxml only where there is one. A file's concern only: an open book
(desktop xlwings, Lite) gives error cells as text.
"""

from __future__ import annotations

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
    `serial_60` lists them so that the reader can refuse them."""

    def __init__(self, path: Path):
        self.path = path
        self._found: dict[tuple[str, bool], tuple[dict, set]] = {}

    def of(self, sheet: str) -> dict[tuple[int, int], str]:
        return self._scan(sheet, sixties=False)[0]

    def serial_60(self, sheet: str) -> set[tuple[int, int]]:
        """(row, column) of every number cell holding 60 (or 60 and a time of day). Ask
        only where a date cell reads 1900-02-28: the look is for `<v>60`, which many a
        number cell holds."""
        return self._scan(sheet, sixties=True)[1]

    def _scan(self, sheet: str, sixties: bool):
        key = (sheet, sixties)
        if key not in self._found:
            self._found[key] = self._read(sheet, _SIXTY_MARKS if sixties else _ERROR_MARKS)
        return self._found[key]

    def _read(self, sheet: str, marks: tuple[bytes, ...]):
        with Package(self.path) as package:
            entry = next((s for s in package.sheets() if s.name == sheet), None)
            if entry is None or not package.exists(entry.part):
                return {}, set()
            with package.open(entry.part) as stream:
                if not _mentions(stream, marks):
                    return {}, set()
            with package.open(entry.part) as stream:
                return _error_cells(stream)


_ERROR_MARKS = (b't="e"', b"t='e'")
_SIXTY_MARKS = (b"<v>60</v>", b"<v>60.")


def _mentions(stream, marks: tuple[bytes, ...]) -> bool:
    tail = b""
    while chunk := stream.read(1 << 20):
        window = tail + chunk
        if any(mark in window for mark in marks):
            return True
        tail = window[-16:]  # a mark across two chunks
    return False


def _error_cells(stream) -> tuple[dict[tuple[int, int], str], set[tuple[int, int]]]:
    found: dict[tuple[int, int], str] = {}
    sixties: set[tuple[int, int]] = set()
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
        element.clear(keep_tail=False)  # a row read: free it and the rows before it
        while element.getprevious() is not None:
            del element.getparent()[0]
    return found, sixties
