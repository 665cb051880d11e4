"""The upgrade use case: bring a branch workbook to this version's layout and its pack's.

The workbook is rebuilt rather than patched: `new_workbook` builds the current layout
(Start and its buttons, the Live sheet and the computed columns reading it, Contacts, the
Lite part, xlwings.conf) for the same branch, language and Settings, and every data cell
of Customers, Ledger and Contacts is carried into it as it was (text stays text, a
formula the user typed stays a formula). A column the user added to one of those tables
comes along at the right of its table; a sheet of the user's own is copied as values and
formulas. Aging, History and Problems are rebuilt by the next run. A Policy the branch
edited is kept unless the caller replaces it. The old file is kept as the backup.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from xl_addin.core.policy import DEFAULT_POLICY
from xl_addin.core.problems import Problem, Source
from xl_addin.services.new_workbook import new_workbook
from xl_addin.services.pack import open_checked, pack_policy, validate_pack
from xl_addin.workbook.builder import SETTINGS_KEYS, policy_blocks
from xl_addin.workbook.carry import CellReader
from xl_addin.workbook.reader import read_workbook
from xl_addin.workbook.safe_save import refuse_unwritable, save_atomically
from xl_addin.workbook.schema import CONTACTS, CUSTOMERS, LEDGER, POLICY_TABLES, TableSpec, fold
from xl_addin.workbook.tables import RawTable
from xl_addin.workbook.template import (
    LAYOUT_SHEETS,
    XLWINGS_CONF,
    customer_formulas,
    ledger_formulas,
)

# Settings keys as the reader accepts them (English or Chinese) -> the key the layout writes.
SETTING_KEYS = {fold(key): key for key in (*SETTINGS_KEYS, "AmountLimit", "RenderTimeLimit",
                                           "RenderSizeLimit")} | {
    "截止日期": "AsOfDate", "账龄截止日": "AsOfDate", "语言": "Language", "本位币": "BaseCurrency",
    "分公司": "Branch", "网点": "Branch", "对账期间": "StatementPeriod",
    "输出文件夹": "OutputFolder", "日志": "Journal", "模板包": "TemplatePack",
    "模板版本": "PackVersion", "金额上限": "AmountLimit", "生成时限": "RenderTimeLimit",
    "生成大小上限": "RenderSizeLimit",
}  # fmt: skip
CARRIED = (CUSTOMERS, LEDGER, CONTACTS)


@dataclass(frozen=True, slots=True)
class Upgrade:
    """What an upgrade changes (or, in a dry run, would change)."""

    path: Path
    pack_version: tuple[str, str]  # the workbook's before, the pack's after
    rows: dict[str, int]  # table -> data rows carried
    columns_added: tuple[str, ...]  # Table.Column the layout has and the workbook had not
    formulas_replaced: tuple[str, ...]  # computed columns now read from the Live sheet
    sheets_added: tuple[str, ...]
    user_columns: tuple[str, ...]  # Table.Column of the user's own, kept at the right
    user_sheets: tuple[str, ...]  # copied as values and formulas
    sheets_not_all_copied: tuple[str, ...]  # user sheets with tables, charts ... left behind
    policy: str  # unchanged | kept | replaced
    policy_tables: tuple[str, ...]  # the Policy tables the branch edited
    dry_run: bool
    backup: Path | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "workbook": str(self.path), "dry_run": self.dry_run,
            "pack_version": {"before": self.pack_version[0], "after": self.pack_version[1]},
            "rows": self.rows, "columns_added": list(self.columns_added),
            "formulas_replaced": list(self.formulas_replaced),
            "sheets_added": list(self.sheets_added), "user_columns": list(self.user_columns),
            "user_sheets": list(self.user_sheets),
            "sheets_not_all_copied": list(self.sheets_not_all_copied),
            "policy": self.policy, "policy_tables": list(self.policy_tables),
            "backup": str(self.backup) if self.backup else None,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Carried:
    """One table's cells in the new layout's terms."""

    frame: pd.DataFrame | None  # contract headers and the user's columns
    added: tuple[str, ...]  # the user's columns
    missing: tuple[str, ...]  # contract columns the workbook lacked
    replaced: tuple[str, ...]  # computed columns whose cells were not the Live formula


def upgrade_workbook(
    path: Path, pack: Path, *, replace_policy: bool = False, dry_run: bool = False
) -> tuple[Upgrade | None, tuple[Problem, ...]]:
    """Rebuild the workbook at `path` in the current layout of `pack`, keeping its data.

    Nothing is written when a problem is returned (a pack needing a newer tool, a
    workbook whose tables do not read, data typed outside a table) or with `dry_run`.
    """
    path = Path(path)
    if not dry_run:  # before the old file is copied aside
        refuse_unwritable(path)
    opened, problems = open_checked(pack)
    if opened is None:
        return None, problems
    book, found = read_workbook(path)
    refused = _refusals(book, found)
    if book is None or refused:
        return None, refused
    if book.settings.branch:  # the pack must be one the branch's letters can come from
        branch_problems = validate_pack(pack, book.settings.branch)[1]
        if branch_problems:
            return None, branch_problems
    cells = CellReader(path)
    raws = {"Customers": book.customers.raw, "Ledger": book.ledger and book.ledger.raw,
            "Contacts": book.contacts and book.contacts.raw}  # fmt: skip
    carried = {spec.name: _carry(cells, spec, raws[spec.name]) for spec in CARRIED}
    settings_sheet, settings = _settings(cells)
    settings |= {"TemplatePack": str(pack), "PackVersion": opened.version}
    edited = _edited_policy_tables(book.policy, pack_policy(opened)[0])
    keep_policy = bool(edited) and not replace_policy
    used = {raw.sheet for raw in raws.values() if raw is not None} | {settings_sheet}
    used |= {where[0] for name in POLICY_TABLES if (where := cells.table(name))}
    user_sheets = [s for s in cells.sheet_names if s not in used and s not in LAYOUT_SHEETS]
    with tempfile.TemporaryDirectory() as folder:
        built = Path(folder) / path.name  # the same name: a blank Journal names the same file
        new_workbook(
            built, language=book.settings.language, branch=book.settings.branch, pack=pack,
            settings=settings, interpreters=_interpreters(cells),
            policy=book.policy if keep_policy else None,  # None: the pack's (or the default)
            customers=carried["Customers"].frame, ledger=carried["Ledger"].frame,
            contacts=carried["Contacts"].frame,
            added={name: c.added for name, c in carried.items()},
            sheets={name: cells.sheet_rows(name) for name in user_sheets},
        )  # fmt: skip
        result = Upgrade(
            path, (book.settings.pack_version, opened.version),
            {name: 0 if c.frame is None else len(c.frame) for name, c in carried.items()},
            tuple(f"{name}.{h}" for name, c in carried.items() if c.frame is not None
                  for h in c.missing),
            tuple(f"{name}.{h}" for name, c in carried.items() for h in c.replaced),
            tuple(s for s in CellReader(built).sheet_names if s not in cells.sheet_names),
            tuple(f"{name}.{h}" for name, c in carried.items() for h in c.added),
            tuple(user_sheets), tuple(s for s in user_sheets if cells.sheet_has_more(s)),
            "unchanged" if not edited else "kept" if keep_policy else "replaced",
            edited, dry_run,
        )  # fmt: skip
        if dry_run:
            return result, ()
        # The old file is kept under a name of its own: the next Refresh replaces the
        # `.bak` copy, and the old file holds what a copy of the user's sheets leaves out.
        backup = _free_name(path.with_name(f"{path.stem}.before-upgrade{path.suffix}"))
        save_atomically(backup, lambda target: shutil.copyfile(path, target), backup=False)
        save_atomically(path, lambda target: shutil.copyfile(built, target), backup=False)
    return Upgrade(**{**_fields(result), "backup": backup}), ()


def _free_name(path: Path) -> Path:
    """`path`, or `<stem>-2<suffix>`, `-3`... when it is taken."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def _fields(result: Upgrade) -> dict[str, object]:
    return {name: getattr(result, name) for name in Upgrade.__dataclass_fields__}


def _refusals(book, problems: Sequence[Problem]) -> tuple[Problem, ...]:
    """What stops an upgrade: tables that do not read, data below a table (it would not
    come along), Settings or Policy that do not read (they are carried as read)."""
    if book is None:
        return tuple(problems) or (Problem(Source("Customers"), "no Customers table"),)
    raws = [t.raw for t in (book.customers, book.ledger, book.contacts) if t is not None]
    below = tuple(p for raw in raws for p in raw.uncovered)
    sheets = {book.settings.source("as_of").sheet, "Settings", "Policy"}
    return below + tuple(p for p in problems if p.source.sheet in sheets)


def _carry(cells: CellReader, spec: TableSpec, raw: RawTable | None) -> _Carried:
    """The table's cells by column: contract columns under their contract header (whatever
    alias the workbook used), the user's own under theirs; computed columns left behind."""
    contract = (*spec.columns, *spec.computed)
    if raw is None:
        return _Carried(None, (), tuple(c.header for c in contract), ())
    names = {fold(alias): c.header for c in contract for alias in (c.header, *c.aliases)}
    where = cells.table(raw.table) if raw.table else None
    if where is None:
        left, top = raw.first_column, 1
        right, bottom = left + len(raw.headers) - 1, top + len(raw.rows)
        where = (raw.sheet, left, top, right, bottom)
    sheet, left, top, right, bottom = where
    header, *rows = cells.rows(sheet, top, left, bottom, right)
    if len(rows) == 1 and all(v in (None, "") for v in rows[0]):
        rows = []  # an empty table keeps one blank row
    computed = {c.header for c in spec.computed}
    columns: dict[str, list[object]] = {}
    added: list[str] = []
    formulas = _layout_formulas(spec)
    replaced: list[str] = []
    for position, text in enumerate(header):
        name = names.get(fold(text))
        values = [row[position] for row in rows]
        if name in computed:
            if any(str(v) != formulas[name] for v in values):
                replaced.append(name)
            continue
        if name is None or name in columns:
            name = str(text)
            added.append(name)
        columns[name] = values
    frame = pd.DataFrame({h: pd.Series(v, dtype=object) for h, v in columns.items()})
    found = {names.get(fold(text)) for text in header}
    missing = tuple(c.header for c in contract if c.header not in found)
    return _Carried(frame, tuple(added), missing, tuple(replaced))


def _layout_formulas(spec: TableSpec) -> dict[str, str]:
    """The computed columns' formulas in the current layout (Contacts has none)."""
    return {"Customers": customer_formulas, "Ledger": ledger_formulas}.get(spec.name, dict)()


def _settings(cells: CellReader) -> tuple[str, dict[str, object]]:
    """The Settings sheet and its rows, known keys (English or Chinese) as the layout names
    them, the user's own as they are."""
    where = cells.table("Settings")
    if where is None:
        sheet = next((s for s in cells.sheet_names if fold(s) in ("settings", "设置", "参数")),
                     None)  # fmt: skip
        if sheet is None:
            return "Settings", {}
        rows = cells.sheet_rows(sheet)[1:]
    else:
        sheet, left, top, _, bottom = where
        rows = cells.rows(sheet, top + 1, left, bottom, left + 1)
    values: dict[str, object] = {}
    for row in rows:
        key = row[0] if row else None
        if key is None or not str(key).strip():
            continue
        values[SETTING_KEYS.get(fold(key), str(key).strip())] = row[1] if len(row) > 1 else None
    return sheet, values


def _interpreters(cells: CellReader) -> dict[str, str] | None:
    """The xlwings.conf rows naming a Python (None when the workbook has no xlwings.conf:
    the layout then records the Python running this)."""
    if "xlwings.conf" not in cells.sheet_names:
        return None
    own = {key for key, _ in XLWINGS_CONF}
    return {str(row[0]): str(row[1]) for row in cells.sheet_rows("xlwings.conf")
            if len(row) > 1 and row[0] and row[0] not in own and row[1] is not None}  # fmt: skip


def _edited_policy_tables(policy, base=DEFAULT_POLICY) -> tuple[str, ...]:
    """The Policy tables whose values differ from `base` (the pack's Policy, or the
    shipped defaults)."""
    return tuple(mine.name for mine, shipped in zip(policy_blocks(policy),
                                                    policy_blocks(base), strict=True)
                 if mine != shipped)  # fmt: skip
