"""The .xlsx/.xlsm package: read its parts, replace or add some, copy the rest untouched.

A workbook file is a zip of XML parts tied together by relationships (ECMA-376
Part 2, Open Packaging Conventions). Writing our results means changing a few
parts only: the sheets holding the Customers and Ledger tables, the sheets the
add-in owns (Aging, Contacts, History, Problems) with their tables and chart,
the styles (a number format or a bold font we need), and for a new sheet the
workbook part, its relationships and the content types. Every other part (VBA
project, buttons, the xlwings Lite add-in, pictures, charts, users' sheets and
shapes) is copied as it is, byte for byte.

XML is read and written with lxml; big sheets are streamed row by row
(`stream_sheet`), so memory stays flat however many rows a ledger has.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from xl_addin.errors import WorkbookError

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_TYPE = REL  # relationship types share the namespace's prefix: REL + "/worksheet"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
TABLE_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
DRAWING_TYPE = "application/vnd.openxmlformats-officedocument.drawing+xml"
CHART_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def q(tag: str, namespace: str = MAIN) -> str:
    """A qualified tag name: q("row") is "{...spreadsheetml/2006/main}row"."""
    return f"{{{namespace}}}{tag}"


def parse(data: bytes) -> etree._Element:
    """Parse a (small) part; a DOCTYPE or an entity is refused, never expanded."""
    if b"<!DOCTYPE" in data[:2048] or b"<!ENTITY" in data[:4096]:
        raise WorkbookError("a part of the workbook declares a DOCTYPE: refused")
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as error:
        raise WorkbookError(f"a part of the workbook is not well-formed XML ({error})") from error


def serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


@dataclass(frozen=True, slots=True)
class Relationship:
    id: str
    type: str
    target: str  # the part name, resolved against the source part ("xl/tables/table1.xml")
    external: bool = False


@dataclass(frozen=True, slots=True)
class SheetEntry:
    name: str
    part: str
    rel_id: str


class Package:
    """A workbook package opened for editing. Nothing is written until `save`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
            self._names = [i.filename for i in self._zip.infolist()]
        except (zipfile.BadZipFile, OSError) as error:
            message = f"{self.path.name}: cannot be opened as a workbook ({error})"
            raise WorkbookError(message) from error
        self._changed: dict[str, bytes | Callable[[io.RawIOBase], None]] = {}
        self._removed: set[str] = set()
        self._xml: dict[str, etree._Element] = {}  # small parts parsed (read or edited)
        self._edited: set[str] = set()  # which of them changed
        root = self.relationships("")
        office = [r for r in root if r.type.endswith("/officeDocument")]
        if not office:
            raise WorkbookError(f"{self.path.name}: the package has no workbook part")
        self.workbook_part = office[0].target

    # --- reading ------------------------------------------------------------------------

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def refuse_doctypes(self) -> None:
        """WorkbookError naming the first XML part that declares a DOCTYPE (or an entity).

        Excel never writes one; a DOCTYPE can only be a hostile or broken file, and the
        parsers reading the parts must never meet one (entity expansion, external files).
        Only each part's beginning is read: a declaration must come before the root."""
        for info in self._zip.infolist():
            if not info.filename.endswith((".xml", ".rels", ".vml")) and \
                    info.filename != "[Content_Types].xml":
                continue
            try:
                with self._zip.open(info) as stream:
                    head = stream.read(1 << 16)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
                raise WorkbookError(
                    f"{self.path.name}: the part {info.filename} cannot be read ({error})"
                ) from error
            if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                raise WorkbookError(
                    f"{self.path.name}: the part {info.filename} declares a DOCTYPE; Excel "
                    "never writes one: refused"
                )

    def exists(self, part: str) -> bool:
        if part in self._removed:
            return False
        return part in self._changed or part in self._edited or part in self._names

    def read(self, part: str) -> bytes:
        if part in self._edited:
            return serialise(self._xml[part])
        changed = self._changed.get(part)
        if isinstance(changed, bytes):
            return changed
        try:
            return self._zip.read(part)
        except KeyError as error:
            raise WorkbookError(f"{self.path.name}: the package has no part {part}") from error
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise WorkbookError(
                f"{self.path.name}: the part {part} is damaged and cannot be read ({error})"
            ) from error

    def open(self, part: str):
        """A stream of a part's bytes as stored (for parts too big to hold)."""
        return self._zip.open(part)

    def xml(self, part: str) -> etree._Element:
        """A small part parsed, to read (see `edit` to change it)."""
        if part not in self._xml:
            try:
                self._xml[part] = parse(self.read(part))
            except WorkbookError as error:
                if str(error).startswith(self.path.name):
                    raise
                raise WorkbookError(f"{self.path.name}: the part {part}: {error}") from None
        return self._xml[part]

    def edit(self, part: str) -> etree._Element:
        """A small part parsed for editing; its changes are saved with the package."""
        root = self.xml(part)
        self._edited.add(part)
        return root

    def relationships(self, source: str) -> list[Relationship]:
        """The relationships of a part ("" for the package itself)."""
        rels = rels_part(source)
        if not self.exists(rels):
            return []
        base = posixpath.dirname(source)
        out = []
        for rel in self.xml(rels).iter(q("Relationship", PKG_REL)):
            external = rel.get("TargetMode") == "External"
            target = rel.get("Target", "")
            if not external:
                target = _resolve(base, target)
            out.append(Relationship(rel.get("Id", ""), rel.get("Type", ""), target, external))
        return out

    def sheets(self) -> list[SheetEntry]:
        """The workbook's sheets in tab order: name, part, relationship id."""
        targets = {r.id: r.target for r in self.relationships(self.workbook_part)}
        out = []
        for sheet in self.xml(self.workbook_part).iter(q("sheet")):
            rel_id = sheet.get(q("id", REL), "")
            if rel_id in targets:
                out.append(SheetEntry(sheet.get("name", ""), targets[rel_id], rel_id))
        return out

    def sheet(self, name: str) -> SheetEntry | None:
        """A sheet by name, matched like Excel (case-insensitive)."""
        return next((s for s in self.sheets() if s.name.casefold() == name.casefold()), None)

    def stamp(self, part: str) -> tuple[int, int] | None:
        """A stored part's CRC-32 and size, from the zip directory (the part is not read)."""
        try:
            info = self._zip.getinfo(part)
        except KeyError:
            return None
        return info.CRC, info.file_size

    def date1904(self) -> bool:
        pr = self.xml(self.workbook_part).find(q("workbookPr"))
        return pr is not None and pr.get("date1904", "0") in ("1", "true")

    def tables(self) -> Iterator[tuple[SheetEntry, str, etree._Element]]:
        """Every table: its sheet, its part and its parsed XML."""
        for sheet in self.sheets():
            for rel in self.relationships(sheet.part):
                if rel.type.endswith("/table") and self.exists(rel.target):
                    yield sheet, rel.target, self.xml(rel.target)

    # --- writing ------------------------------------------------------------------------

    def put(self, part: str, data: bytes | Callable[[io.RawIOBase], None]) -> None:
        """Replace or add a part: its bytes, or a function that streams them into a file."""
        self._xml.pop(part, None)
        self._edited.discard(part)
        self._removed.discard(part)
        self._changed[part] = data

    def remove(self, part: str) -> None:
        """Remove a part, its relationships, and its content-type override."""
        self._removed.add(part)
        self._changed.pop(part, None)
        self._xml.pop(part, None)
        self._edited.discard(part)
        rels = rels_part(part)
        if self.exists(rels):
            self.remove(rels)
        types = self.edit("[Content_Types].xml")
        for override in list(types.iter(q("Override", CONTENT_TYPES))):
            if override.get("PartName") == "/" + part:
                types.remove(override)

    def remove_with_dependents(self, part: str) -> None:
        """Remove a part and every part only it points to (a drawing's charts, ...)."""
        for rel in self.relationships(part):
            if not rel.external and self.exists(rel.target):
                self.remove_with_dependents(rel.target)
        self.remove(part)

    def add_relationship(
        self, source: str, rel_type: str, target: str, *, literal: bool = False
    ) -> str:
        """Add a relationship from `source` to the part `target`; return its id.

        `literal`: `target` is written as given (a place in the workbook, "#Start!B17").
        """
        rels = rels_part(source)
        if self.exists(rels):
            root = self.edit(rels)
        else:
            root = etree.Element(q("Relationships", PKG_REL), nsmap={None: PKG_REL})
            self._xml[rels] = root
            self._edited.add(rels)
            self._removed.discard(rels)
        used = {r.get("Id") for r in root}
        n = len(used) + 1
        while f"rId{n}" in used:
            n += 1
        rel = etree.SubElement(root, q("Relationship", PKG_REL))
        rel.set("Id", f"rId{n}")
        rel.set("Type", rel_type)
        if literal:
            rel.set("Target", target)
        else:
            rel.set("Target", posixpath.relpath(target, posixpath.dirname(source) or "."))
        return f"rId{n}"

    def set_content_type(self, part: str, content_type: str) -> None:
        types = self.edit("[Content_Types].xml")
        for override in types.iter(q("Override", CONTENT_TYPES)):
            if override.get("PartName") == "/" + part:
                override.set("ContentType", content_type)
                return
        override = etree.SubElement(types, q("Override", CONTENT_TYPES))
        override.set("PartName", "/" + part)
        override.set("ContentType", content_type)

    def free_part_name(self, pattern: str) -> str:
        """The first unused part name of a pattern such as "xl/tables/table{}.xml"."""
        n = 1
        while self.exists(pattern.format(n)):
            n += 1
        return pattern.format(n)

    def save(self, target: Path) -> None:
        """Write the package to `target`: changed parts anew, the others as they were."""
        # Parsed parts go last: streaming a sheet may still add to them (a cell format
        # in styles.xml). The content types are known before and stay first.
        infos = {i.filename: i for i in self._zip.infolist()}
        first = [n for n in infos if n not in self._removed and n not in self._later()]
        added = [n for n in self._changed if n not in infos and n not in self._removed]
        last = [n for n in infos if n in self._later()]
        last += sorted(n for n in self._edited if n not in infos and n not in self._removed)
        with (zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as out,
              open(self.path, "rb") as raw):  # fmt: skip
            for name in [*first, *added, *last]:
                info = infos.get(name)
                if info is not None and name not in self._edited and name not in self._changed:
                    if not _copy_compressed(raw, info, out):
                        _copy(self._zip, info, out)
                else:
                    self._write(out, name, info.date_time if info else (1980, 1, 1, 0, 0, 0))

    def _later(self) -> set[str]:
        """Parts written after the others: any parsed part may still be edited while a
        streamed part is written (styles.xml gains a cell format)."""
        return {n for n in self._xml if n != "[Content_Types].xml" and n not in self._removed}

    def _write(self, out: zipfile.ZipFile, name: str, date_time) -> None:
        info = zipfile.ZipInfo(name, date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        if name in self._edited:
            out.writestr(info, serialise(self._xml[name]))
            return
        data = self._changed[name]
        if isinstance(data, bytes):
            out.writestr(info, data)
        else:
            # A streamed part is a big sheet: the fastest deflate level costs a quarter of
            # the time of the default for a file a quarter larger (Excel recompresses it).
            info._compresslevel = 1
            with out.open(info, "w", force_zip64=True) as stream:
                data(stream)


def _copy_compressed(raw: BinaryIO, info: zipfile.ZipInfo, out: zipfile.ZipFile) -> bool:
    """Copy a member as it is stored, its compressed bytes untouched; False (nothing
    written) where that is not safe: an encrypted member, a local header that does not
    match, or a zipfile without the internals used here.

    zipfile has no raw copy: reading a member inflates it and writing deflates it again,
    about 0.7 s for the 47 MB Ledger sheet of a 100,000-row ledger that letters and
    statements leave as it is (7 s at a million rows). So the entry is written here as
    `ZipFile.mkdir` writes a directory's (header at the end of the archive, then the
    data, then the entry listed for the central directory), with the member's own CRC and
    sizes: what is read back is what was there, byte for byte."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                         zipfile.ZIP_DEFLATED):  # fmt: skip
        return False
    if not all(hasattr(out, a) for a in ("_lock", "_seekable", "start_dir", "_didModify",
                                         "filelist", "NameToInfo", "_writing")):  # fmt: skip
        return False
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        return False
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    copy.CRC, copy.compress_size, copy.file_size = info.CRC, info.compress_size, info.file_size
    copy.flag_bits = info.flag_bits & 0x800  # UTF-8 name kept; sizes now in the header
    zip64 = max(info.file_size, info.compress_size) > zipfile.ZIP64_LIMIT
    with out._lock:
        if out._writing:
            return False
        if out._seekable:
            out.fp.seek(out.start_dir)
        copy.header_offset = out.fp.tell()
        out._didModify = True
        out.fp.write(copy.FileHeader(zip64))
        raw.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
        left = info.compress_size
        while left:
            chunk = raw.read(min(left, 1 << 20))
            if not chunk:
                raise WorkbookError(f"{info.filename}: the part ends before its size")
            out.fp.write(chunk)
            left -= len(chunk)
        out.filelist.append(copy)
        out.NameToInfo[copy.filename] = copy
        out.start_dir = out.fp.tell()
    return True


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader


def _copy(source: zipfile.ZipFile, info: zipfile.ZipInfo, out: zipfile.ZipFile) -> None:
    """Copy a member's content unchanged, with its compression method, in chunks (the
    data inflated and deflated again: `_copy_compressed` where it cannot)."""
    copy = zipfile.ZipInfo(info.filename, info.date_time)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    with source.open(info) as read, out.open(copy, "w", force_zip64=info.file_size > 2**31) as w:
        while chunk := read.read(1 << 20):
            w.write(chunk)


def rels_part(part: str) -> str:
    """The relationships part of a part ("" is the package: _rels/.rels)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(base, target))
