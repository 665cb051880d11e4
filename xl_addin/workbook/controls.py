"""Carry a sheet's buttons and shapes across an openpyxl round trip.

openpyxl drops what it does not model: the Forms buttons of the Start sheet
(the drawing, the VML and the ctrlProps parts, and the sheet's <controls>), and
shapes. For every sheet of the original that has them and no drawing in the
saved file, the parts are copied over under fresh names, related again from the
saved sheet, declared in [Content_Types].xml, and the sheet's <drawing>,
<legacyDrawing> and <controls> elements are put back in schema order with their
new relationship ids. Sheets whose drawing openpyxl rewrote itself (a chart) are
left as openpyxl wrote them.
"""

from __future__ import annotations

import posixpath
import re
import zipfile

from openpyxl.packaging.relationship import get_dependents, get_rels_path

_CARRIED = ("/drawing", "/vmlDrawing", "/ctrlProp")
_ELEMENTS = re.compile(
    rb"<drawing\b[^>]*/>|<legacyDrawing\b[^>]*/>"
    rb"|<mc:AlternateContent\b[^>]*>\s*<mc:Choice\b[^>]*>\s*<controls>.*?</controls>"
    rb"\s*</mc:Choice>\s*</mc:AlternateContent>|<controls>.*?</controls>",
    re.S,
)
_RID = re.compile(rb'r:id="(rId\d+)"')
_BEFORE = (b"<legacyDrawingHF", b"<picture", b"<oleObjects", b"<webPublishItems",
           b"<tableParts", b"<extLst", b"</worksheet>")  # fmt: skip
_TYPES = {
    "/drawing": (b"xml", b"application/vnd.openxmlformats-officedocument.drawing+xml"),
    "/ctrlProp": (b"xml", b"application/vnd.ms-excel.controlproperties+xml"),
}
_VML = b"application/vnd.openxmlformats-officedocument.vmlDrawing"
_PREFIXES = {
    b"mc": b"http://schemas.openxmlformats.org/markup-compatibility/2006",
    b"xdr": b"http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    b"x14": b"http://schemas.microsoft.com/office/spreadsheetml/2009/9/main",
}
_R_NS = b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def carry_controls(original: zipfile.ZipFile, saved: dict[str, bytes], sheets) -> None:
    """Copy buttons and shapes of `original` into `saved` (part name -> bytes), in place.

    `sheets` is [(sheet name, part name)] of each package, e.g. from writer._sheet_parts:
    given as (original_parts, saved_parts).
    """
    original_parts, saved_parts = sheets
    saved_by_name = dict(saved_parts)
    for name, part in original_parts:
        target = saved_by_name.get(name)
        if target is None or target not in saved:
            continue
        rels = get_rels_path(part)
        if rels not in original.namelist():
            continue
        carried = [r for r in get_dependents(original, rels) if r.Type.endswith(_CARRIED)]
        if not carried or b"<drawing " in saved[target]:
            continue
        _carry_sheet(original, saved, part, target, carried)


def _carry_sheet(original, saved, part, target, carried) -> None:
    source_xml = original.read(part)
    target_rels = get_rels_path(target)
    rels_xml = saved.get(target_rels, b"")
    if not rels_xml:
        rels_xml = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
                    b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                    b"</Relationships>")  # fmt: skip
    # openpyxl (keep_vba) keeps the VML but not the rest: its <legacyDrawing> makes way.
    for found in re.finditer(rb'<legacyDrawing\b[^>]*r:id="([^"]+)"[^>]*/>', saved[target]):
        rels_xml = re.sub(rb'<Relationship\b[^>]*Id="' + re.escape(found.group(1)) + rb'"[^>]*/>',
                          b"", rels_xml)  # fmt: skip
    saved[target] = re.sub(rb"<legacyDrawing\b[^>]*/>", b"", saved[target])
    used = {int(n) for n in re.findall(rb'Id="rId(\d+)"', rels_xml)}
    new_ids: dict[bytes, bytes] = {}
    entries = b""
    for relation in carried:
        source_part = relation.target  # resolved by openpyxl against the sheet's folder
        copied = _copy_part(original, saved, source_part)
        number = max(used, default=0) + 1
        used.add(number)
        new_ids[relation.Id.encode()] = f"rId{number}".encode()
        relative = posixpath.relpath(copied, posixpath.dirname(target))
        entries += (f'<Relationship Id="rId{number}" Type="{relation.Type}" '
                    f'Target="{relative}"/>').encode()  # fmt: skip
    saved[target_rels] = rels_xml.replace(b"</Relationships>", entries + b"</Relationships>")
    elements = b"".join(
        _RID.sub(lambda m: b'r:id="' + new_ids.get(m.group(1), m.group(1)) + b'"', found.group())
        for found in _ELEMENTS.finditer(source_xml)
    )
    xml = saved[target]
    at = min((xml.find(tag) for tag in _BEFORE if xml.find(tag) >= 0), default=len(xml))
    xml = xml[:at] + elements + xml[at:]
    root = re.search(rb"<worksheet\b[^>]*>", xml)
    if root and b"xmlns:r=" not in root.group():
        xml = xml[: root.end() - 1] + b" " + _R_NS + xml[root.end() - 1 :]
    for prefix, uri in _PREFIXES.items():
        root = re.search(rb"<worksheet\b[^>]*>", xml)
        if root and prefix + b":" in elements and b"xmlns:" + prefix + b"=" not in root.group():
            declaration = b" xmlns:" + prefix + b'="' + uri + b'"'
            xml = xml[: root.end() - 1] + declaration + xml[root.end() - 1 :]
    saved[target] = xml


def _copy_part(original: zipfile.ZipFile, saved: dict[str, bytes], part: str) -> str:
    """Copy a part (and, for a drawing, what it relates to) under a name not yet taken."""
    data = original.read(part)
    if saved.get(part) == data:
        return part  # openpyxl kept this one as it was
    folder, name = posixpath.split(part)
    stem, extension = posixpath.splitext(name)
    copied, n = part, 1
    while copied in saved:
        copied = posixpath.join(folder, f"{stem}_kept{n}{extension}")
        n += 1
    saved[copied] = data
    rels = get_rels_path(part)
    if rels in original.namelist():
        saved[get_rels_path(copied)] = original.read(rels)
    _declare(saved, copied)
    return copied


def _declare(saved: dict[str, bytes], part: str) -> None:
    types = saved["[Content_Types].xml"]
    if part.endswith(".vml"):
        if b'Extension="vml"' not in types:
            types = types.replace(b"<Default ", b'<Default Extension="vml" ContentType="' + _VML
                                  + b'"/><Default ', 1)  # fmt: skip
    else:
        kind = next((t for key, t in _TYPES.items() if key[1:].lower() in part.lower()), None)
        if kind is not None and f'PartName="/{part}"'.encode() not in types:
            override = f'<Override PartName="/{part}" ContentType="'.encode() + kind[1] + b'"/>'
            types = types.replace(b"</Types>", override + b"</Types>")
    saved["[Content_Types].xml"] = types
