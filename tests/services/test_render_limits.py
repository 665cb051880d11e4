"""Render limits from the command line, the workbook's Settings and the template pack.

Each limit is the command line's, else the workbook's, else the pack's, else 5 s / 5 MB;
a value that is not a number within bounds is a located problem wherever it is written.
The end-to-end test issues statements from a real pack whose statement template writes
about 200 KB of XML, with real workbooks and the real command.
"""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest

from tests.services.runs import branch_workbook, check_journal_and_files, cli, pack_with_branch
from xl_addin.core.problems import Source
from xl_addin.documents.render import DEFAULT_LIMITS, MEGABYTE, RenderLimits
from xl_addin.journal.store import journal_url
from xl_addin.packs.lookup import open_pack
from xl_addin.services.render_limits import render_limits
from xl_addin.workbook.reader import Settings


def pack_rendering(tmp_path: Path, render: str = "") -> Path:
    """A copy of the shipped pack with `render` (TOML lines) under [render] in pack.toml."""
    pack = pack_with_branch(tmp_path, "BJ")
    if render:
        manifest = pack / "pack.toml"
        manifest.write_text(manifest.read_text(encoding="utf-8") + f"\n[render]\n{render}\n",
                            encoding="utf-8")  # fmt: skip
    return pack


def settings(time: str = "", size: str = "") -> Settings:
    return Settings(render_time_limit=time, render_size_limit=size,
                    cells={"render_time_limit": Source("Settings", 11, "B"),
                           "render_size_limit": Source("Settings", 12, "B")})  # fmt: skip


def messages(problems) -> list[str]:
    return [str(p) for p in problems]


def test_the_command_line_wins_over_the_workbook_and_the_workbook_over_the_pack(tmp_path):
    pack = open_pack(pack_rendering(tmp_path, "time_limit = 20\nsize_limit = 2"))
    assert render_limits(settings(), None) == (DEFAULT_LIMITS, ())
    assert render_limits(settings(), pack) == (RenderLimits(20.0, 2 * MEGABYTE), ())
    # Each limit on its own: the workbook gives the size, the pack still the time.
    assert render_limits(settings(size="8"), pack) == (RenderLimits(20.0, 8 * MEGABYTE), ())
    assert render_limits(settings("3", "8"), pack) == (RenderLimits(3.0, 8 * MEGABYTE), ())
    assert render_limits(settings("3", "8"), pack, seconds=1.5, megabytes=0.5) == (
        RenderLimits(1.5, int(0.5 * MEGABYTE)), ())  # fmt: skip
    assert render_limits(settings("3 seconds", "8 MB"), None)[0] == RenderLimits(3.0, 8 * MEGABYTE)


@pytest.mark.parametrize(("time", "size", "said"), [
    ("abc", "", 'Settings!B11: RenderTimeLimit "abc" is not a number of seconds'),
    ("0", "", 'Settings!B11: RenderTimeLimit "0" is outside 0.5 to 120 seconds'),
    ("", "500", 'Settings!B12: RenderSizeLimit "500" is outside 0.1 to 100 MB'),
    ("", "-1", 'Settings!B12: RenderSizeLimit "-1" is outside 0.1 to 100 MB'),
    ("", "nan", 'Settings!B12: RenderSizeLimit "nan" is outside 0.1 to 100 MB'),
])  # fmt: skip
def test_a_bad_value_in_settings_is_located(time, size, said):
    limits, problems = render_limits(settings(time, size), None)
    assert messages(problems) == [said]
    assert limits == DEFAULT_LIMITS  # the bad value is never used


def test_bad_values_on_the_command_line_and_in_the_pack_are_located(tmp_path):
    pack = open_pack(pack_rendering(tmp_path, 'time_limit = "fast"\nsize_limit = 1000\nspeed = 1'))
    _, problems = render_limits(settings("2"), pack, seconds=1000.0, megabytes=0.01)
    assert messages(problems) == [
        'pack/pack.toml: [render] time_limit "fast" is not a number of seconds',
        'pack/pack.toml: [render] size_limit "1000" is outside 0.1 to 100 MB',
        'pack/pack.toml: [render] has no key "speed": it takes time_limit, size_limit',
        '--render-time-limit: --render-time-limit "1000.0" is outside 0.5 to 120 seconds',
        '--render-size-limit: --render-size-limit "0.01" is outside 0.1 to 100 MB',
    ]


HEAVY = "{% for i in range(4000) %}{{ customer.name }} owes us, line {{ i }}. {% endfor %}"


def heavy_pack(tmp_path: Path, render: str) -> Path:
    """A pack whose English statement writes about 200 KB of XML for one customer."""
    pack = pack_rendering(tmp_path, render)
    document = docx.Document()
    document.add_paragraph("Statement {{ reference }} for {{ customer.name }}")
    document.add_paragraph(HEAVY)
    document.save(pack / "en" / "statement.docx")
    return pack


def test_statements_run_within_the_limits_the_command_line_workbook_or_pack_give(tmp_path):
    pack = heavy_pack(tmp_path, "size_limit = 0.1")  # head office: 0.1 MB a document
    bound = branch_workbook(tmp_path / "bound" / "branch.xlsx", pack=pack)
    roomy = branch_workbook(tmp_path / "roomy" / "branch.xlsx", pack=pack,
                            settings={"RenderSizeLimit": 1})  # the branch gives itself 1 MB

    stopped = cli("statements", bound, "--customer", "C0001")
    assert stopped.returncode == 1
    assert re.search(r"statement\.docx \(word/document\.xml\): the template writes more than "
                     r"0\.1 MB.*the limits are 5 s and 0\.1 MB a document", stopped.message)
    assert "RenderSizeLimit" in stopped.message  # how to change it

    done = cli("statements", roomy, "--customer", "C0001")
    assert done.returncode == 0, done.message
    assert "1 statement(s) issued" in done.message
    # The command line wins over the workbook.
    tight = cli("statements", roomy, "--customer", "C0001", "--force", "--render-size-limit",
                "0.1")
    assert tight.returncode == 1 and "writes more than 0.1 MB" in tight.message
    # And over the pack.
    loose = cli("statements", bound, "--customer", "C0001", "--render-size-limit", "2")
    assert loose.returncode == 0, loose.message
    for book in (bound, roomy):
        check_journal_and_files(journal_url(book), [book.parent / "statements 2026-11"], [book])


def test_a_bad_limit_stops_a_run_before_anything_is_issued(tmp_path):
    book = branch_workbook(tmp_path / "branch.xlsx", settings={"RenderTimeLimit": "soon"})
    refused = cli("letters", book)
    assert refused.returncode == 1
    assert re.search(r'Settings!B\d+: RenderTimeLimit "soon" is not a number of seconds',
                     refused.message)  # fmt: skip
    assert not (tmp_path / "letters 2026-11-30").exists()
    assert not (tmp_path / "branch.journal.sqlite").exists()
    usage = cli("letters", book, "--render-time-limit", "soon")
    assert usage.returncode == 2  # not a number at all: a usage error, as typer gives it
    validated = cli("validate", book)
    assert validated.returncode == 1 and "RenderTimeLimit" in validated.message
