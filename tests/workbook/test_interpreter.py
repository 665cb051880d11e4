"""Which Python the workbook's xlwings runs: Interpreter_Win or Interpreter_Mac, or none."""

from __future__ import annotations

import pytest

from xl_addin.workbook.interpreter import MACOS, WINDOWS, interpreter_rows, key_for

VENV_WIN = r"C:\Users\ana\credit\.venv\Scripts\python.exe"
VENV_MAC = "/Users/ana/credit/.venv/bin/python"


@pytest.mark.parametrize(
    ("platform", "executable", "rows"),
    [
        ("win32", VENV_WIN, {WINDOWS: VENV_WIN}),
        ("darwin", VENV_MAC, {MACOS: VENV_MAC}),
        # No desktop Excel on Linux: its path would stop RunPython wherever the book opens.
        ("linux", "/home/ana/credit/.venv/bin/python", {}),
        ("win32", "", {}),  # an embedded Python that cannot name itself
    ],
)
def test_by_default_the_running_python_under_its_systems_key(platform, executable, rows):
    assert interpreter_rows(platform=platform, executable=executable) == rows


def test_none_when_told_so_even_on_windows():
    assert interpreter_rows((), platform="win32", executable=VENV_WIN) == {}


@pytest.mark.parametrize(
    ("path", "key"),
    [
        (VENV_WIN, WINDOWS),
        ("D:/envs/credit/python.exe", WINDOWS),
        (r"\\fileserver\python\credit\python.exe", WINDOWS),
        (r"%LOCALAPPDATA%\credit\.venv\Scripts\python.exe", WINDOWS),
        (VENV_MAC, MACOS),
        ("$HOME/credit/.venv/bin/python", MACOS),
    ],
)
def test_a_given_path_goes_under_the_key_of_the_system_it_is_a_path_of(path, key):
    assert key_for(path) == key
    assert interpreter_rows([path], platform="linux", executable="/usr/bin/python3") == {key: path}


def test_a_path_for_each_system_and_the_mistakes_refused():
    both = interpreter_rows([VENV_WIN, VENV_MAC])
    assert both == {WINDOWS: VENV_WIN, MACOS: VENV_MAC}
    with pytest.raises(ValueError, match="not a full path"):
        interpreter_rows(["python.exe"])
    with pytest.raises(ValueError, match="two Interpreter_Win paths"):
        interpreter_rows([VENV_WIN, "D:/other/python.exe"])
