"""Which Python the workbook's xlwings runs: the Interpreter_Win and Interpreter_Mac rows.

xlwings' VBA looks for `Interpreter_Win` (Windows) or `Interpreter_Mac` (macOS) on the
workbook's xlwings.conf sheet first, then in an xlwings.conf file beside the workbook
and in the user's; with none it runs the first `python` on the PATH (`pythonw` for the
functions), which is not the Python of a virtual environment. A path that does not exist
on the machine is no fall-back there: RunPython stops with "Could not find Interpreter!".
So a path goes under the key of the system it is a path of, and the Python that builds
a workbook on Linux (where no desktop Excel runs) is recorded under neither.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

WINDOWS = "Interpreter_Win"
MACOS = "Interpreter_Mac"
# C:\... or C:/..., \\server\share\..., or %LOCALAPPDATA%\... (xlwings expands %VARIABLES%)
WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\|%\w+%)")
# /Users/... , or $HOME/... (xlwings on macOS expands a leading $VARIABLE)
MACOS_PATH = re.compile(r"^(?:/|\$\w+/)")


def key_for(path: str) -> str:
    """The xlwings.conf key a full interpreter path belongs under; ValueError if it is not one."""
    if WINDOWS_PATH.match(path):
        return WINDOWS
    if MACOS_PATH.match(path):
        return MACOS
    raise ValueError(
        f"{path!r} is not a full path: give one as Windows (C:\\...\\python.exe) or macOS "
        "(/Users/.../bin/python) writes it"
    )


def running(platform: str, executable: str | None) -> dict[str, str]:
    """The row for the Python running now, under its system's key (none where Excel is not)."""
    key = {"win32": WINDOWS, "darwin": MACOS}.get(platform)
    return {key: executable} if key and executable else {}


def interpreter_rows(
    paths: Sequence[str] | None = None,
    *,
    platform: str = sys.platform,
    executable: str | None = sys.executable,
) -> dict[str, str]:
    """The interpreter rows for xlwings.conf: key -> path.

    `paths` None records the running Python; an empty sequence records none; otherwise
    each path goes under its system's key, at most one a system.
    """
    if paths is None:
        return running(platform, executable)
    rows: dict[str, str] = {}
    for path in (p.strip() for p in paths):
        key = key_for(path)
        if key in rows:
            raise ValueError(f"two {key} paths: {rows[key]!r} and {path!r}")
        rows[key] = path
    return rows
