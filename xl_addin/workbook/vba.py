"""The VBA project of the branch workbook: xlwings (standalone), the UDF wrappers, the buttons.

- `xlwings` and its `Dictionary` class come from the installed xlwings package's
  standalone quickstart workbook, so the VBA always matches the Python package and
  its DLL (xlwings is pinned exactly in constraints.txt); no add-in is needed.
- `xlwings_udfs` is written by xlwings' own wrapper generator over xl_addin.udfs
  (see xl_addin/vba_wrapper.py), so the Excel signatures always match the functions.
- `Buttons` is ours, kept as text in workbook_templates/vba/Buttons.bas: one-line
  Subs that RunPython an entry point of xl_addin.macros.

The project is written with pyopenvba (pure Python, maintained; it writes
modules of any size, which ms-ovba 0.0.1 does not), then put in the shape
[MS-OVBA] asks of a writer (`without_caches`): Office trusts a performance cache
only when the project's version is its own, so the version is 0xFFFF and no
compiled code is left for it to trust; Excel compiles the modules' source on open.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import xlwings
from pyopenvba import ExcelFile
from pyopenvba.cfb import CFB
from pyopenvba.vba import compress, parse_vba_project, serialize_dir_stream

from xl_addin.errors import WorkbookError

VBA_FOLDER = Path(__file__).resolve().parents[2] / "workbook_templates" / "vba"
XLWINGS_MODULES = ("xlwings", "Dictionary")  # standard module, class module
RUN_PYTHON = re.compile(r'RunPython\s+"([^"]*)"')
SUB = re.compile(r"^\s*(?:Public\s+)?Sub\s+(\w+)\s*\(", re.M | re.I)
# [MS-OVBA] 2.3.4.1 on write: Reserved1 0x61CC, Version 0xFFFF, Reserved2 0x00, Reserved3
# as the spec's example (3.1.1) writes it, and no PerformanceCache.
VBA_PROJECT_STREAM = b"\xcc\x61\xff\xff\x00\x01\x00"


@dataclass(frozen=True, slots=True)
class Module:
    name: str
    source: str
    is_class: bool = False


def standalone_workbook() -> Path:
    return Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"


def xlwings_modules() -> list[Module]:
    """The xlwings VBA modules, as the installed package ships them for standalone use."""
    with ExcelFile(standalone_workbook()) as book:
        by_name = {m.name: m for m in book.vba_project().modules}
        return [
            Module(name, by_name[name].source, name == "Dictionary") for name in XLWINGS_MODULES
        ]


def xlwings_references() -> list:
    """The library references the standalone xlwings project declares (Office, MSForms)."""
    with ExcelFile(standalone_workbook()) as book:
        return list(book.references())


def udf_wrapper_module() -> Module:
    """Run xlwings' wrapper generator over xl_addin.udfs (in a process of its own)."""
    done = subprocess.run(
        [sys.executable, "-m", "xl_addin.vba_wrapper"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise WorkbookError(f"xlwings could not write the function wrappers: {done.stderr[-400:]}")
    return Module("xlwings_udfs", done.stdout)


def buttons_module() -> Module:
    return Module("Buttons", (VBA_FOLDER / "Buttons.bas").read_text(encoding="utf-8"))


def all_modules() -> list[Module]:
    return [*xlwings_modules(), udf_wrapper_module(), buttons_module()]


def subs(source: str) -> list[str]:
    """The Sub names a module defines."""
    return SUB.findall(source)


def run_python_commands(source: str) -> dict[str, str]:
    """Sub name -> the Python command its RunPython line runs."""
    commands = {}
    for block in re.split(r"(?im)^\s*End\s+Sub\b", source):
        names = subs(block)
        command = RUN_PYTHON.search(block)
        if names and command:
            commands[names[-1]] = command.group(1)
    return commands


def check_command(command: str) -> str:
    """Return the function a RunPython command calls ("module.function"), or raise ValueError."""
    tree = ast.parse(command)
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    if len(calls) != 1 or not isinstance(calls[0].func, ast.Attribute):
        raise ValueError(f"{command!r} does not call one module function")
    target = calls[0].func
    if not isinstance(target.value, ast.Name) or target.value.id not in aliases:
        raise ValueError(f"{command!r} calls a module it does not import")
    return f"{aliases[target.value.id]}.{target.attr}"


def without_caches(project: bytes) -> bytes:
    """Return a vbaProject.bin as [MS-OVBA] says to write one, with every module's source kept.

    - `_VBA_PROJECT` is its seven bytes with Version 0xFFFF (2.3.4.1): a version other
      than Office's own tells it to ignore every performance cache (1.6);
    - a module stream that starts with compiled code (the document modules of the
      project template Excel saved) is cut to its compressed source, and its MODULEOFFSET
      in the dir stream becomes 0 (2.3.4.3, 2.3.4.2.3.2.5);
    - no SRP stream (2.2.6) is left.
    """
    cfb = CFB.from_bytes(project)
    parsed = parse_vba_project(cfb)
    cached = [module for module in parsed.modules if module.text_offset]
    for module in cached:
        stream = cfb.get_stream_in_storage("VBA", module.stream_name)
        cfb.write_stream_in_storage("VBA", module.stream_name, stream[module.text_offset :])
        module.text_offset, module.prefix_bytes = 0, b""
    if cached:
        cfb.write_stream_in_storage("VBA", "dir", compress(serialize_dir_stream(parsed)))
    cfb.write_stream_in_storage("VBA", "_VBA_PROJECT", VBA_PROJECT_STREAM)
    cfb.drop_streams_in_storage("VBA", lambda name: name.upper().startswith("__SRP_"))
    return cfb.to_bytes()
