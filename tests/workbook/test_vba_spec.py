"""The VBA project as [MS-OVBA] asks a writer to write it: nothing compiled for Office to trust.

Read back with olefile and oletools' decompression (not the library that wrote it):
the `_VBA_PROJECT` stream is its seven bytes with Version 0xFFFF (2.3.4.1), every
MODULEOFFSET in the dir stream is 0 (2.3.4.2.3.2.5), so each module stream is its
compressed source and nothing before it (2.3.4.3), and that source is what we wrote.
"""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
from pathlib import Path

import olefile
import pytest
from oletools.olevba import decompress_stream

from xl_addin.services.new_workbook import new_workbook
from xl_addin.workbook import vba

AS_OF = dt.date(2026, 11, 30)
PROJECT_VERSION = 0x0009  # its Size field says 4, and 6 bytes follow
DIR_END, MODULE_NAME, MODULE_STREAM, MODULE_OFFSET = 0x0010, 0x0019, 0x001A, 0x0031


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("spec") / "branch.xlsm"
    new_workbook(path, branch="LDN", as_of=AS_OF)
    return project_of(path)


def project_of(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/vbaProject.bin")


def dir_records(project: bytes) -> list[tuple[int, bytes]]:
    """The dir stream's records (2.3.4.2) as (id, data), up to its terminator."""
    with olefile.OleFileIO(project) as ole:
        raw = bytes(decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
    records, at = [], 0
    while True:
        record, size = struct.unpack_from("<HI", raw, at)
        size = 6 if record == PROJECT_VERSION else size
        records.append((record, raw[at + 6 : at + 6 + size]))
        at += 6 + size
        if record == DIR_END:
            return records


def module_streams(project: bytes) -> dict[str, tuple[int, bytes]]:
    """Module name -> (its MODULEOFFSET, its whole stream)."""
    found, name, stream = {}, "", ""
    with olefile.OleFileIO(project) as ole:
        for record, data in dir_records(project):
            if record == MODULE_NAME:
                name = data.decode("cp1252")
            elif record == MODULE_STREAM:
                stream = data.decode("cp1252")
            elif record == MODULE_OFFSET:
                found[name] = (struct.unpack("<I", data)[0], ole.openstream(f"VBA/{stream}").read())
    return found


def source(stream: bytes, offset: int = 0) -> str:
    text = bytes(decompress_stream(bytearray(stream[offset:]))).decode("cp1252")
    return text.replace("\r\n", "\n")


def vba_project_stream(project: bytes) -> bytes:
    with olefile.OleFileIO(project) as ole:
        return ole.openstream("VBA/_VBA_PROJECT").read()


def test_the_vba_project_stream_says_version_ffff_and_carries_no_cache(built):
    stream = vba_project_stream(built)
    reserved1, version, reserved2 = struct.unpack_from("<HHB", stream)
    assert (reserved1, version, reserved2) == (0x61CC, 0xFFFF, 0x00)
    assert len(stream) == 7  # PerformanceCache "MUST NOT be present on write"
    with olefile.OleFileIO(built) as ole:
        assert not [e for e in ole.listdir() if e[-1].upper().startswith("__SRP_")]


def test_every_module_stream_is_its_source_and_the_source_is_what_we_wrote(built):
    modules = module_streams(built)
    assert {"ThisWorkbook", "Sheet1", "xlwings", "Dictionary", "xlwings_udfs", "Buttons"} <= set(
        modules
    )
    assert {offset for offset, _ in modules.values()} == {0}
    for name, (_, stream) in modules.items():
        assert stream[0] == 0x01, name  # a CompressedContainer's SignatureByte, at byte 0
        assert source(stream).startswith(f'Attribute VB_Name = "{name}"')
    for module in vba.all_modules():
        written = source(modules[module.name][1])
        assert written.rstrip() == module.source.replace("\r\n", "\n").rstrip(), module.name


def test_a_project_excel_saved_with_compiled_code_keeps_its_source_and_loses_the_code():
    excel_saved = project_of(vba.standalone_workbook())  # xlwings' quickstart, saved by Excel
    before = module_streams(excel_saved)
    assert any(offset for offset, _ in before.values())
    cleaned = vba.without_caches(excel_saved)
    after = module_streams(cleaned)
    assert after.keys() == before.keys()
    for name, (offset, stream) in before.items():
        assert after[name] == (0, stream[offset:])
        assert source(after[name][1]) == source(stream, offset)
    # Only the offsets changed in the dir stream: every other record is as Excel wrote it.
    drop_offsets = lambda records: [r for r in records if r[0] != MODULE_OFFSET]  # noqa: E731
    assert drop_offsets(dir_records(cleaned)) == drop_offsets(dir_records(excel_saved))
    assert vba_project_stream(cleaned) == vba.VBA_PROJECT_STREAM
    assert vba.without_caches(cleaned) == cleaned  # nothing left to take out
