"""Saving a package copies every part it did not change as it is stored: the same
compressed bytes, CRC and sizes, whatever way the source wrote them (deflated, stored,
with a data descriptor after the data, a non-ASCII name), and the archive reads back
whole in zipfile, openpyxl and calamine."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import openpyxl
import python_calamine as calamine

from tests.books import make_book
from xl_addin.workbook.package import Package

PICTURE = bytes(range(256)) * 400  # 100 KB that deflate shrinks
TEXT = "客户对账单 statement of account\n".encode() * 3000


def stored_bytes(path: Path) -> dict[str, bytes]:
    """Each member's bytes as stored in the archive (compressed, not inflated)."""
    out = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
        for info in archive.infolist():
            raw.seek(info.header_offset)
            header = raw.read(30)
            name_length, extra_length = struct.unpack("<HH", header[26:30])
            raw.seek(info.header_offset + 30 + name_length + extra_length)
            out[info.filename] = raw.read(info.compress_size)
    return out


def awkward_copy(source: Path, target: Path) -> None:
    """The workbook with members written in every way a tool may write them: streamed to
    a pipe-like file (sizes in a data descriptor after the data), deflated at level 1
    (not the default a copy deflating again would use), stored, non-ASCII."""

    class Unseekable(io.RawIOBase):
        def __init__(self, sink):
            self.sink = sink

        def writable(self):
            return True

        def write(self, data):
            return self.sink.write(data)

    stored = zipfile.ZipInfo("xl/media/stored.bin", (2026, 11, 30, 12, 0, 0))
    stored.compress_type = zipfile.ZIP_STORED
    with (zipfile.ZipFile(source) as old, open(target, "wb") as sink,
          zipfile.ZipFile(Unseekable(sink), "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new):
        for info in old.infolist():
            new.writestr(info, old.read(info))
        new.writestr("xl/media/image1.bin", PICTURE)
        new.writestr(stored, PICTURE)
        new.writestr("customXml/对账单.txt", TEXT)


def test_unchanged_parts_are_copied_as_stored(tmp_path):
    source = tmp_path / "awkward.xlsx"
    awkward_copy(make_book(tmp_path / "plain.xlsx"), source)
    with zipfile.ZipFile(source) as archive:
        assert any(i.flag_bits & 0x08 for i in archive.infolist())  # data descriptors
    target = tmp_path / "saved.xlsx"
    with Package(source) as package:
        settings = package.sheet("Settings").part
        package.put(settings, package.read(settings))  # one part written anew
        package.save(target)

    before, after = stored_bytes(source), stored_bytes(target)
    assert set(before) == set(after)
    copied = set(before) - {settings}
    assert all(after[name] == before[name] for name in copied)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target) as new:
        assert new.testzip() is None  # every CRC checks
        assert all(new.read(name) == old.read(name) for name in before)
        assert new.read("customXml/对账单.txt") == TEXT
        assert new.getinfo("xl/media/stored.bin").compress_type == zipfile.ZIP_STORED
        assert not any(i.flag_bits & 0x08 for i in new.infolist())
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["Settings", "Customers", "Ledger"]
    rows = calamine.CalamineWorkbook.from_path(str(target)).get_sheet_by_name("Settings")
    assert rows.to_python()[1][0] == "AsOfDate"
