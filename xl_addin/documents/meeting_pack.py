"""A report document for print (the monthly credit meeting's pack): headings, notes, tables of
figures already formatted, and stacked bar charts drawn in text, on A4 landscape pages with
the page number in the footer. Built with python-docx, turned into PDF by documents/pdf.py.

The charts are rows of block characters (█) in two colours, scaled to the largest bar, in
a table beside their labels and figures: no drawing library, the same picture in every
PDF viewer and printer, and the figures stay text that can be read back.

Fonts as the letter templates declare them (documents/faces.py): one Latin face and
Simplified Chinese for East Asian text, in the document defaults so that tables take them
too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from xl_addin.documents.faces import add_run, set_faces

PAGE = (Cm(29.7), Cm(21.0))  # A4 landscape
MARGIN = Cm(1.5)
TEXT_WIDTH_CM = 29.7 - 2 * 1.5
HEADER_FILL = "DCE6F1"
TOTAL_FILL = "F2F2F2"
NAVY = RGBColor(0x1F, 0x3A, 0x5F)
GREY = RGBColor(0x59, 0x59, 0x59)
BAR = "█"
BAR_CELLS = 70  # characters in the longest bar


@dataclass(frozen=True, slots=True)
class Table:
    """A table of text: a header row, then rows; `totals` are bold rows on a grey ground."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    totals: Sequence[Sequence[str]] = ()
    numeric: frozenset[int] = frozenset()  # right-aligned columns
    widths: Sequence[float] = ()  # relative column widths (default: even)
    size: float = 8.0  # points


@dataclass(frozen=True, slots=True)
class Bars:
    """A stacked horizontal bar per label, each series in its colour, with a note after."""

    labels: Sequence[str]
    series: Sequence[tuple[str, str, Sequence[int]]]  # legend, colour (hex RGB), values >= 0
    notes: Sequence[str] = ()  # per label, shown beside its bar
    note_header: str = ""
    label_header: str = ""


@dataclass
class PackDocument:
    """The document being built, section by section."""

    lang: str
    footer: str
    _doc: object = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lang = "zh" if self.lang == "zh" else "en"
        self._doc = Document()
        set_faces(self._doc, self.lang)
        section = self._doc.sections[0]
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = PAGE
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, MARGIN)
        _footer(section, self.footer, self.lang)

    def title(self, text: str, subtitle: str = "") -> None:
        self._paragraph(text, size=18, bold=True, color=NAVY, after=2)
        if subtitle:
            self._paragraph(subtitle, size=10, color=GREY, after=10)

    def heading(self, text: str, new_page: bool = False) -> None:
        if new_page:
            self._doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        paragraph = self._paragraph(text, size=13, bold=True, color=NAVY, before=8, after=4)
        paragraph.paragraph_format.keep_with_next = True

    def paragraph(self, text: str, small: bool = False) -> None:
        paragraph = self._paragraph(text, size=8 if small else 9.5,
                                    color=GREY if small else None, after=4)  # fmt: skip
        paragraph.paragraph_format.keep_with_next = True

    def table(self, spec: Table) -> None:
        columns = len(spec.header)
        widths = list(spec.widths) or [1.0] * columns
        scale = TEXT_WIDTH_CM / sum(widths)
        table = self._doc.add_table(rows=0, cols=columns)
        table.style = self._doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        kinds = [("header", spec.header)] + [("row", r) for r in spec.rows] + [
            ("total", r) for r in spec.totals]  # fmt: skip
        for kind, values in kinds:
            row = table.add_row()
            _row_properties(row, header=kind == "header")
            for i, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
                cell.width = Cm(widths[i] * scale)
                if kind != "row":
                    _shade(cell, HEADER_FILL if kind == "header" else TOTAL_FILL)
                lines = str(value).split("\n") if value not in (None, "") else [""]
                for n, line in enumerate(lines):
                    paragraph = cell.paragraphs[0] if n == 0 else cell.add_paragraph()
                    if i in spec.numeric and kind != "header":
                        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                    run = paragraph.add_run(line)
                    run.font.size = Pt(spec.size)
                    run.bold = kind != "row"
        _grid(table, [w * scale for w in widths])
        self._paragraph("", after=4)

    def bars(self, spec: Bars) -> None:
        """The chart: a legend line, then a borderless table of label, bar and note."""
        legend = self._doc.add_paragraph()
        legend.paragraph_format.keep_with_next = True
        for name, colour, _ in spec.series:
            run = legend.add_run(BAR * 2)
            run.font.color.rgb = RGBColor.from_string(colour)
            run.font.size = Pt(8)
            legend.add_run(f" {name}    ").font.size = Pt(8)
        totals = [sum(int(v[i]) for _, _, v in spec.series) for i in range(len(spec.labels))]
        largest = max([*totals, 1])
        table = self._doc.add_table(rows=0, cols=3)
        table.autofit = False
        widths = (3.2, TEXT_WIDTH_CM - 3.2 - 4.5, 4.5)
        rows = [(spec.label_header, None, spec.note_header)] if spec.note_header else []
        rows += [(label, i, spec.notes[i] if spec.notes else "")
                 for i, label in enumerate(spec.labels)]  # fmt: skip
        for label, index, note in rows:
            row = table.add_row()
            _row_properties(row, header=index is None)
            cells = row.cells
            for cell, width in zip(cells, widths, strict=True):
                cell.width = Cm(width)
            if index is None or index < len(spec.labels) - 1:
                for cell in cells:  # the chart stays on one page
                    cell.paragraphs[0].paragraph_format.keep_with_next = True
            cells[0].paragraphs[0].add_run(str(label)).font.size = Pt(8)
            if index is not None:
                bar = cells[1].paragraphs[0]
                for _, colour, values in spec.series:
                    length = round(BAR_CELLS * int(values[index]) / largest)
                    if length:
                        run = bar.add_run(BAR * length)
                        run.font.color.rgb = RGBColor.from_string(colour)
                        run.font.size = Pt(6.5)
            note_run = cells[2].paragraphs[0].add_run(str(note))
            note_run.font.size = Pt(8)
            note_run.bold = index is None
            cells[2].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _grid(table, widths)
        self._paragraph("", after=4)

    def save(self, path: Path) -> Path:
        self._doc.save(str(path))
        return path

    def _paragraph(self, text, *, size=None, bold=False, color=None, before=None, after=None):
        paragraph = self._doc.add_paragraph()
        if before is not None:
            paragraph.paragraph_format.space_before = Pt(before)
        if after is not None:
            paragraph.paragraph_format.space_after = Pt(after)
        if text:
            add_run(paragraph, text, size=size, bold=bold, color=color)
        return paragraph


def _footer(section, text: str, lang: str) -> None:
    """The footer, centred: the pack's name and "page N of M" (第N页，共M页)."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    words = ("第", "页，共", "页") if lang == "zh" else ("page ", " of ", "")
    for piece in (f"{text} · {words[0]}", "PAGE", words[1], "NUMPAGES", words[2]):
        if piece in ("PAGE", "NUMPAGES"):
            field = OxmlElement("w:fldSimple")
            field.set(qn("w:instr"), piece)
            shown = paragraph.add_run("1")  # shown until the field is updated
            shown.font.size, shown.font.color.rgb = Pt(7.5), GREY
            field.append(shown._r)
            paragraph._p.append(field)
        elif piece:
            run = paragraph.add_run(piece)
            run.font.size, run.font.color.rgb = Pt(7.5), GREY


def _row_properties(row, header: bool) -> None:
    """Rows never split across pages; the header row repeats on every page."""
    properties = row._tr.get_or_add_trPr()
    properties.append(OxmlElement("w:cantSplit"))
    if header:
        properties.append(OxmlElement("w:tblHeader"))


def _shade(cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _grid(table, widths_cm: Sequence[float]) -> None:
    """The table grid's column widths (LibreOffice lays a table out from them)."""
    grid = table._tbl.tblGrid
    for column, width in zip(grid.findall(qn("w:gridCol")), widths_cm, strict=True):
        column.set(qn("w:w"), str(int(Cm(width).twips)))
