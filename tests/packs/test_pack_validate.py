"""`pack init / validate / info`: one test per thing validate finds, located file:line.

Every pack here is a real folder (a copy of the shipped pack made by `pack init`) with
real .docx templates written by python-docx; problems are read from the command's output.
"""

from __future__ import annotations

import datetime as dt
import json

import docx
import openpyxl
import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.books import make_book
from xl_addin.cli import app
from xl_addin.packs.lookup import open_pack
from xl_addin.services.pack import init_pack

runner = CliRunner()
LEDGER = [
    ("C001", "INV", "INV-1", dt.date(2026, 8, 1), dt.date(2026, 9, 1), 12000.5, "", "N"),
    ("C002", "INV", "INV-2", dt.date(2026, 8, 1), dt.date(2026, 9, 1), 8000, "", ""),
]




def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def said(result) -> str:
    """The output as one line (rich wraps long lines at the terminal's width)."""
    return " ".join(result.output.split())


def write_template(path, *paragraphs: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(path)


@pytest.fixture
def hq(tmp_path):
    return init_pack(tmp_path / "hq")


def test_init_makes_a_pack_that_validates_and_describes_itself(hq):
    assert (hq / "letters" / "zh" / "statement.docx").exists()
    assert (hq / "branches" / "SH" / "branch.toml").exists()
    pack = open_pack(hq)
    assert pack.name == "hq" and pack.version == open_pack(None).version and pack.requires
    result = run("pack", "validate", hq)
    assert result.exit_code == 0 and "no problems found" in said(result), result.output
    info = json.loads(run("pack", "info", hq, "--format", "json").output)
    assert info["name"] == "hq" and "en/final_notice.docx" in info["templates"]
    assert [(b["code"], b["language"]) for b in info["branches"]] == [("LDN", "en"), ("SH", "zh")]


def test_init_refuses_a_folder_that_is_not_empty(hq):
    before = (hq / "pack.toml").read_bytes()
    result = run("pack", "init", hq)
    assert result.exit_code == 1 and "not empty" in said(result)
    assert (hq / "pack.toml").read_bytes() == before


def test_an_unknown_field_is_listed_with_the_closest_known_one(hq):
    write_template(hq / "letters" / "en" / "demand_letter.docx",
                   "Our reference {{ reference }}", "Dear {{ customer.nmae }},",
                   "{% for item in items %}{{ item.doc_no }} {{ item.due_dte }}{% endfor %}",
                   "Total {{ total_overdeu }}")  # fmt: skip
    result = run("pack", "validate", hq)
    assert result.exit_code == 1
    at, text = "hq/letters/en/demand_letter.docx", said(result)
    assert f'{at}:2: unknown field "customer.nmae" (did you mean "customer.name"?)' in text
    assert f'{at}:3: unknown field "item.due_dte" (did you mean "item.due_date"?)' in text
    assert f'{at}:4: unknown field "total_overdeu" (did you mean "total_overdue"?)' in text


def test_a_field_of_another_kind_of_document_is_unknown(hq):
    # `opening` is a statement's; a letter would print a blank.
    write_template(hq / "letters" / "en" / "friendly_reminder.docx", "Opening {{ opening }}")
    result = run("pack", "validate", hq)
    assert result.exit_code == 1
    assert 'friendly_reminder.docx:1: unknown field "opening"' in said(result)


def test_a_jinja_syntax_error_is_given_with_its_file_and_line(hq):
    write_template(hq / "letters" / "zh" / "final_notice.docx", "尊敬的客户：",
                   "编号：{{ reference }}", "合计：{{ total_overdue }")  # fmt: skip
    result = run("pack", "validate", hq)
    assert result.exit_code == 1
    assert ("hq/letters/zh/final_notice.docx:3: Jinja syntax error: unexpected '}' "
            '(paragraph "合计：{{ total_overdue }")') in said(result)  # fmt: skip


def test_a_missing_stage_template_is_named_and_a_branch_override_fills_it(hq):
    (hq / "letters" / "zh" / "credit_hold.docx").unlink()
    result = run("pack", "validate", hq)
    assert result.exit_code == 1
    for code in ("LDN", "SH"):
        assert (f"hq/letters/zh/credit_hold.docx: no such template (nor branch {code}): the "
                "policy's credit_hold step needs one in zh") in said(result)  # fmt: skip
    # Shanghai's own version covers it for Shanghai only.
    write_template(hq / "branches" / "SH" / "letters" / "zh" / "credit_hold.docx",
                   "{{ customer.name }}：停止供货")  # fmt: skip
    result = run("pack", "validate", hq)
    assert result.exit_code == 1 and "(nor branch LDN)" in said(result)
    assert "(nor branch SH)" not in said(result)
    assert run("pack", "validate", hq, "--branch", "SH").exit_code == 0


def test_the_branch_override_comes_first_then_the_pack_per_language(hq):
    own = hq / "branches" / "SH" / "letters"
    write_template(own / "zh" / "demand_letter.docx", "上海催款函 {{ reference }}")
    shanghai, london = open_pack(hq, "SH"), open_pack(hq, "LDN")
    assert shanghai.template("demand_letter", "zh") == own / "zh" / "demand_letter.docx"
    assert shanghai.template("demand_letter", "en") == hq / "letters" / "en" / "demand_letter.docx"
    assert london.template("demand_letter", "zh") == hq / "letters" / "zh" / "demand_letter.docx"
    # The override is what validate checks for that branch: a broken one is named.
    write_template(own / "zh" / "demand_letter.docx", "{{ branch.bnak }}")
    result = run("pack", "validate", hq)
    assert result.exit_code == 1
    assert ('hq/branches/SH/letters/zh/demand_letter.docx:1: unknown field "branch.bnak" '
            '(did you mean "branch.bank"?)') in said(result)  # fmt: skip
    assert "hq/letters/zh/demand_letter.docx" not in said(result)


def test_a_misspelt_override_that_would_never_be_used_is_named(hq):
    write_template(hq / "branches" / "SH" / "letters" / "zh" / "demand_leter.docx", "{{ date }}")
    result = run("pack", "validate", hq)
    assert result.exit_code == 1
    assert ('hq/branches/SH/letters/zh/demand_leter.docx: no step of the policy is called '
            '"demand_leter": never used (did you mean "demand_letter.docx"?)') in said(result)


def test_an_incomplete_branch_file_is_named_field_by_field(hq):
    (hq / "branches" / "HK").mkdir()
    (hq / "branches" / "HK" / "branch.toml").write_text(
        '[branch]\nname = "HQ Hong Kong Ltd"\naddress = "1 Queen\'s Road"\nbank = "HSBC 004"\n'
        'email = "ar@hq.hk"\nlanguage = "fr"\n[branch.zh]\nname = "香港总部"\nphone = "2000"\n',
        encoding="utf-8",
    )
    result = run("pack", "validate", hq, "--branch", "HK")
    assert result.exit_code == 1
    text = said(result)
    assert "hq/branches/HK/branch.toml: [branch] has no phone, tax_id, signatory" in text
    assert "hq/branches/HK/branch.toml: [branch.zh] has no tax_id, signatory" in text
    assert 'hq/branches/HK/branch.toml: language "fr" is not one of en, zh' in text
    (hq / "branches" / "HK" / "branch.toml").unlink()
    result = run("pack", "validate", hq, "--branch", "HK")
    assert result.exit_code == 1 and "hq/branches/HK/branch.toml: no such file" in said(result)


def test_an_unreadable_logo_is_named_and_a_real_one_passes(hq):
    toml = hq / "branches" / "LDN" / "branch.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "[branch]\n", '[branch]\nlogo = "logo.png"\n', 1), encoding="utf-8")  # fmt: skip
    (hq / "branches" / "LDN" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a picture")
    result = run("pack", "validate", hq)
    assert result.exit_code == 1
    assert ("hq/branches/LDN/branch.toml: logo: hq/branches/LDN/logo.png is not a readable "
            "image") in said(result)  # fmt: skip
    Image.new("RGB", (120, 40), "navy").save(hq / "branches" / "LDN" / "logo.png")
    assert run("pack", "validate", hq).exit_code == 0
    (hq / "branches" / "LDN" / "logo.png").unlink()
    result = run("pack", "validate", hq)
    assert result.exit_code == 1 and "logo: no such file hq/branches/LDN/logo.png" in said(result)


def test_a_template_that_renders_invalid_xml_is_named(hq):
    write_template(hq / "letters" / "en" / "pre_due_reminder.docx",
                   "Dear {{ customer.name }}", '{{ "<w:oops" | safe }}')  # fmt: skip
    result = run("pack", "validate", hq)
    assert result.exit_code == 1
    # The renderer parses every part it renders back (issue 13): it names the part.
    assert ("hq/letters/en/pre_due_reminder.docx: does not render for a sample customer "
            "(word/document.xml): the document would not open in Word, its XML is broken"
            ) in said(result)  # fmt: skip


def test_a_file_that_is_not_a_docx_is_named(hq):
    (hq / "letters" / "en" / "statement.docx").write_text("not a zip", encoding="utf-8")
    result = run("pack", "validate", hq)
    assert result.exit_code == 1
    assert "hq/letters/en/statement.docx: not a readable .docx template" in said(result)


def test_every_problem_is_listed_at_once(hq):
    write_template(hq / "letters" / "en" / "demand_letter.docx", "{{ custmer.name }}")
    write_template(hq / "letters" / "zh" / "final_notice.docx", "{% if date %}")
    (hq / "letters" / "en" / "legal_action.docx").unlink()
    result = run("pack", "validate", hq, "--format", "json")
    assert result.exit_code == 1
    places = {p["sheet"] for p in json.loads(result.output)["problems"]}
    assert {"hq/letters/en/demand_letter.docx:1", "hq/letters/zh/final_notice.docx:1",
            "hq/letters/en/legal_action.docx"} <= places  # fmt: skip


# --- versions ------------------------------------------------------------------------------


def needs_newer_tool(hq):
    manifest = hq / "pack.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        'requires = "0.1.0"', 'requires = "9.2"'), encoding="utf-8")  # fmt: skip


def test_a_pack_needing_a_newer_tool_is_refused_naming_the_version(hq, tmp_path):
    needs_newer_tool(hq)
    for result in (run("pack", "validate", hq), run("pack", "info", hq)):
        assert result.exit_code == 1
        assert "this pack needs credit-control 9.2 or newer; this is 0.1.0" in said(result)
    made = tmp_path / "branch.xlsx"
    result = run("new", made, "--branch", "SH", "--pack", hq)
    assert result.exit_code == 1 and "9.2 or newer" in said(result) and not made.exists()
    book = make_book(tmp_path / "old.xlsx", settings=[("TemplatePack", str(hq))])
    before = book.read_bytes()
    result = run("letters", book, "--out", tmp_path / "out")
    assert result.exit_code == 1 and "needs credit-control 9.2 or newer" in said(result)
    assert book.read_bytes() == before and not (tmp_path / "out").exists()


def test_new_records_the_packs_version_and_validate_flags_a_difference(hq, tmp_path):
    made = tmp_path / "branch.xlsx"
    assert run("new", made, "--branch", "SH", "--pack", hq).exit_code == 0
    settings = dict(openpyxl.load_workbook(made)["Settings"].iter_rows(values_only=True))
    assert settings["PackVersion"] == open_pack(None).version
    book = make_book(tmp_path / "sh.xlsx", ledger=LEDGER, settings=[
        ("Branch", "SH"), ("TemplatePack", str(hq)), ("PackVersion", settings["PackVersion"])])
    assert run("validate", book).exit_code == 0
    manifest = hq / "pack.toml"
    shipped = f'version = "{open_pack(None).version}"'
    text = manifest.read_text(encoding="utf-8").replace(shipped, 'version = "2027.1.0"')
    manifest.write_text(text, encoding="utf-8")
    result = run("validate", book)
    assert result.exit_code == 1
    assert (f"Settings!B6: the workbook was built from pack version {open_pack(None).version} "
            f"but {hq} is version 2027.1.0") in said(result)  # fmt: skip


# --- validate WORKBOOK and the runs ----------------------------------------------------------


def test_validate_workbook_names_a_broken_branch_template_and_letters_stop_before_any(
    hq, tmp_path
):
    # Both customers are due a demand letter; London's own Chinese version is broken.
    write_template(hq / "branches" / "LDN" / "letters" / "en" / "demand_letter.docx",
                   "Dear {{ customer.name }", "{{ reference }}")  # fmt: skip
    book = make_book(tmp_path / "ldn.xlsx", ledger=LEDGER,
                     settings=[("TemplatePack", str(hq))])  # fmt: skip
    checked = run("validate", book)
    assert checked.exit_code == 1, checked.output
    assert ("hq/branches/LDN/letters/en/demand_letter.docx:1: Jinja syntax error: unexpected "
            "'}'") in said(checked)  # fmt: skip
    result = run("letters", book, "--out", tmp_path / "out")
    assert result.exit_code == 1 and "demand_letter.docx" in said(result)
    assert not list((tmp_path / "out").glob("*.docx"))  # not one letter before the failure
    write_template(hq / "branches" / "LDN" / "letters" / "en" / "demand_letter.docx",
                   "Dear {{ customer.name }}", "{{ reference }}")  # fmt: skip
    assert run("validate", book).exit_code == 0
    result = run("letters", book, "--out", tmp_path / "out2")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out2").glob("*.docx"))) == 2


def test_the_pack_gives_its_branches_its_policy(hq, tmp_path):
    """Head office sets the Policy once, in the pack (policy/<Table>.csv, the Policy sheet's
    tables): a branch built from it has that Policy, with the labels the pack gives."""
    import csv

    import openpyxl

    stages = hq / "policy" / "Stages.csv"
    rows = list(csv.reader(stages.read_text(encoding="utf-8-sig").splitlines()))
    header = rows[0]
    demand = next(r for r in rows if r[0] == "demand_letter")
    demand[header.index("FromDays")] = "25"
    demand[header.index("NameZh")] = "律师函前催款函"
    with stages.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows(rows)
    assert run("pack", "validate", hq).exit_code == 0
    book = tmp_path / "SH.xlsx"
    made = run("new", book, "--branch", "SH", "--language", "zh", "--pack", hq)
    assert made.exit_code == 0, made.output
    policy = openpyxl.load_workbook(book)["Policy"]
    found = next(r for r in policy.iter_rows(values_only=True) if r[0] == "demand_letter")
    assert found[2] == "律师函前催款函" and found[3] == 25


def test_a_broken_pack_policy_is_named_with_its_cell(hq, tmp_path):
    (hq / "policy" / "Buckets.csv").write_text("UpToDays,Label\n0,Current\nthirty,1-30\n",
                                               encoding="utf-8")  # fmt: skip
    (hq / "policy" / "Limits.csv").write_text("Key,Value\n", encoding="utf-8")
    result = run("pack", "validate", hq)
    assert result.exit_code == 1
    assert "hq/policy/Buckets.csv!A3" in said(result) and '"thirty" is not a number' in said(
        result)  # fmt: skip
    assert "hq/policy/Limits.csv: not a Policy table" in said(result)
    made = run("new", tmp_path / "SH.xlsx", "--branch", "SH", "--pack", hq)
    assert made.exit_code == 1 and not (tmp_path / "SH.xlsx").exists()


def test_render_limits_in_pack_toml_are_checked(hq):
    manifest = hq / "pack.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8")
                        + '\n[render]\ntime_limit = "fast"\nsize_limit = 500\n',
                        encoding="utf-8")  # fmt: skip
    result = run("pack", "validate", hq)
    assert result.exit_code == 1
    assert 'hq/pack.toml: [render] time_limit "fast" is not a number of seconds' in said(result)
    assert 'hq/pack.toml: [render] size_limit "500" is outside 0.1 to 100 MB' in said(result)
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"fast"', "10")
                        .replace("500", "20"), encoding="utf-8")  # fmt: skip
    assert run("pack", "validate", hq).exit_code == 0
    assert open_pack(hq).render == (("time_limit", 10), ("size_limit", 20))
