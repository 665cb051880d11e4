"""The new use case: build a branch workbook from code (`credit-control new`)."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from xl_addin.core.policy import DEFAULT_POLICY, Policy
from xl_addin.errors import WorkbookError
from xl_addin.packs.lookup import open_pack
from xl_addin.workbook.interpreter import interpreter_rows
from xl_addin.workbook.template import BUTTON_ROWS, BUTTONS, build_template, start_left
from xl_addin.workbook.xlsm import Button, make_xlsm


def start_buttons(language: str) -> list[Button]:
    """The Start sheet's buttons, labelled in the workbook's language first."""
    zh = language == "zh"
    return [
        Button("Start", f"B{row}", f"{zh_label} / {en}" if zh else f"{en} / {zh_label}", sub,
               left=start_left("B"))
        for row, (en, zh_label, sub, _) in zip(BUTTON_ROWS, BUTTONS, strict=True)
    ]


def journal_file_name(path: Path) -> str:
    """The Settings.Journal `new` writes: the journal's file name, beside the workbook."""
    return f"{path.stem}.journal.sqlite"


def new_workbook(
    path: Path,
    *,
    language: str = "en",
    branch: str = "",
    pack: Path | None = None,
    as_of: dt.date | None = None,
    force: bool = False,
    customers=None,
    ledger=None,
    settings: dict | None = None,
    interpreters: Mapping[str, str] | None = None,
    policy: Policy | None = None,
    contacts=None,
    added: Mapping[str, Sequence[str]] | None = None,
    sheets: Mapping[str, Sequence[Sequence[object]]] | None = None,
) -> Path | None:
    """Build the workbook at `path` (.xlsm with buttons and macros, or .xlsx without).

    An existing file is replaced only with `force`, and then kept as a backup.
    Settings.Journal is filled in (unless `settings` gives one) with the journal's file
    name, `<stem>.journal.sqlite`: a path relative to the workbook's folder, so that a
    copy of the workbook in that folder, under any name, keeps using the same journal.
    `interpreters` are the xlwings.conf rows naming the Python that runs the buttons and
    functions (interpreter.interpreter_rows); None records the Python running this.
    `policy`, `contacts`, `added` and `sheets` are build_template's (an upgrade carries
    the old workbook's into the new layout).
    """
    suffix = path.suffix.lower()
    if suffix not in (".xlsm", ".xlsx"):
        raise WorkbookError(f"{path.name}: name the workbook .xlsm (with buttons) or .xlsx")
    if path.exists() and not force:
        raise WorkbookError(f"{path} already exists; choose another name, or --force to "
                            "replace it (the old file is kept as a backup)")  # fmt: skip
    if not path.parent.exists():
        raise WorkbookError(f"{path.parent}: no such folder")
    values = {"AsOfDate": as_of or dt.date.today(), "Branch": branch, **(settings or {})}
    if not str(values.get("Journal") or "").strip():
        # Relative to the workbook's folder: a copy of the workbook there keeps this journal.
        values["Journal"] = journal_file_name(path)
    if pack is not None:
        values["TemplatePack"] = str(pack)
    if not str(values.get("PackVersion") or "").strip():
        # The pack the layout comes from (a pack needing a newer tool is refused here).
        values["PackVersion"] = open_pack(pack).version
    if policy is None:  # the pack's Policy (policy/*.csv), else the shipped defaults
        policy = DEFAULT_POLICY
        if pack is not None:
            from xl_addin.services.pack import pack_policy

            policy, problems = pack_policy(open_pack(pack))
            if problems:
                raise WorkbookError("the pack's Policy cannot be used: "
                                    + "; ".join(map(str, problems[:5])))  # fmt: skip
    if interpreters is None:
        interpreters = interpreter_rows()
    options = {"language": language, "branch": branch, "customers": customers,
               "ledger": ledger, "settings": values, "interpreters": interpreters,
               "policy": policy, "contacts": contacts, "added": added,
               "sheets": sheets}  # fmt: skip
    if suffix == ".xlsx":
        return build_template(path, **options)
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "book.xlsx"
        build_template(plain, **options)
        return make_xlsm(plain, path, start_buttons(language))
