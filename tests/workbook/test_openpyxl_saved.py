"""A workbook a user's own script once saved with openpyxl (issue 13: "Unknown relationship:
anysvml" after our next write): our writers keep what openpyxl wrote, relationship ids
included, and the workbook still opens everywhere after letters have been issued."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import openpyxl
import python_calamine as calamine

from xl_addin.services.demo_data import make_demo_data
from xl_addin.services.letters import LettersResult, run_letters
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.refresh import RefreshResult, refresh

AS_OF = dt.date(2026, 11, 30)


def test_an_xlsm_saved_by_openpyxl_survives_refresh_and_letters(tmp_path):
    data = make_demo_data(AS_OF, 20)
    path = tmp_path / "branch.xlsm"
    new_workbook(path, language="en", branch="SH", as_of=AS_OF, customers=data.customers,
                 ledger=data.ledger, settings={**data.settings, "Language": "en"})  # fmt: skip
    book = openpyxl.load_workbook(path, keep_vba=True)  # the user's script
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        vba = archive.read("xl/vbaProject.bin")
        start_rels = archive.read("xl/worksheets/_rels/sheet1.xml.rels")
    assert b'Id="anysvml"' in start_rels  # openpyxl's id for the buttons' drawing

    assert isinstance(refresh(path), RefreshResult)
    issued = run_letters(path, as_of=AS_OF, out=tmp_path / "letters")
    assert isinstance(issued, LettersResult) and issued.issued.documents

    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert archive.read("xl/vbaProject.bin") == vba
        for name in archive.namelist():  # every r:id a sheet uses has its relationship
            if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
                continue
            used = set(re.findall(rb'r:id="([^"]+)"', archive.read(name)))
            rels = name.replace("worksheets/", "worksheets/_rels/") + ".rels"
            known = set(re.findall(rb'Id="([^"]+)"', archive.read(rels))) if (
                rels in archive.namelist()) else set()  # fmt: skip
            assert used <= known, (name, used - known)
    reopened = openpyxl.load_workbook(path, keep_vba=True)
    assert "History" in reopened.sheetnames and reopened["History"].max_row > 3
    rows = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Contacts")
    assert len(rows.to_python()) > 3
