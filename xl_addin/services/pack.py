"""The pack use cases: start a pack from the shipped one, check it, describe it.

`check_pack` is what `credit-control pack validate DIR` and `validate WORKBOOK` (for the
workbook's branch and Policy) run, so that a letters or statements run never stops
half-way on a template: the manifest, each branch's file and logo, a template for every
step the policy issues in every language after the branch's overrides, and every
template compiled, its fields checked and rendered for a sample customer
(documents.checks). Every problem is listed at once.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import xl_addin
from xl_addin.core.policy import DEFAULT_POLICY, Policy
from xl_addin.core.problems import Problem, Source
from xl_addin.documents.checks import template_problems
from xl_addin.errors import TemplateError
from xl_addin.packs.checks import (
    branch_file_problems,
    manifest_problems,
    missing_templates,
    needed_templates,
    stray_overrides,
)
from xl_addin.packs.lookup import BUILTIN, LANGUAGES, Pack, open_pack
from xl_addin.services.render_limits import pack_render_problems
from xl_addin.workbook.builder import policy_blocks
from xl_addin.workbook.reader import read_policy
from xl_addin.workbook.schema import POLICY_TABLES
from xl_addin.workbook.tables import RawTable


@dataclass(frozen=True, slots=True)
class BranchInfo:
    code: str
    name: str
    language: str
    overrides: tuple[str, ...]  # <lang>/<key>.docx the branch has its own version of


@dataclass(frozen=True, slots=True)
class PackInfo:
    folder: Path
    name: str
    version: str
    requires: str
    templates: tuple[str, ...]  # <lang>/<key>.docx
    branches: tuple[BranchInfo, ...]

    def as_dict(self) -> dict[str, object]:
        return {"folder": str(self.folder), "name": self.name, "version": self.version,
                "requires": self.requires, "templates": list(self.templates),
                "branches": [{"code": b.code, "name": b.name, "language": b.language,
                              "overrides": list(b.overrides)} for b in self.branches]}  # fmt: skip


POLICY_FOLDER = "policy"  # the pack's Policy: policy/<Table>.csv, as the Policy sheet's tables


def pack_policy(pack: Pack) -> tuple[Policy, tuple[Problem, ...]]:
    """The Policy the pack gives its branches (policy/Buckets.csv, Stages.csv ...: the
    Policy sheet's tables, headers first; a table left out keeps the shipped defaults),
    and every problem in it, located (policy/Stages.csv!D3)."""
    folder = pack.root / POLICY_FOLDER
    if not folder.is_dir():
        return DEFAULT_POLICY, ()
    known = {name.casefold(): name for name in POLICY_TABLES}
    tables, problems = {}, []
    for path in sorted(folder.glob("*.csv")):
        shown = pack.shown(path)
        name = known.get(path.stem.casefold())
        if name is None:
            problems.append(Problem(Source(shown), f"not a Policy table: name it one of "
                                                   f"{', '.join(POLICY_TABLES)}"))  # fmt: skip
            continue
        try:
            rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            problems.append(Problem(Source(shown), f"cannot be read as UTF-8 CSV ({error})"))
            continue
        if not rows:
            problems.append(Problem(Source(shown), "the file is empty"))
            continue
        body = [[_cell(v) for v in row] for row in rows[1:]]
        tables[name] = RawTable(shown, name, 1, 1, tuple(h.strip() for h in rows[0]), body)
    policy, found = read_policy(tables)
    return policy, tuple(problems + found)


def _cell(text: str) -> object:
    """A CSV cell as the Policy sheet would hold it: an ISO date as a date, else the text
    (the policy reader reads numbers from text)."""
    text = text.strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(text)
    return text


def write_policy_files(folder: Path, policy: Policy = DEFAULT_POLICY) -> None:
    """The Policy as the pack's policy/<Table>.csv files (UTF-8, for Excel too)."""
    folder.mkdir(parents=True, exist_ok=True)
    for block in policy_blocks(policy):
        with (folder / f"{block.name}.csv").open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(block.headers)
            for row in zip(*block.columns, strict=True):
                writer.writerow(["" if v is None else v for v in row])


def init_pack(folder: Path) -> Path:
    """Copy the shipped pack to `folder` (new or empty) as letters/, branches/, pack.toml."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise TemplateError(f"{folder} already exists and is not empty: choose a new folder")
    if not folder.parent.is_dir():
        raise TemplateError(f"{folder.parent}: no such folder")
    shipped = open_pack(None)
    folder.mkdir(exist_ok=True)
    for lang in LANGUAGES:
        shutil.copytree(BUILTIN / lang, folder / "letters" / lang)
    shutil.copytree(BUILTIN / "branches", folder / "branches")
    write_policy_files(folder / POLICY_FOLDER)
    (folder / "pack.toml").write_text(
        "[pack]\n"
        f'name = "{folder.name}"  # what head office calls this pack\n'
        f'version = "{shipped.version}"  # raise it with every change sent to the branches\n'
        f'requires = "{xl_addin.__version__}"  # the oldest credit-control that reads it\n'
        "\n"
        "# What one document may cost to render; a branch's Settings (RenderTimeLimit,\n"
        "# RenderSizeLimit) and the command line may change it.\n"
        "# [render]\n"
        "# time_limit = 5  # seconds (0.5 to 120)\n"
        "# size_limit = 5  # MB of XML (0.1 to 100)\n",
        encoding="utf-8",
    )
    return folder


def open_checked(folder: Path | None, branch: str | None = None) -> tuple[Pack | None,
                                                                          tuple[Problem, ...]]:
    """The pack, or why it cannot be opened (a broken pack.toml, a newer pack)."""
    try:
        return open_pack(folder, branch), ()
    except TemplateError as error:
        where = Path(folder) / "pack.toml" if folder else BUILTIN / "pack.toml"
        return None, (Problem(Source(where.as_posix()), str(error).split(": ", 1)[-1]),)


def check_pack(
    pack: Pack, policy: Policy = DEFAULT_POLICY, branches: Sequence[str] | None = None
) -> tuple[Problem, ...]:
    """Every problem of the pack for `branches` (default: all of its branches), with the
    pack's own Policy (when it has one) deciding which templates are needed."""
    own, policy_problems = pack_policy(pack)
    if (pack.root / POLICY_FOLDER).is_dir():
        policy = own
    needed = needed_templates(policy)
    problems: list[Problem] = [*manifest_problems(pack), *pack_render_problems(pack),
                               *policy_problems]  # fmt: skip
    checked: set[tuple[Path, str, str]] = set()
    codes = list(branches) if branches is not None else pack.branches()
    for code in codes or [None]:
        branch = pack.with_branch(code)
        if code:
            problems += branch_file_problems(branch) + stray_overrides(branch, needed)
        problems += missing_templates(branch, needed)
        for item in needed:
            for lang in LANGUAGES:
                try:
                    path = branch.template(item.key, lang)
                except TemplateError:
                    continue  # listed as missing above
                if (path, item.kind, lang) not in checked:
                    checked.add((path, item.kind, lang))
                    problems += template_problems(path, pack.shown(path), item.kind, lang,
                                                  branch.branch_profile(lang))  # fmt: skip
    return tuple(dict.fromkeys(problems))  # a pack file's problem once, whichever branch


def validate_pack(folder: Path, branch: str | None = None) -> tuple[Pack | None,
                                                                   tuple[Problem, ...]]:
    """Open and check the pack in `folder` (only `branch`, when given)."""
    if not Path(folder).is_dir():
        return None, (Problem(Source(Path(folder).as_posix()), "no such folder"),)
    pack, problems = open_checked(folder)
    if pack is None:
        return None, problems
    if branch and branch not in pack.branches():
        listed = ", ".join(pack.branches()) or "none"
        return pack, (Problem(Source(pack.shown(pack.branch_folder(branch))),
                              f"no such branch (the pack has: {listed})"),)  # fmt: skip
    return pack, check_pack(pack, branches=[branch] if branch else None)


def workbook_pack_problems(settings, policy: Policy, pack: Pack) -> tuple[Problem, ...]:
    """The pack checks for a workbook's branch and Policy, and its PackVersion."""
    problems = check_pack(pack, policy, [pack.branch] if pack.branch else [])
    recorded = str(settings.pack_version or "").strip()
    if recorded and recorded != pack.version:
        folder = settings.template_pack or "the built-in pack"
        problems += (Problem(settings.source("pack_version"), (
            f"the workbook was built from pack version {recorded} but {folder} is version "
            f"{pack.version}: bring the workbook to the pack's layout (credit-control upgrade) "
            f"or set PackVersion to {pack.version}")),)  # fmt: skip
    return problems


def pack_info(folder: Path) -> PackInfo:
    """What the pack in `folder` holds: manifest, templates, branches and their overrides."""
    pack = open_pack(Path(folder))
    templates = tuple(f"{lang}/{p.name}" for lang in LANGUAGES
                      for p in sorted((pack.letters() / lang).glob("*.docx")))  # fmt: skip
    branches = []
    for code in pack.branches():
        profile = pack.with_branch(code).branch_profile()
        own = pack.branch_folder(code) / "letters"
        overrides = tuple(p.relative_to(own).as_posix() for p in sorted(own.glob("*/*.docx")))
        branches.append(BranchInfo(code, profile.get("name", ""), profile.get("language", ""),
                                   overrides))  # fmt: skip
    return PackInfo(Path(folder), pack.name, pack.version, pack.requires, templates,
                    tuple(branches))  # fmt: skip
