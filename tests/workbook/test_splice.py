"""The fast path (rows' bytes spliced) writes exactly what the general path (each row
parsed with lxml) writes: compared cell by cell on hand-made sheets with every awkward
shape and on a refreshed branch workbook."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.books import make_book
from xl_addin.errors import WorkbookError
from xl_addin.workbook.cells import ColumnWrite, StyleBook, splice_columns, stream_columns
from xl_addin.workbook.package import MAIN, Package

NS = f'xmlns="{MAIN}"'


def sheet(rows: str, extra: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {NS} '
            f'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<dimension ref="A1:C5"/><sheetData>{rows}</sheetData>{extra}'
            f"</worksheet>").encode()  # fmt: skip


def cells_of(xml: bytes) -> dict[str, tuple]:
    root = etree.fromstring(xml)
    out = {}
    for row in root.iter(f"{{{MAIN}}}row"):
        out[f"row{row.get('r')}"] = (row.get("spans"),)
        for cell in row.iter(f"{{{MAIN}}}c"):
            out[cell.get("r")] = (
                cell.get("t"), cell.get("s"),
                cell.findtext(f"{{{MAIN}}}v"), cell.findtext(f"{{{MAIN}}}f"),
                "".join(cell.find(f"{{{MAIN}}}is").itertext()) if cell.find(
                    f"{{{MAIN}}}is") is not None else None,
            )  # fmt: skip
    dimension = root.find(f"{{{MAIN}}}dimension")
    out["dimension"] = dimension.get("ref") if dimension is not None else None
    out["after"] = [etree.QName(e).localname for e in root][-1]
    return out


@pytest.fixture
def styles(tmp_path):
    path = make_book(tmp_path / "b.xlsx")
    with Package(path) as package:
        yield StyleBook(package)


def both(xml: bytes, writes, styles) -> tuple[bytes, bytes]:
    spliced, streamed = io.BytesIO(), io.BytesIO()
    assert splice_columns(io.BytesIO(xml), spliced, _copy(writes), styles, "S", False)
    stream_columns(io.BytesIO(xml), streamed, _copy(writes), styles, "S", False)
    return spliced.getvalue(), streamed.getvalue()


def _copy(writes):
    return [ColumnWrite(w.column, w.header, list(w.rows), list(w.values), w.number_format,
                        w.new, w.header_row, w.header_style_from, w.formula)
            for w in writes]  # fmt: skip


ROWS = (
    '<row r="1" spans="1:2"><c r="A1" t="inlineStr"><is><t>ID</t></is></c>'
    '<c r="B1" t="s"><v>0</v></c></row>'
    '<row r="2" spans="1:3" x14ac:dyDescent="0.25" xmlns:x14ac="urn:x14ac">'
    '<c r="A2" s="1"><v>1</v></c><c r="C2" s="2"><v>5</v></c></row>'
    '<row r="3"><c r="A3"><v>2</v></c><c r="C3"><f>A3*2</f><v>4</v></c></row>'
    '<row r="4"/>'
    '<row r="5"><c r="A5" t="inlineStr"><is><t xml:space="preserve"> x &amp; y </t></is></c>'
    '<c r="B5"/></row>'
)


def test_every_shape_of_row_comes_out_alike(styles):
    writes = [
        ColumnWrite(3, "C", [2, 3, 4, 5], [Decimal("10.50"), 7, "text <&>", None], "0.00"),
        ColumnWrite(2, "B", [2, 4, 6], ["between", " spaced ", 3]),
        ColumnWrite(4, "D", [1, 2, 3, 4, 5, 7], ["D", 1.5, True, "x", None, "new row"], new=False),
    ]
    spliced, streamed = both(sheet(ROWS, "<pageMargins/>"), writes, styles)
    assert cells_of(spliced) == cells_of(streamed)
    found = cells_of(spliced)
    assert found["C3"][3] == "A3*2" and found["C3"][2] == "7"  # the formula stays
    assert found["B2"][4] == "between" and found["D7"][4] == "new row"
    assert found["dimension"] == "A1:D7" and found["after"] == "pageMargins"


def test_a_new_column_over_a_value_is_refused_on_both_paths(styles):
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>1</v></c>' \
           '<c r="B2"><v>9</v></c></row>'  # fmt: skip
    writes = [ColumnWrite(2, "New", [2], ["x"], new=True, header_row=1, header_style_from=1)]
    for path in (splice_columns, stream_columns):
        with pytest.raises(WorkbookError, match=r"S!B2: column B right of the table"):
            path(io.BytesIO(sheet(rows)), io.BytesIO(), _copy(writes), styles, "S", False)


def test_a_prefixed_or_commented_sheet_is_left_to_the_general_path(styles):
    prefixed = sheet("").replace(b"<worksheet ", b"<x:worksheet xmlns:x=\"" + MAIN.encode()
                                 + b'" ').replace(b"</worksheet>", b"</x:worksheet>")  # fmt: skip
    commented = sheet("<!-- note -->" + ROWS)
    writes = [ColumnWrite(1, "A", [1], [1])]
    assert not splice_columns(io.BytesIO(prefixed), io.BytesIO(), writes, styles, "S", False)
    spliced, streamed = both(commented, writes, styles)
    assert cells_of(spliced) == cells_of(streamed)


values = st.one_of(st.none(), st.integers(-10**6, 10**6), st.text(max_size=8),
                   st.decimals(-10**6, 10**6, places=2, allow_nan=False))  # fmt: skip
# A table's calculated formula, given to a computed column's cells that hold none.
CALCULATED = 'IF(T[[#This Row],[A]]>0,"<&>",INDEX(X,ROW()-ROW(T[#Headers]),2))'


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(1, 40), st.sampled_from([1, 2, 3, 5]), values),
                max_size=30), st.sets(st.sampled_from([1, 2, 3, 5])))  # fmt: skip
def test_any_writes_come_out_alike(styles, wanted, calculated):
    columns: dict[int, dict[int, object]] = {}
    for row, column, value in wanted:
        columns.setdefault(column, {})[row] = value
    writes = [ColumnWrite(c, f"H{c}", sorted(v), [v[r] for r in sorted(v)],
                          formula=CALCULATED if c in calculated else None)
              for c, v in columns.items()]  # fmt: skip
    spliced, streamed = both(sheet(ROWS), writes, styles)
    assert cells_of(spliced) == cells_of(streamed)


def test_a_refreshed_branch_workbook_is_written_alike(tmp_path):
    from xl_addin.services.refresh import refresh

    path = make_book(tmp_path / "b.xlsx")
    refresh(path)  # the computed cells exist now: the next write replaces them
    with Package(path) as package:
        styles = StyleBook(package)
        ledger = package.sheet("Ledger").part
        xml = package.read(ledger)
    rows = [r for r in range(2, 6)]
    writes = [ColumnWrite(13, "Bucket", rows, ["1-30", "Current", None, ">365"]),
              ColumnWrite(12, "DaysOverdue", rows, [3, -2, None, 400], "0")]  # fmt: skip
    spliced, streamed = both(xml, writes, styles)
    assert cells_of(spliced) == cells_of(streamed)
    with zipfile.ZipFile(path) as archive:
        assert ledger in archive.namelist()


FORMULA_ROWS = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>H</t></is></c></row>'
    '<row r="2"><c r="A2"><v>1</v></c><c r="B2" s="1"><f t="shared" ref="B2:B5" si="0">'
    'INDEX(X,ROW()-1,1)</f><v>3</v></c><c r="C2" t="str"><f>"a"&amp;"b"</f><v>ab</v></c></row>'
    '<row r="3"><c r="A3"><v>2</v></c><c r="B3" s="1"><f t="shared" si="0"/><v>4</v></c>'
    '<c r="C3" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
    '<row r="4"><c r="A4"><v>3</v></c><c r="B4" s="1"><f t="shared" si="0"/></c>'
    '<c r="C4" cm="1"><f t="array" ref="C4:C5">SEQ()</f><v>1</v></c></row>'
)


def test_formula_cells_keep_their_formula_on_both_paths(styles):
    """A computed column of a workbook from `new` holds formulas (=INDEX(LedgerColumns...)):
    the fast path keeps each <f> as it is, shared or not, and stores our value as its
    result, text as t="str", exactly as the general path does."""
    import datetime as dt

    writes = [
        ColumnWrite(2, "B", [2, 3, 4], [Decimal("12.50"), "late <&>", None], "0.00"),
        ColumnWrite(3, "C", [2, 3, 4], [dt.date(2026, 11, 30), 7, "x"]),
    ]
    spliced, streamed = both(sheet(FORMULA_ROWS), writes, styles)
    assert cells_of(spliced) == cells_of(streamed)
    found = cells_of(spliced)
    assert found["B2"][:4] == (None, found["B2"][1], "12.50", "INDEX(X,ROW()-1,1)")
    assert found["B3"][0] == "str" and found["B3"][2] == "late <&>"
    assert found["B4"][0] == "str" and found["B4"][2] in ("", None)
    assert found["C3"][:3:2] == (None, "7") and found["C3"][3] == "1/0"
    assert b't="shared" si="0"/>' in spliced  # the shared formula's followers stay followers


def test_a_calculated_formula_is_given_to_cells_holding_none_on_both_paths(styles):
    """A computed column's cells without a formula (a value, an empty cell, a cell missing,
    a new row) get the table's calculated formula with our value as its result; a cell's
    own formula stays, and a column without one is written as values."""
    writes = [
        ColumnWrite(2, "B", [2, 3, 4, 5, 6], ["x", 1, None, Decimal("2.50"), "new"],
                    formula=CALCULATED),
        ColumnWrite(3, "C", [2, 3, 4], [Decimal("10.50"), 7, "y"], "0.00", formula=CALCULATED),
        ColumnWrite(4, "D", [2, 3], [1, 2]),
    ]
    spliced, streamed = both(sheet(ROWS), writes, styles)
    assert cells_of(spliced) == cells_of(streamed)
    found = cells_of(spliced)
    given = CALCULATED
    assert [found[r][3] for r in ("B2", "B3", "B4", "B5", "B6", "C2", "C4")] == [given] * 7
    assert found["B2"][0] == "str" and found["B2"][2] == "x" and found["B3"][:3:2] == (None, "1")
    assert found["B4"][0] == "str" and found["B4"][2] in ("", None)
    assert found["C3"][3] == "A3*2" and found["C3"][2] == "7"  # its own formula stays
    assert found["D2"][3] is None and found["D2"][2] == "1"


@given(st.one_of(st.integers(-10**14, 10**14).map(lambda c: Decimal(c).scaleb(-2)),
                 st.decimals(allow_nan=False, allow_infinity=False, places=3),
                 st.decimals(allow_nan=False, allow_infinity=False)))  # fmt: skip
def test_an_amount_is_written_as_cell_value_writes_it(amount):
    """The writer's fast text for amounts (cents, as the engine gives them) is the text
    cell_value gives, for every Decimal."""
    from xl_addin.workbook.cells import _Filler, cell_value

    filler = _Filler([], None, "S", False)
    assert filler.value_of(amount) == cell_value(amount)


# A later refresh: each row ends with the cells the last refresh wrote, which the fast
# path rewrites by the row's shape (its markup without values and row number).
OLD_CELL = st.sampled_from([
    '<c r="{ref}"/>', '<c r="{ref}" s="2"/>', '<c r="{ref}" s="1"><v>12.5</v></c>',
    '<c r="{ref}" s="2"><v>46000</v></c>', '<c r="{ref}" t="inlineStr"><is><t>1-30</t></is></c>',
    '<c r="{ref}" t="inlineStr"><is><r><t>rich</t></r><r><t> text</t></r></is></c>',
    '<c r="{ref}" t="e"><v>#N/A</v></c>', '<c r="{ref}" s="1"></c>',
    '<c r="{ref}" t="s"><v>0</v></c>',
    '<c r="{ref}"\ts="2"><v>1</v></c>', '<c r="{ref}" s="{number}"><v>1</v></c>',
])  # fmt: skip


@st.composite
def later_rows(draw):
    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>ID</t></is></c></row>']
    for number in range(2, draw(st.integers(3, 12))):
        cells = [f'<c r="A{number}"><v>{number}</v></c>']
        for letter in "CD":
            cells.append(draw(OLD_CELL).format(ref=f"{letter}{number}", number=number))
        if draw(st.integers(0, 5)) == 0:  # the user's own cell after the computed ones
            cells.append(f'<c r="E{number}" s="1"><v>7</v></c>')
        rows.append(f'<row r="{number}">{"".join(cells)}</row>')
    return "".join(rows), number


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(later_rows(), st.lists(values, min_size=22, max_size=22),
       st.lists(st.one_of(st.none(), st.dates(), st.text(max_size=5)), min_size=11,
                max_size=11), st.sampled_from([(None, None), (CALCULATED, None),
                                               (CALCULATED, CALCULATED)]))  # fmt: skip
@example(("".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="C{n}" s="1"><v>1</v></c>'
                 f'<c r="D{n}"/></row>' for n in range(2, 6)), 5),
         [Decimal("0.00"), Decimal("-0.00")] * 11, [None] * 11, (None, None))  # fmt: skip
@example(("".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="C{n}"/><c r="D{n}"/></row>'
                 for n in range(2, 4)), 3),
         [None] * 22, ["\r", "a\rb"] + [None] * 9, (CALCULATED, CALCULATED))  # fmt: skip
def test_a_later_refresh_comes_out_alike(styles, book, amounts, others, formulas):
    rows, last = book
    numbers = list(range(2, last + 1))
    writes = [ColumnWrite(3, "C", numbers, amounts[: len(numbers)], "#,##0.00",
                          formula=formulas[0]),
              ColumnWrite(4, "D", numbers, others[: len(numbers)],
                          formula=formulas[1])]  # fmt: skip
    spliced, streamed = both(sheet(rows), writes, styles)
    assert cells_of(spliced) == cells_of(streamed)


def test_rows_of_many_shapes_fall_back_cell_by_cell(styles):
    """A style per row (a user's colours): past 256 shapes the rows go cell by cell again,
    written alike."""
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>1</v></c><c r="B{n}" s="{n}"><v>2</v></c></row>'
                   for n in range(1, 400))  # fmt: skip
    writes = [ColumnWrite(2, "B", list(range(1, 400)), [Decimal("1.50")] * 399)]
    spliced, streamed = both(sheet(rows), writes, styles)
    assert cells_of(spliced) == cells_of(streamed)


NAN = float("nan")
SETTLED = st.sampled_from([Decimal("0.00"), Decimal("-0.00"), Decimal("0"), None, NAN, 0, "",
                           "Current", dt.date(2026, 12, 1)])  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.one_of(SETTLED, values), SETTLED, SETTLED), min_size=1,
                max_size=25))  # fmt: skip
@example([(Decimal("0.00"), None, NAN), (Decimal("-0.00"), None, NAN)] * 2)
def test_a_first_refresh_of_repeating_rows_comes_out_alike(styles, rows):
    """A first refresh appends the computed cells right of each row; rows with the same
    values (settled items) reuse one row's cells with their own number."""
    numbers = list(range(2, len(rows) + 2))
    xml = sheet("".join(f'<row r="{n}" spans="1:2"><c r="A{n}"><v>{n}</v></c>'
                        f'<c r="B{n}" s="1"><v>1</v></c></row>' for n in numbers))  # fmt: skip
    writes = [ColumnWrite(3 + i, f"H{i}", numbers, [row[i] for row in rows],
                          "#,##0.00" if i == 0 else None, new=True, header_row=1)
              for i in range(3)]  # fmt: skip
    spliced, streamed = both(xml, writes, styles)
    assert cells_of(spliced) == cells_of(streamed)
