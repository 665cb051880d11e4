"""Template packs: the shipped pack, a pack folder of one's own, branch overrides, letterheads."""

from __future__ import annotations

import shutil

import pytest

from xl_addin.errors import TemplateError
from xl_addin.packs.lookup import BUILTIN, open_pack

STAGES = ("pre_due_reminder", "friendly_reminder", "phone_call", "demand_letter",
          "final_notice", "credit_hold", "legal_action", "statement")  # fmt: skip


def test_the_shipped_pack_has_every_template_in_both_languages():
    pack = open_pack(None, None)
    assert pack.root == BUILTIN and pack.version == "2026.12.1" and pack.branch is None
    for key in STAGES:
        for lang in ("en", "zh"):
            assert pack.template(key, lang) == BUILTIN / lang / f"{key}.docx"
    assert pack.branch_profile() == {}


def test_the_shipped_branches_have_letterheads():
    shanghai = open_pack(None, "SH").branch_profile()
    london = open_pack(None, "LDN").branch_profile()
    assert shanghai["name"].startswith("华信商贸") and "上海" in shanghai["address"]
    assert london["tax_id"].startswith("VAT") and "London" in london["address"]
    for profile in (shanghai, london):
        assert set(profile) >= {"name", "address", "phone", "email", "bank", "tax_id", "signatory"}
    assert open_pack(None, "XX").branch_profile() == {}  # a branch without a profile


def test_a_branch_without_its_own_template_uses_the_pack(tmp_path):
    shutil.copytree(BUILTIN, tmp_path / "pack")
    pack = open_pack(tmp_path / "pack", "LDN")
    assert pack.template("final_notice", "en") == tmp_path / "pack" / "en" / "final_notice.docx"


def test_a_pack_laid_out_with_a_letters_folder(tmp_path):
    root = tmp_path / "head-office"
    (root / "letters" / "en").mkdir(parents=True)
    shutil.copy(BUILTIN / "en" / "demand_letter.docx", root / "letters" / "en")
    (root / "pack.toml").write_text('[pack]\nname = "HQ"\nversion = "7"\n', encoding="utf-8")
    own = root / "branches" / "HK" / "letters" / "en"
    own.mkdir(parents=True)
    shutil.copy(BUILTIN / "en" / "final_notice.docx", own / "demand_letter.docx")
    (root / "branches" / "HK" / "branch.toml").write_text(
        '[branch]\nname = "HQ Hong Kong"\n', encoding="utf-8"
    )
    pack = open_pack(root, "HK")
    assert pack.version == "7" and pack.branch_profile() == {"name": "HQ Hong Kong"}
    assert pack.template("demand_letter", "en") == own / "demand_letter.docx"
    assert open_pack(root, None).template("demand_letter", "en") == (
        root / "letters" / "en" / "demand_letter.docx"
    )
    with pytest.raises(TemplateError, match=r"no template zh/demand_letter\.docx"):
        pack.template("demand_letter", "zh")


def test_broken_packs_give_clear_messages(tmp_path):
    with pytest.raises(TemplateError, match="no such folder"):
        open_pack(tmp_path / "missing", None)
    (tmp_path / "pack.toml").write_text("[pack\nversion = ", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"pack\.toml"):
        open_pack(tmp_path, None)
    (tmp_path / "plain").mkdir()
    assert open_pack(tmp_path / "plain", None).version == "unversioned"


def test_a_branch_letterhead_reads_in_the_documents_language():
    shanghai = open_pack(None, "SH")
    assert shanghai.branch_profile("zh") == shanghai.branch_profile()  # written in Chinese
    english = shanghai.branch_profile("en")
    assert english["name"] == "Huaxin Trading (Shanghai) Co., Ltd."
    assert "Shanghai 200120" in english["address"] and english["signatory"].endswith("Wang Min")
    assert english["email"] == shanghai.branch_profile()["email"]  # not given in English: kept
    london = open_pack(None, "LDN").branch_profile("zh")
    assert london["name"] == "华信贸易（英国）有限公司" and london["phone"] == "+44 20 7946 0800"
